"""Peers a purge meets, on loopback: a raw HTTP server whose answers a test writes (well,
slowly, endlessly, or not HTTP at all), a port nobody listens on, and nginx and Varnish
started from the shipped deploy/nginx.conf and deploy/varnish.vcl; and a site that
`topicfeeds build` publishes with a `cdn:` of the test's."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conftest import BASE_CONFIG, make_config, record_fields, record_text, require_program

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Request:
    """One request as a peer received it."""

    method: str
    target: str
    headers: dict[str, str]  # names in lower case
    body: bytes


Answer = Callable[[Request, socket.socket], None]


@dataclass
class Peer:
    """A loopback HTTP server: every request is recorded, then `answer` writes to the
    connection whatever it likes."""

    answer: Answer
    requests: list[Request] = field(default_factory=list)
    active: int = 0
    most_active: int = 0  # requests in hand at once (received, not yet answered), at the most
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
                while len(body) < int(headers.get("content-length", "0")):
                    body += conn.recv(65536)
                request = Request(method, target, headers, body)
                with self.lock:
                    self.requests.append(request)
                    self.active += 1
                    self.most_active = max(self.most_active, self.active)
                answering = _Answering(conn, self._answered)
                try:
                    self.answer(request, answering)  # type: ignore[arg-type]
                finally:
                    answering.done()

    def _answered(self) -> None:
        with self.lock:
            self.active -= 1


class _Answering:
    """A connection as an answer writes to it. The first write ends the request's time
    in hand, before the client can read the answer and send its next request: counted
    after the write, a request answered could still count when the next one came."""

    def __init__(self, conn: socket.socket, answered: Callable[[], None]) -> None:
        self._conn = conn
        self._answered: Callable[[], None] | None = answered

    def done(self) -> None:
        if self._answered is not None:
            self._answered()
            self._answered = None

    def sendall(self, data: bytes) -> None:
        self.done()
        self._conn.sendall(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


@contextlib.contextmanager
def peer(answer: Answer) -> Iterator[Peer]:
    made = Peer(answer)
    try:
        yield made
    finally:
        made.close()


def reply(
    status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = (), delay: float = 0
) -> Answer:
    """A complete answer, after `delay` seconds."""

    def answer(request: Request, conn: socket.socket) -> None:
        time.sleep(delay)
        lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}"]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    return answer


def trickle(request: Request, conn: socket.socket) -> None:
    """A valid answer's head, a byte every tenth of a second, never ending."""
    text = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 100_000
    with contextlib.suppress(OSError):
        for byte in text:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)


