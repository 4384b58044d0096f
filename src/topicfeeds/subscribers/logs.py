"""Access logs read as hits: one small record per request, whichever server wrote it.

Each log format is a module with a `LogFormat` (combined.py for nginx and Apache,
cloudfront.py, s3access.py): a test of a file's first line, and a parser that turns
one line at a time into a `Hit`. A parser is made afresh for each file, so that a
format whose lines depend on a header (CloudFront's `#Fields:`) can keep it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple


class Hit(NamedTuple):
    """One request, as a log line tells it. A named tuple, not a dataclass: a gigabyte
    of log holds millions of lines, and a tuple is made in a third of the time."""

    time: datetime  # when it was logged, in UTC
    address: str  # the client's address as logged
    method: str  # GET, HEAD, ...; "" when the request line could not be read
    path: str  # as requested, still percent-encoded, without the query string ("" when unknown)
    status: int  # the answer's status code; 0 when the log gives none
    agent: str  # the User-Agent header; "" when there was none


# A line's parser: the hit it logs, None for a line without a request (a header, a
# blank line), or a few words saying why the line cannot be read.
Parser = Callable[[str], Hit | str | None]


@dataclass(frozen=True, slots=True)
class LogFormat:
    """A kind of access log."""

    name: str  # as --format names it
    label: str  # as messages name it
    sniff: Callable[[str], bool]  # whether a file starting with this line is in the format
    parser: Callable[[], Parser]  # a parser for one file's lines, from its first line on


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {name: n for n, name in enumerate(_MONTH_NAMES, 1)}


def clf_time(text: str) -> datetime:
    """The UTC time of a common-log-format stamp, `28/Nov/2026:10:00:00 +0100`;
    ValueError when it is not one."""
    if len(text) != 26 or text[2] != "/" or text[6] != "/" or text[11] != ":" or text[20] != " ":
        raise ValueError(text)
    month = MONTHS.get(text[3:6])
    sign = text[21]
    if month is None or sign not in "+-":
        raise ValueError(text)
    logged = datetime(
        int(text[7:11]), month, int(text[0:2]), int(text[12:14]), int(text[15:17]), int(text[18:20]),
        tzinfo=timezone.utc,
    )  # fmt: skip
    offset = timedelta(hours=int(text[22:24]), minutes=int(text[24:26]))
    return logged - offset if sign == "+" else logged + offset


def target_path(target: str) -> str:
    """The path of a request target: without scheme and host (a proxy's absolute form)
    and without the query string or fragment."""
    if target[:1] == "/" and "?" not in target and "#" not in target:
        return target  # as almost every request names it
    if target.startswith(("http://", "https://")):
        slash = target.find("/", target.index("//") + 2)
        target = target[slash:] if slash >= 0 else "/"
    end = len(target)
    for mark in "?#":
        at = target.find(mark)
        if 0 <= at < end:
            end = at
    return target[:end]
