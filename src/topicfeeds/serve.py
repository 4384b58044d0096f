"""A preview server over the output folder: what the files look like when served.

For previews on one machine, not for production (see deploy/nginx.conf). It serves
the right media types, ETag and Last-Modified with 304 answers, HEAD, gzip when asked,
never a dot-file or a path outside the folder, and answers a browser navigating to an
Atom or RSS file with an XML type it styles with the feed's stylesheet (Chromium shows
application/atom+xml as plain text and Firefox downloads it) while feed readers get
the registered type; `Vary: Accept` tells caches the two apart.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import ipaddress
import os
import posixpath
import socket
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

from .archive import is_archive

MEDIA_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".json": "application/feed+json",
    ".opml": "text/x-opml",
    ".css": "text/css",
    ".html": "text/html",
    ".xml": "application/xml",
    ".txt": "text/plain",
}
# What a browser gets instead of a feed's registered type: one it renders with CSS.
BROWSER_FEED_TYPE = "application/xml"
STYLED_FEEDS = (".atom", ".rss")
COMPRESSIBLE_BELOW = 64  # bytes: smaller bodies are sent as they are


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server sends for one request: status, headers, body."""

    status: HTTPStatus
    headers: tuple[tuple[str, str], ...]
    body: bytes


def media_type(suffix: str, accept: str) -> tuple[str, bool]:
    """The Content-Type for a file with `suffix` asked for with `accept`, and whether
    the answer depends on Accept (then it carries `Vary: Accept`)."""
    registered = MEDIA_TYPES.get(suffix, "application/octet-stream")
    if suffix not in STYLED_FEEDS:
        return registered, False
    wants_page = "text/html" in _accepted(accept)
    return (BROWSER_FEED_TYPE if wants_page else registered), True


@dataclass(frozen=True, slots=True)
class WebSub:
    """The WebSub discovery a feed's answer carries (the config's site.hubs)."""

    base_url: str  # where the output folder is served, for the rel="self" link
    hubs: tuple[str, ...]


FEED_SUFFIXES = (".atom", ".rss", ".json")


def answer(
    root: Path, method: str, target: str, headers: dict[str, str], websub: WebSub | None = None
) -> Answer:
    """The answer to `method target` with request `headers` (names lowercase), served
    from folder `root`; with `websub`, feeds carry `Link` headers naming their hubs
    and themselves. Pure but for reading the file: tested without a socket."""
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
    content_type, varies = media_type(path.suffix, headers.get("accept", ""))
    if content_type.startswith("text/") or content_type.endswith(("xml", "json")):
        content_type += "; charset=utf-8"
    vary = ["Accept"] if varies else []
    use_gzip = len(body) >= COMPRESSIBLE_BELOW and "gzip" in _accepted(headers.get("accept-encoding", ""))
    if len(body) >= COMPRESSIBLE_BELOW:
        vary.append("Accept-Encoding")
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}{"-gzip" if use_gzip else ""}"'
    common = [
        ("ETag", etag),
        ("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True)),
        ("Cache-Control", "no-cache"),  # a preview: always ask again
        ("X-Content-Type-Options", "nosniff"),
    ]
    if vary:
        common.append(("Vary", ", ".join(vary)))
    # An archive page never changes: no hub announces it.
    if websub is not None and websub.hubs and path.suffix in FEED_SUFFIXES and not is_archive(path.name):
        self_url = websub.base_url + path.relative_to(root).as_posix()
        common += [("Link", f'<{hub}>; rel="hub"') for hub in websub.hubs]
        common.append(("Link", f'<{self_url}>; rel="self"'))
    if _not_modified(headers, etag, st.st_mtime):
        return Answer(HTTPStatus.NOT_MODIFIED, tuple(common), b"")
    if use_gzip:
        body = gzip.compress(body, mtime=0)
        common.append(("Content-Encoding", "gzip"))
    out = (("Content-Type", content_type), ("Content-Length", str(len(body))), *common)
    return Answer(HTTPStatus.OK, out, b"" if method == "HEAD" else body)


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
    except (OSError, RuntimeError):
        return None
    return real if real.is_relative_to(root.resolve()) else None


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


def make_server(root: Path, bind: str, port: int, *, log: TextIO | None = None,
                websub: WebSub | None = None) -> ThreadingHTTPServer:  # fmt: skip
    """A server for folder `root`, bound but not yet serving (`serve_forever` starts it)."""
    folder = root.resolve()
    server_class = _Server6 if ":" in bind else ThreadingHTTPServer
    server = server_class((bind, port), _handler(folder, log, websub))
    server.daemon_threads = True
    return server


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _handler(
    folder: Path, log: TextIO | None, websub: WebSub | None
) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # every answer has a length: connections are kept

        def version_string(self) -> str:
            return "topicfeeds-preview"

        def _reply(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            result = answer(folder, self.command, self.path, headers, websub)
            self.send_response(result.status)
            for name, value in result.headers:
                self.send_header(name, value)
            self.end_headers()
            if result.body and self.command != "HEAD":
                self.wfile.write(result.body)

        # Every method gets an answer; all but GET and HEAD are refused with 405.
        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _reply

        def log_message(self, format: str, *args: object) -> None:
            if log is not None:
                log.write(f"{self.address_string()} - {format % args}\n")

    return Handler


def serve(root: Path, bind: str, port: int, websub: WebSub | None = None) -> None:
    """Serve `root` until interrupted, logging requests to standard error."""
    with make_server(root, bind, port, log=sys.stderr, websub=websub) as server:
        host, actual = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        print(f"topicfeeds: previewing {os.fspath(root)} at http://{shown}:{actual}/ (Ctrl-C stops)",
              file=sys.stderr, flush=True)  # fmt: skip
        if not ipaddress.ip_address(host).is_loopback:
            print("topicfeeds: warning: other machines can reach this preview server; it is not "
                  "meant for production", file=sys.stderr, flush=True)  # fmt: skip
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
