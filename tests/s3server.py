"""An S3-compatible server on loopback for the tests: moto's standalone server, behind
a small proxy that counts requests and can misbehave on purpose (answer 503 for a
while, or stop answering as a server that went away)."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
ACCESS_DENIED = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Faults:
    """What the proxy does besides passing requests on."""

    unavailable: int = 0  # answer this many next requests with 503 SlowDown
    stop_after_puts: int | None = None  # let this many PUTs through, then stop answering
    forbidden: frozenset[str] = frozenset()  # methods answered 403 AccessDenied (a narrow policy)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) passed on
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str) -> int:
        with self.lock:
            return sum(1 for m, _ in self.requests if m == method)

    def puts(self) -> list[str]:
        with self.lock:
            return [p for m, p in self.requests if m == "PUT"]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.unavailable = 0
            self.stop_after_puts = None
            self.forbidden = frozenset()


class Proxy:
    """Passes HTTP requests on to `upstream` (host, port), unless told to fail."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.faults = Faults()
        faults = self.faults

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with faults.lock:
                    if faults.stop_after_puts is not None and faults.stop_after_puts <= 0:
                        self.close_connection = True  # gone: no answer at all
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    denied = self.command in faults.forbidden
                    if denied:
                        unavailable = False
                    elif faults.unavailable > 0:
                        faults.unavailable -= 1
                        unavailable = True
                    else:
                        unavailable = False
                        faults.requests.append((self.command, self.path))
                        if self.command == "PUT" and faults.stop_after_puts is not None:
                            faults.stop_after_puts -= 1
                if denied or unavailable:
                    text = ACCESS_DENIED if denied else SLOW_DOWN
                    self.send_response(403 if denied else 503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                conn = http.client.HTTPConnection(*upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class S3Server:
    """moto on loopback (`direct`) and the proxy in front of it (`url`)."""

    direct: str
    proxy: Proxy

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def faults(self) -> Faults:
        return self.proxy.faults

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.direct, region_name="us-east-1")

    def reset(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", int(self.direct.rsplit(":", 1)[1]), timeout=10)
        conn.request("POST", "/moto-api/reset")
        conn.getresponse().read()
        conn.close()
        self.faults.clear()


def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials moto takes, from the environment alone (which a command the test
    starts inherits): no shared file, profile, endpoint or proxy of the machine's."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(key, raising=False)


@contextmanager
def running_s3() -> Iterator[S3Server]:
    """moto's server and the proxy, started here; a server that cannot start fails the
    test under CI=true and skips it elsewhere."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        message = f"moto's server is not installed (pip install -e '.[test]'): {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    proxy = Proxy(("127.0.0.1", port))
    try:
        yield S3Server(f"http://127.0.0.1:{port}", proxy)
    finally:
        proxy.close()
        server.stop()
