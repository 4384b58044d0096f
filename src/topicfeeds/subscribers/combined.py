"""The combined log format of nginx and Apache (and most web servers besides):

    203.0.113.9 - - [28/Nov/2026:10:00:00 +0000] "GET /feeds/ai.atom HTTP/1.1" 304 0 "-" "newsboat/2.36"

Fields a server appends after the User-Agent (a request time, say) are left alone.
nginx writes a quote inside a field as `\\x22`, Apache as `\\"`; both come back as `"`.
"""

from __future__ import annotations

import re
from datetime import datetime

from .logs import Hit, LogFormat, Parser, clf_time, target_path

# Most lines have no quote inside a field: a simple expression reads them quickly,
# and the one that allows escaped quotes is tried only when it fails.
_PLAIN = re.compile(
    r'([^ ]+) [^ ]+ [^ ]+ \[([^\]]+)\] "([^"]*)" ([0-9]{3}|-) [^ ]+ "[^"]*" "([^"]*)"(?:\s|$)'
)
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_ESCAPED = re.compile(
    rf"(\S+) \S+ (?:\S+|{_QUOTED}) \[([^\]]+)\] {_QUOTED} ([0-9]{{3}}|-) \S+ {_QUOTED} {_QUOTED}(?:\s|$)"
)
_SNIFF = re.compile(r'\S+ \S+ \S+ \[[^\]]+\] "')
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|.)")


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)) if len(m.group(1)) == 3 else m.group(1), text)


def sniff(line: str) -> bool:
    """Whether `line` is in the combined format."""
    return _SNIFF.match(line) is not None


def parser() -> Parser:
    """A parser for the lines of one file."""
    last_stamp = ""
    last_time: datetime | None = None

    def parse(line: str) -> Hit | str | None:
        nonlocal last_stamp, last_time
        # Only a line with an escaped quote in it (Apache writes \" in a field) needs the slower one.
        match = _PLAIN.match(line) if '\\"' not in line else None
        if match is not None:
            address, stamp, request, status, agent = match.groups()
        else:
            if not line.strip():
                return None
            escaped = _ESCAPED.match(line)
            if escaped is None:
                return "not in the combined log format"
            address, _user, stamp, request, status, _referer, agent = escaped.groups()
        if stamp != last_stamp or last_time is None:
            try:
                last_time = clf_time(stamp)
            except ValueError:
                return f"cannot read [{stamp}] as a time"
            last_stamp = stamp
        if "\\" in request:
            request = _unescape(request)
        parts = request.split(" ")
        method, path = (parts[0], target_path(parts[1])) if len(parts) in (2, 3) else ("", "")
        if "\\" in agent:
            agent = _unescape(agent)
        return Hit(last_time, address, method, path, 0 if status == "-" else int(status), agent)

    return parse


FORMAT = LogFormat("combined", "combined log format", sniff, parser)
