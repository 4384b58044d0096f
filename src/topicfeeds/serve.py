"""A preview server over the output folder: what the files look like when served.

For previews on one machine, not for production (see deploy/nginx.conf). It serves
the right media types, ETag and Last-Modified with 304 answers, HEAD, gzip when asked,
never a dot-file or a path outside the folder, and answers a browser navigating to an
Atom or RSS file with an XML type it styles with the feed's stylesheet (Chromium shows
application/atom+xml as plain text and Firefox downloads it) while feed readers get
the registered type; `Vary: Accept` tells caches the two apart.

The files carry the config's `site.base_url`, the production address; served here, the
text files get this server's own address in its place, so that a browser or a feed
reader fed the OPML file stays on the preview. A fixed number of connections is served
at once (the others wait in the listen queue); a client has a few seconds to send a
request line and headers, which also ends an idle kept-alive connection; a client that
hangs up or goes silent is dropped without a word.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import io
import ipaddress
import os
import posixpath
import re
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from .core.archive import is_archive
from .errors import OutputError
from .formats.spec import file_types, websub_suffixes

# Files a served folder may hold that no format makes (the formats' own types, and
# what a browser gets of a feed instead, are their registry's: formats/spec.py).
OTHER_TYPES = {".xml": "application/xml", ".txt": "text/plain"}
COMPRESSIBLE_BELOW = 64  # bytes: smaller bodies are sent as they are

WORKERS = 32  # connections served at once; the next ones wait in the listen queue
BACKLOG = 128  # the listen queue: a burst of readers waits there rather than being refused
REQUEST_SECONDS = 5.0  # for a request line and its headers, or a body; also the keep-alive idle time
SEND_SECONDS = 30.0  # for each 64 KiB of an answer a client is slow to take
LINGER_SECONDS = 2.0  # reading what a refused client still sends, so that it sees the refusal
MAX_BODY = 64 * 1024  # bytes of a request body read (and dropped); a longer one is refused


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server sends for one request: status, headers, body."""

    status: HTTPStatus
    headers: tuple[tuple[str, str], ...]
    body: bytes


def media_type(suffix: str, accept: str) -> tuple[str, bool]:
    """The Content-Type for a file with `suffix` asked for with `accept`, and whether
    the answer depends on Accept (then it carries `Vary: Accept`)."""
    known = file_types().get(suffix)
    if known is None:
        return OTHER_TYPES.get(suffix, "application/octet-stream"), False
    if known.browser_type is None:
        return known.media_type, False
    wants_page = "text/html" in _accepted(accept)
    return (known.browser_type if wants_page else known.media_type), True


def rewritten(suffix: str) -> bool:
    """Whether a file with `suffix` is text that may hold site.base_url, which a preview
    gives as its own address: every file but a stylesheet."""
    known = file_types().get(suffix)
    return suffix in OTHER_TYPES if known is None else known.kind != "stylesheets"


@dataclass(frozen=True, slots=True)
class WebSub:
    """The WebSub discovery a feed's answer carries (the config's site.hubs)."""

    base_url: str  # where the output folder is served, for the rel="self" link
    hubs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Preview:
    """The production address the files carry and the address they are served at here."""

    base_url: str  # the config's site.base_url, as the files spell it
    origin: str  # this server as the client reached it: "http://127.0.0.1:8000/"


