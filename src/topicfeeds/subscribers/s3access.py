"""Amazon S3 server access logs, for output published straight from a bucket:

    79a59df9... news-feeds [28/Nov/2026:10:00:00 +0000] 203.0.113.9 - 3E57427F3EXAMPLE
    REST.GET.OBJECT feeds/ai.atom "GET /feeds/ai.atom HTTP/1.1" 304 - - 5120 7 - "-"
    "newsboat/2.36" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3= SigV4 ...

(one line in the file). A hit's path is the object's key, whether the request named the
bucket in its path or in its host name; requests that name no object have no path.
"""

from __future__ import annotations

import re
from datetime import datetime

from .logs import Hit, LogFormat, Parser, clf_time

_HEAD = r"\S+ \S+ \[([^\]]+)\] (\S+) \S+ \S+ (\S+) (\S+) \"([^\"]*)\" (\S+) \S+ \S+ \S+ \S+ \S+ \"[^\"]*\" "
_PLAIN = re.compile(_HEAD + r'"([^"]*)"(?:\s|$)')
# S3 does not escape a quote in the User-Agent: then the agent runs to the last quote
# that only unquoted fields follow.
_GREEDY = re.compile(_HEAD + r'"(.*)"(?: [^" ]+)*\s*$')
_SNIFF = re.compile(r"\S+ \S+ \[\d\d/\w\w\w/\d{4}:[^\]]+\] \S+ ")


def sniff(line: str) -> bool:
    """Whether `line` is an S3 server access log line."""
    return _SNIFF.match(line) is not None


def parser() -> Parser:
    """A parser for the lines of one file."""
    last_stamp = ""
    last_time: datetime | None = None

    def parse(line: str) -> Hit | str | None:
        nonlocal last_stamp, last_time
        match = _PLAIN.match(line) or _GREEDY.match(line)
        if match is None:
            return None if not line.strip() else "not an S3 server access log line"
        stamp, address, operation, key, request, status, agent = match.groups()
        if stamp != last_stamp or last_time is None:
            try:
                last_time = clf_time(stamp)
            except ValueError:
                return f"cannot read [{stamp}] as a time"
            last_stamp = stamp
        if request != "-":
            method = request.split(" ", 1)[0]
        else:  # the operation names it too: REST.GET.OBJECT
            parts = operation.split(".")
            method = parts[1] if len(parts) > 2 else ""
        return Hit(
            last_time,
            address,
            method,
            "" if key == "-" else "/" + key,
            int(status) if status.isdigit() else 0,
            "" if agent == "-" else agent,
        )

    return parse


FORMAT = LogFormat("s3", "S3 server access log", sniff, parser)
