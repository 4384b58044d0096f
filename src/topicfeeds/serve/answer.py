"""What the preview server answers a request with, worked out from the request and the
folder: media types, conditional GET, gzip, a body's length, the preview's own address
in place of the production one, and never a dot-file or a path outside the folder. The
server around it (server.py) only moves bytes."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import posixpath
import re
import stat
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..core.archive import is_archive
from ..errors import OutputError
from ..formats.spec import file_types, websub_suffixes

# Files a served folder may hold that no format makes (the formats' own types, and
# what a browser gets of a feed instead, are their registry's: formats/spec.py).
OTHER_TYPES = {".xml": "application/xml", ".txt": "text/plain"}
COMPRESSIBLE_BELOW = 64  # bytes: smaller bodies are sent as they are

REQUEST_SECONDS = 5.0  # for a request line and its headers, or a body; also the keep-alive idle time
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
