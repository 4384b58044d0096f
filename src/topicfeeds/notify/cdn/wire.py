"""One HTTP/1.1 exchange with a peer that may misbehave, over by a deadline whatever it does.

Plain HTTP over a socket rather than urllib or http.client, as `notify/websub.py` does
for hubs: those follow redirects (urllib), read headers and bodies as long as the peer
sends them, and bound only each wait on the socket, which a peer that trickles a byte
now and then never meets. Here every wait is cut to the time left before the deadline,
the head of an answer is read up to HEAD_LIMIT bytes (a longer one is no answer) and
its body, when asked for, up to BODY_LIMIT, and a redirect is an answer like any other:
the caller decides, and follows none. (A slow name lookup is the resolver's to bound.)
"""

from __future__ import annotations

import re
import socket
import ssl
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ... import __version__
from .purger import time_left

# Status line and headers: all a purge needs of most answers.
HEAD_LIMIT = 8192
# A purge API's answer is a small JSON object; anything longer is not one.
BODY_LIMIT = 16384
_SAFE = "".join(chr(c) for c in range(33, 127))  # quote only what HTTP cannot carry as it is


@dataclass(frozen=True, slots=True)
class Reply:
    """The part of a peer's answer that was read."""

    status: int
    headers: dict[str, str]  # names in lower case; a header cut by HEAD_LIMIT is left out
    body: bytes  # b"" unless the body was asked for


def exchange(
    url: str,
    method: str,
    deadline: float,
    *,
    via: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    read_body: bool = False,
) -> Reply:
    """Send `method` for `url` and read the answer, all by `deadline` (monotonic).

    `via` (scheme://host:port) is where to connect instead of `url`'s own host, which
    then goes in the Host header, as a cache's purge endpoint wants. Raises TimeoutError
    when the deadline passes, OSError when the peer cannot be reached or drops the
    connection, ValueError when what it sends is not an HTTP answer (or is too long)."""
    parts = urllib.parse.urlsplit(url)
    peer = urllib.parse.urlsplit(via) if via else parts
    if parts.scheme not in ("http", "https") or peer.scheme not in ("http", "https") or not peer.hostname:
        raise ValueError("not an http(s) URL")
    target = urllib.parse.quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_SAFE)
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {parts.netloc.rpartition('@')[2]}",
        f"User-Agent: topicfeeds/{__version__}",
        *(f"{name}: {value}" for name, value in headers),
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    https = peer.scheme == "https"
    address = (peer.hostname, peer.port or (443 if https else 80))
    with socket.create_connection(address, timeout=time_left(deadline)) as raw:
        sock: Any = raw
        if https:
            raw.settimeout(time_left(deadline))  # the handshake, all told
            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=peer.hostname)
        with sock:
            sock.settimeout(time_left(deadline))  # sendall: the whole request
            sock.sendall(request)
            reader = _Reader(sock, deadline)
            status, answer_headers = reader.head()
            content = reader.body(answer_headers) if read_body and status not in (204, 304) else b""
    return Reply(status, answer_headers, content)


def reason_of(exc: BaseException) -> str:
    """A failed exchange in a few words."""
    if isinstance(exc, TimeoutError):
        return "no answer by the deadline"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: {exc.verify_message or 'certificate not trusted'}"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


class _Reader:
    """Reads an answer from `sock`, every wait cut to the time left."""

    def __init__(self, sock: Any, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.data = b""
        self.closed = False

    def _fill(self, most: int) -> None:
        self.sock.settimeout(time_left(self.deadline))
        chunk = self.sock.recv(max(1, most))
        self.closed = not chunk
        self.data += chunk

    def head(self) -> tuple[int, dict[str, str]]:
        """The status and headers; interim (1xx) answers are passed over."""
        while True:
            if not b"HTTP/".startswith(self.data[:5]):  # known from the first bytes
                raise ValueError("the answer is not HTTP")
            end = re.search(rb"\r?\n\r?\n", self.data)
            if end is None and len(self.data) < HEAD_LIMIT and not self.closed:
                self._fill(HEAD_LIMIT - len(self.data))
                continue
            if end is None and not self.closed:  # a head that does not end is no answer
                raise ValueError(f"the answer's head is longer than {HEAD_LIMIT} bytes")
            # The whole head, or as much as came before the peer closed the connection.
            text = self.data if end is None else self.data[: end.start()]
            lines = text[:HEAD_LIMIT].decode("latin-1").splitlines()
            found = re.match(r"HTTP/\d(?:\.\d)? ([0-9]{3})(?: |$)", lines[0] if lines else "")
            if found is None:
                raise ValueError("the answer is not HTTP" if self.data else "closed without an answer")
            status = int(found.group(1))
            if end is not None:
                self.data = self.data[end.end() :]
                if 100 <= status < 200:
                    continue
            complete = lines[1:] if end is not None else lines[1:-1]  # the last line may be cut
            fields = (line.partition(":") for line in complete)
            return status, {name.strip().lower(): value.strip() for name, colon, value in fields if colon}

    def body(self, headers: dict[str, str]) -> bytes:
        """The body, BODY_LIMIT bytes at most (ValueError beyond)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._chunked()
        length = headers.get("content-length")
        if length is not None:
            if not re.fullmatch(r"[0-9]{1,12}", length):
                raise ValueError("the answer's Content-Length is not a number")
            if int(length) > BODY_LIMIT:
                raise ValueError(f"the answer is longer than {BODY_LIMIT} bytes")
            while len(self.data) < int(length) and not self.closed:
                self._fill(int(length) - len(self.data))
            if len(self.data) < int(length):
                raise ValueError("the connection closed within the answer")
            return self.data[: int(length)]
        while not self.closed and len(self.data) <= BODY_LIMIT:
            self._fill(BODY_LIMIT + 1 - len(self.data))
        if len(self.data) > BODY_LIMIT:
            raise ValueError(f"the answer is longer than {BODY_LIMIT} bytes")
        return self.data

    def _chunked(self) -> bytes:
        out = b""
        while True:
            while b"\n" not in self.data[:64] and len(self.data) < 64 and not self.closed:
                self._fill(64)
            line, newline, rest = self.data.partition(b"\n")
            size = line.split(b";")[0].strip()
            if not newline or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size):
                raise ValueError("the answer's chunked body is malformed")
            count = int(size, 16)
            if count == 0:
                return out
            if len(out) + count > BODY_LIMIT:
                raise ValueError(f"the answer is longer than {BODY_LIMIT} bytes")
            self.data = rest
            while len(self.data) < count + 2 and not self.closed:
                self._fill(count + 2 - len(self.data))
            if len(self.data) < count:
                raise ValueError("the connection closed within the answer")
            out += self.data[:count]
            self.data = self.data[count:].removeprefix(b"\r\n").removeprefix(b"\n")