def answer(
    root: Path,
    method: str,
    target: str,
    headers: dict[str, str],
    websub: WebSub | None = None,
    preview: Preview | None = None,
) -> Answer:
    """The answer to `method target` with request `headers` (names lowercase), served
    from folder `root`; with `websub`, feeds carry `Link` headers naming their hubs
    and themselves; with `preview`, text files name `preview.origin` where they name
    the production base URL. Pure but for reading the file: tested without a socket."""
    if method not in ("GET", "HEAD"):
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, (("Allow", "GET, HEAD"),))
    path = _resolve(root, target)
    if path is None:
        return _error(HTTPStatus.NOT_FOUND)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return _error(HTTPStatus.NOT_FOUND)
        body = path.read_bytes()
    except OSError:
        return _error(HTTPStatus.NOT_FOUND)
    moved = False
    if preview is not None and rewritten(path.suffix):
        kept, body = body, preview_links(body, preview.base_url, preview.origin)
        moved = body != kept
    content_type, varies = media_type(path.suffix, headers.get("accept", ""))
    if content_type.startswith("text/") or content_type.endswith(("xml", "json")):
        content_type += "; charset=utf-8"
    vary = ["Accept"] if varies else []
    use_gzip = len(body) >= COMPRESSIBLE_BELOW and "gzip" in _accepted(headers.get("accept-encoding", ""))
    if len(body) >= COMPRESSIBLE_BELOW:
        vary.append("Accept-Encoding")
    # A rewritten body's tag is made from its bytes: served at another address, it differs.
    version = f"{st.st_size:x}"
    if moved:
        version = f"{len(body):x}-{hashlib.blake2b(body, digest_size=6).hexdigest()}"
    etag = f'"{st.st_mtime_ns:x}-{version}{"-gzip" if use_gzip else ""}"'
    common = [
        ("ETag", etag),
        ("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True)),
        ("Cache-Control", "no-cache"),  # a preview: always ask again
        ("X-Content-Type-Options", "nosniff"),
    ]
    if vary:
        common.append(("Vary", ", ".join(vary)))
    # An archive page never changes: no hub announces it.
    if websub is not None and websub.hubs and path.suffix in websub_suffixes() and not is_archive(path.name):
        where = websub.base_url if preview is None else preview.origin
        self_url = where + path.relative_to(root).as_posix()
        common += [("Link", f'<{hub}>; rel="hub"') for hub in websub.hubs]
        common.append(("Link", f'<{self_url}>; rel="self"'))
    if _not_modified(headers, etag, st.st_mtime):
        return Answer(HTTPStatus.NOT_MODIFIED, tuple(common), b"")
    if use_gzip:
        body = gzip.compress(body, mtime=0)
        common.append(("Content-Encoding", "gzip"))
    out = (("Content-Type", content_type), ("Content-Length", str(len(body))), *common)
    return Answer(HTTPStatus.OK, out, b"" if method == "HEAD" else body)


def preview_links(body: bytes, base_url: str, origin: str) -> bytes:
    """`body` with every address under `base_url` moved to the same path under `origin`."""
    if not base_url or base_url == origin:
        return body
    return body.replace(base_url.encode("utf-8"), origin.encode("utf-8"))


_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)


def origin_of(host: str | None, fallback: str) -> str:
    """This server's address as a client reached it (its `Host` header), or `fallback`
    when the header is missing or is not a host name or address with a port."""
    if host is None or not _HOST.fullmatch(host):
        return fallback
    return f"http://{host.lower()}/"


def request_body(lengths: list[str], codings: list[str]) -> int | Answer:
    """How many bytes of body follow a request with these Content-Length and
    Transfer-Encoding headers, to be read and dropped; or the refusal to send (and
    close the connection after: what follows cannot be told from the next request)."""
    close = (("Connection", "close"),)
    if codings:  # chunked or other: a preview has no use for it, so none is decoded
        return _error(HTTPStatus.LENGTH_REQUIRED, close)
    values = {v.strip() for length in lengths for v in length.split(",")}
    if not values:
        return 0
    if len(values) > 1 or not all(v.isdigit() and v.isascii() for v in values):
        return _error(HTTPStatus.BAD_REQUEST, close)
    length = int(values.pop())
    if length > MAX_BODY:
        return _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close)
    return length


def check_folder(root: Path) -> None:
    """Refuse to serve `root` unless it is a folder (exit status 2); it need not be
    writable, and the records folder plays no part."""
    if not root.exists():
        raise OutputError(f"{root}: output folder does not exist; build the feeds first")
    if not root.is_dir():
        raise OutputError(f"{root}: output path is not a folder")


def _resolve(root: Path, target: str) -> Path | None:
    """The file `target` names inside `root`, or None: no dot-file, nothing outside."""
    try:
        raw = unquote(urlsplit(target).path, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith("/") or "\0" in raw or "\\" in raw:
        return None
    parts = [p for p in posixpath.normpath(raw).split("/") if p]
    if raw.endswith("/") or not parts:
        parts.append("index.html")
    if any(p.startswith(".") for p in parts):
        return None  # dot-files (temporary files included) and any ".."
    path = root.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
        folder = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(folder):
        return None
    # A link inside the folder may lead to a dot-file: what it leads to counts.
    return None if any(p.startswith(".") for p in real.relative_to(folder).parts) else real


def _accepted(header: str) -> set[str]:
    """The values a comma-separated Accept-style header accepts (q=0 refuses)."""
    values = set()
    for item in header.split(","):
        value, *params = (p.strip() for p in item.split(";"))
        refused = any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
        if value and not refused:
            values.add(value.lower())
    return values


def _not_modified(headers: dict[str, str], etag: str, mtime: float) -> bool:
    match = headers.get("if-none-match")
    if match is not None:  # it takes precedence over If-Modified-Since (RFC 9110)
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return int(mtime) <= when.timestamp()
    return False


def _error(status: HTTPStatus, extra: tuple[tuple[str, str], ...] = ()) -> Answer:
    body = f"{status.value} {status.phrase}\n".encode()
    headers = (("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra)
    return Answer(status, headers, body)


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
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
