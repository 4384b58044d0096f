"""CloudFront standard logs (W3C extended format): tab-separated fields named by the
file's `#Fields:` header, times in UTC, and values URL-encoded (a space is `%20`, a
`%` is `%25`), so one decoding gives each value back as it was sent:

    #Version: 1.0
    #Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status ...
    2026-11-28	10:00:00	FRA56-P1	1203	203.0.113.9	GET	d1.cloudfront.net	/feeds/ai.atom	304	...

The fields are found by name, so a file with fewer, more or reordered fields reads too.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote

from .logs import Hit, LogFormat, Parser

# The fields a hit is made of, as the header names them.
NEEDED = ("date", "time", "c-ip", "cs-method", "cs-uri-stem", "sc-status", "cs(User-Agent)")


def sniff(line: str) -> bool:
    """Whether a file starting with `line` is a CloudFront standard log."""
    return line.startswith(("#Version:", "#Fields:"))


def _time(date: str, clock: str) -> datetime:
    if len(date) != 10 or len(clock) < 8 or date[4] != "-" or clock[2] != ":":
        raise ValueError(date)
    return datetime(
        int(date[0:4]), int(date[5:7]), int(date[8:10]), int(clock[0:2]), int(clock[3:5]), int(clock[6:8]),
        tzinfo=timezone.utc,
    )  # fmt: skip


def parser() -> Parser:
    """A parser for the lines of one file."""
    where: tuple[int, ...] | None = None
    missing = "no #Fields: header before this line"
    width = 0
    last_stamp = ("", "")
    last_time: datetime | None = None

    def parse(line: str) -> Hit | str | None:
        nonlocal where, missing, width, last_stamp, last_time
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                names = line[len("#Fields:") :].split()
                absent = [n for n in NEEDED if n not in names]
                where = None if absent else tuple(names.index(n) for n in NEEDED)
                missing = "the #Fields: header lacks " + ", ".join(absent)
                width = max(where) + 1 if where else 0
            return None
        values = line.rstrip("\r\n").split("\t")
        if len(values) < 2:
            return None if not line.strip() else "not a CloudFront log line"
        if where is None:
            return missing
        if len(values) < width:
            return f"{len(values)} fields where the #Fields: header names at least {width}"
        date, clock, address, method, stem, status, agent = (values[i] for i in where)
        if (date, clock) != last_stamp or last_time is None:
            try:
                last_time = _time(date, clock)
            except ValueError:
                return f"cannot read {date} {clock} as a time"
            last_stamp = (date, clock)
        if "%" in agent:
            agent = unquote(agent)
        if "%" in stem:
            stem = unquote(stem)
        return Hit(
            last_time,
            address,
            method,
            "" if stem == "-" else stem,
            int(status) if status.isdigit() else 0,
            "" if agent == "-" else agent,
        )

    return parse


FORMAT = LogFormat("cloudfront", "CloudFront standard log", sniff, parser)