def flood(prefix: bytes) -> Answer:
    """`prefix`, then bytes without end until the client hangs up."""

    def answer(request: Request, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(prefix)
            block = b"x" * 65536
            for _ in range(2000):  # 128 MiB: far past any limit, short of for ever
                conn.sendall(block)

    return answer


def refused_url() -> str:
    """An address nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- real caches


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise AssertionError(f"{what} exited with status {process.returncode}: {text[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on port {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_nginx(folder: Path) -> Iterator[int]:
    """nginx serving `folder` with the shipped server block; yields its port."""
    program = require_program("nginx")
    prefix = Path(tempfile.mkdtemp(prefix="topicfeeds-cdn-nginx-"))
    try:
        port = free_port()
        block = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        block, listens = re.subn(r"listen 80; .*", f"listen 127.0.0.1:{port};", block)
        block, roots = re.subn(r"root /srv/news/feeds; .*", f"root {folder};", block)
        assert listens == roots == 1
        (prefix / "site.conf").write_text(block, encoding="utf-8")
        (prefix / "temp").mkdir()
        paths = " ".join(
            f"{k}_temp_path {prefix}/temp/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n  access_log off;\n  {paths}\n  include {prefix}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        log = prefix / "error.log"
        server = subprocess.Popen(
            [program, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(log)],
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, server, "nginx", log)
            yield port
        finally:
            stop(server)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


@contextlib.contextmanager
def running_varnish(backend_port: int) -> Iterator[int]:
    """Varnish with the shipped deploy/varnish.vcl, its backend on `backend_port`; yields
    its port. Started as root, varnishd drops to its own users (varnish for the manager,
    vcache for the cache), so its working folder must be theirs to read: outside pytest's
    private temporary folder.

    The kernel picks the port as varnishd binds it (port 0), and varnishadm says which:
    varnishd listens with SO_REUSEPORT, so two of them given the same free-looking port
    by two test workers would both bind it and share its connections, and a purge sent
    to one would leave the other's copy to be read."""
    program = require_program("varnishd")
    admin = require_program("varnishadm")
    work = Path(tempfile.mkdtemp(prefix="topicfeeds-varnish-"))
    work.chmod(0o755)
    try:
        vcl = (ROOT / "deploy" / "varnish.vcl").read_text(encoding="utf-8")
        # Only the lines the file marks as the reader's own change.
        vcl, hosts = re.subn(r'\.host = "[^"]*"; .*', '.host = "127.0.0.1";', vcl)
        vcl, ports = re.subn(r'\.port = "[^"]*"; .*', f'.port = "{backend_port}";', vcl)
        assert hosts == ports == 1
        (work / "site.vcl").write_text(vcl, encoding="utf-8")
        (work / "site.vcl").chmod(0o644)
        log = work / "varnishd.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [program, "-n", str(work / "n"), "-a", "127.0.0.1:0", "-f", str(work / "site.vcl"),
                 "-s", "malloc,32m", "-F"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            port = _varnish_port(admin, work / "n", server, log)
            wait_for_port(port, server, "varnishd", log)
            yield port
        finally:
            stop(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _varnish_port(admin: str, name: Path, server: subprocess.Popen[bytes], log: Path) -> int:
    """The port the varnishd whose working folder is `name` listens on, once it does."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            text = log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"varnishd exited with status {server.returncode}: {text}")
        said = subprocess.run([admin, "-n", str(name), "-t", "5", "debug.listen_address"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        found = re.search(r"^\S+ 127\.0\.0\.1 (\d+)$", said.stdout, re.MULTILINE)
        if said.returncode == 0 and found:
            return int(found.group(1))
        time.sleep(0.1)
    raise AssertionError(f"varnishd did not say where it listens: {log.read_text(errors='replace')[-2000:]}")


def get(port: int, path: str, host: str = "", accept: str = "application/atom+xml") -> tuple[int, bytes]:
    """The status and body of a GET through the server on `port`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Accept": accept, **({"Host": host} if host else {})}
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


# -- the command


def story(title: str) -> str:
    """A record of topic Energy titled `title`."""
    return record_text(
        record_fields(title=title, webUrl="https://news.example/1", originalUrl=..., topics=["Energy"])
    )


def make_site(
    root: Path, *, hub: str | None, cdn: str | None, base_url: str = "", output: Path | None = None
) -> Path:
    """A site in `root` with one record, telling `hub` (a publish URL) and configured with
    the `cdn:` mapping `cdn` (YAML flow text; None: no CDN); its config file."""
    text = BASE_CONFIG
    if base_url:
        text = text.replace("https://news.example/feeds/", base_url)
    if hub is not None:
        text = text.replace("  author: Test Newsroom\n", f"  author: Test Newsroom\n  hubs: ['{hub}']\n")
    if output is not None:
        text = text.replace("output: feeds\n", f"output: {output}\n")
    if cdn is not None:
        text += f"cdn: {cdn}\n"
    make_config(root, text)
    (root / "seeds" / "1.txt").write_text(story("Batteries"), encoding="utf-8")
    return root / "config.yaml"


def build(config: Path, env: dict[str, str] | None = None, *more: str) -> dict[str, Any]:
    """`topicfeeds build --json`'s summary, with its standard error under "stderr" and its
    standard output under "stdout"."""
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "--json", "-c", str(config), *more],
        capture_output=True, text=True, timeout=120, check=False, env=os.environ if env is None else env,
    )  # fmt: skip
    out: dict[str, Any] = json.loads(result.stdout)
    assert out["status"] == result.returncode
    return {**out, "stderr": result.stderr, "stdout": result.stdout}
