"""Access logs read as hits: one small record per request, whichever server wrote it.

Each log format is a module with a `LogFormat` (combined.py for nginx and Apache,
cloudfront.py, s3access.py): a test of a file's first line, and a parser that turns
one line at a time into a `Hit`. A parser is made afresh for each file, so that a
format whose lines depend on a header (CloudFront's `#Fields:`) can keep it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
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
    if len(text) != 26 or text[17] != ":" or text[20] != " " or not text[18:20].isdigit():
        raise ValueError(text)
    # A log has many lines a minute: the minute is worked out once, in seconds since
    # 1970 (quicker than building a datetime and shifting it by the offset).
    minute = text[:17] + text[20:]
    start = _MINUTES.get(minute)
    if start is None:
        if len(_MINUTES) >= 4096:
            _MINUTES.clear()
        start = _MINUTES[minute] = _minute(text)
    return datetime.fromtimestamp(start + int(text[18:20]), timezone.utc)


_MINUTES: dict[str, int] = {}  # "28/Nov/2026:10:00 +0100": its first second, since 1970 in UTC
_EPOCH = date(1970, 1, 1).toordinal()


def _minute(text: str) -> int:
    month = MONTHS.get(text[3:6])
    sign = text[21]
    if (
        month is None
        or text[2] != "/"
        or text[6] != "/"
        or text[11] != ":"
        or text[14] != ":"
        or sign not in "+-"
    ):
        raise ValueError(text)
    hours, minutes = int(text[12:14]), int(text[15:17])
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(text)
    day = date(int(text[7:11]), month, int(text[0:2])).toordinal() - _EPOCH
    offset = (int(text[22:24]) * 60 + int(text[24:26])) * 60
    local = day * 86400 + hours * 3600 + minutes * 60
    return local - offset if sign == "+" else local + offset


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
