"""The preview server itself: sockets, a bounded pool of connections, deadlines for slow
or silent clients, and quiet hang-ups; each request is answered by answer.py."""

from __future__ import annotations

import contextlib
import io
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from ..runtime.signals import ENDING
from .answer import REQUEST_SECONDS, Answer, Preview, WebSub, answer, origin_of, request_body

WORKERS = 32  # connections served at once; the next ones wait in the listen queue
BACKLOG = 128  # the listen queue: a burst of readers waits there rather than being refused
SEND_SECONDS = 30.0  # for each 64 KiB of an answer a client is slow to take
LINGER_SECONDS = 2.0  # reading what a refused client still sends, so that it sees the refusal


def make_server(root: Path, bind: str, port: int, *, log: TextIO | None = None, websub: WebSub | None = None,
                base_url: str | None = None) -> ThreadingHTTPServer:  # fmt: skip
    """A server for folder `root`, bound but not yet serving (`serve_forever` starts it);
    with `base_url`, text files name this server where they name `base_url`."""
    folder = root.resolve()
    server_class = _Server6 if ":" in bind else _Server
    return server_class((bind, port), _handler(folder, log, websub, base_url))


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most WORKERS at once: a connection is accepted only
    when a worker is free, so the others wait in the kernel's listen queue."""

    request_queue_size = BACKLOG
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Callable[..., BaseHTTPRequestHandler]) -> None:
        self._workers = threading.BoundedSemaphore(WORKERS)
        self._stopping = threading.Event()
        super().__init__(address, handler)

    def get_request(self) -> tuple[Any, Any]:
        while not self._workers.acquire(timeout=0.25):
            if self._stopping.is_set():
                raise OSError("the server is stopping")  # the serving loop skips it
        try:
            return super().get_request()
        except BaseException:
            self._workers.release()
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._workers.release()  # no thread was started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._workers.release()

    def shutdown(self) -> None:
        self._stopping.set()
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or goes silent is routine: a browser cancels loads.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, _Late)):
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Late(Exception):
    """The client did not send its request (or body) in the time it has."""


class _Timed(io.RawIOBase):
    """A socket's reading side on a clock: each read gets the time left until the
    deadline, so a request that trickles in a byte at a time still ends on time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._deadline = time.monotonic()

    def start(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _Late
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer)
        except TimeoutError:
            raise _Late from None


def _handler(
    folder: Path, log: TextIO | None, websub: WebSub | None, base_url: str | None
) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # every answer has a length: connections are kept

        def version_string(self) -> str:
            return "topicfeeds-preview"

        def setup(self) -> None:
            super().setup()
            self.rfile.close()
            self._clock = _Timed(self.connection)
            self.rfile = io.BufferedReader(self._clock)

        def handle_one_request(self) -> None:
            self._clock.start(REQUEST_SECONDS)
            try:
                super().handle_one_request()
            except (ConnectionError, _Late):
                self.close_connection = True  # hung up or silent: nothing to answer

        def handle_expect_100(self) -> bool:
            # "100 Continue" only for a body that will be read; a refusal comes instead.
            if isinstance(self._body(), Answer):
                return True
            return super().handle_expect_100()

        def _body(self) -> int | Answer:
            return request_body(
                self.headers.get_all("Content-Length", []), self.headers.get_all("Transfer-Encoding", [])
            )

        def _reply(self) -> None:
            body = self._body()
            if isinstance(body, Answer):
                self._send(body)
                self._linger()
                return
            self._clock.start(REQUEST_SECONDS)
            while body > 0:  # read and dropped, so that it is not taken for the next request
                got = self.rfile.read(min(body, 65536))
                if not got:
                    self.close_connection = True
                    return
                body -= len(got)
            headers = {k.lower(): v for k, v in self.headers.items()}
            preview = None
            if base_url is not None:
                host, port = self.connection.getsockname()[:2]  # where this client reached us
                shown = f"[{host}]" if ":" in host else host
                preview = Preview(base_url, origin_of(self.headers.get("Host"), f"http://{shown}:{port}/"))
            self._send(answer(folder, self.command, self.path, headers, websub, preview))

        def _send(self, result: Answer) -> None:
            try:
                self.connection.settimeout(SEND_SECONDS)
                self.send_response(result.status)
                for name, value in result.headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    view = memoryview(result.body)
                    for start in range(0, len(view), 65536):
                        self.wfile.write(view[start : start + 65536])
            except TimeoutError:
                raise _Late from None

        def _linger(self) -> None:
            # Closing with unread bytes would reset the connection, and the client could
            # lose the refusal before reading it: read a moment longer, then close.
            with contextlib.suppress(OSError, _Late):
                self.connection.shutdown(socket.SHUT_WR)
                self._clock.start(LINGER_SECONDS)
                while self.rfile.read1(65536):
                    pass

        # Every method gets an answer; all but GET and HEAD are refused with 405.
        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _reply

        def log_message(self, format: str, *args: object) -> None:
            if log is not None:
                log.write(f"{self.address_string()} - {format % args}\n")

    return Handler


def serve(
    root: Path, bind: str, port: int, websub: WebSub | None = None, base_url: str | None = None
) -> None:
    """Serve `root` until interrupted, logging requests to standard error; with
    `base_url`, text files name this server where they name `base_url`."""
    with make_server(root, bind, port, log=sys.stderr, websub=websub, base_url=base_url) as server:
        host, actual = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        print(f"topicfeeds: previewing {os.fspath(root)} at http://{shown}:{actual}/ (Ctrl-C stops)",
              file=sys.stderr, flush=True)  # fmt: skip
        if not ipaddress.ip_address(host).is_loopback:
            print("topicfeeds: warning: other machines can reach this preview server; it is not "
                  "meant for production", file=sys.stderr, flush=True)  # fmt: skip

        # SIGTERM and ^C stop the serving loop from a thread of their own rather than
        # raise where the main thread happens to be: raised while it started a
        # connection's thread, the exit was taken for a failed start and lost, and the
        # server went on serving.
        def stop(signum: int, frame: object) -> None:
            threading.Thread(target=server.shutdown, daemon=True).start()

        previous = {signum: signal.signal(signum, stop) for signum in ENDING}
        try:
            server.serve_forever()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
