"""A quick reader for the YAML records are written in, giving exactly what PyYAML gives.

Record front matter uses a small part of YAML: block mappings and sequences laid out by
indentation, `- ` items holding mappings, plain scalars and quoted scalars on one line,
blank lines and comments. Composing PyYAML's node objects for that is most of the cost
of reading a record, so this module reads the layout itself and hands every plain
scalar to PyYAML's own resolver and constructor, so its YAML 1.1 type and value are
PyYAML's. Whatever it is not sure of (flow collections other than `[]` and `{}`,
anchors, tags, block or multi-line scalars, tabs, unusual indentation or characters,
duplicate keys, anything PyYAML would refuse) makes it answer None, and the text goes
to PyYAML, so every refusal and its line stay PyYAML's.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .yamlload import CACHE_LIMIT, UNSURE, plain_tag, plain_value

_STR = "tag:yaml.org,2002:str"
# Characters that need PyYAML: tabs, carriage returns (CRLF is handled before), every
# character YAML 1.1 does not print, its other line breaks (NEL, LS, PS) and the BOM.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# Starts of a plain scalar that mean something else in YAML, or that PyYAML and
# libyaml might read differently: all left to PyYAML.
_NOT_PLAIN_START = frozenset("?:,[]{}#&*!|>'\"%@`")
# Escapes of double-quoted scalars read here: one character for one character.
_ESCAPES = {
    "\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\x07",
    "b": "\x08", "e": "\x1b", "f": "\x0c", "v": "\x0b", " ": " ", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_HEX = frozenset("0123456789abcdefABCDEF")
_MAX_DEPTH = 32  # deeper than any record; PyYAML's refusal of deep nesting stays its own


class _Unsure(Exception):
    """The text holds something this reader leaves to PyYAML."""


def load_simple(text: str) -> dict[str, Any] | None:
    """The mapping PyYAML would read from `text`, or None when this reader is not sure
    that it reads it the same (then PyYAML must read it)."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if not _usual(text):
        return None
    lines = _LINES.findall(text)
    if not lines or lines[0][0]:
        return None
    try:
        return _read(lines)
    except _Unsure:
        return None


def _usual(text: str) -> bool:
    """Whether every character of `text` is one this reader may leave as it is.

    Python's printable characters are a subset of those (every character `_UNUSUAL`
    names is a control, format, surrogate, separator or unassigned one, none of which
    Python prints), and testing them is a C loop over the text, faster than the
    regular expression, which is only asked when something is not printable (a
    no-break space, a soft hyphen, a tab)."""
    return text.replace("\n", " ").isprintable() or not _UNUSUAL.search(text)


# Every line that holds something, cut by one regular expression into (its prefix: the
# indentation and, when it starts a sequence item, `- `; a key when one follows; and
# the rest). Indentation is kept as its spaces, which compare as their counts do. A key
# is a plain word (short: YAML limits a key on one line to 1024 characters), then a
# colon and spaces or the end of the line.
_LINES = re.compile(
    r"^( *(?=[^ \n#])(?:-(?: +|$))?)(?:([A-Za-z_][A-Za-z0-9_-]{0,127}):(?: +|$))?(.*)", re.MULTILINE
)
_Line = tuple[str, str, str]
_MISSING: Any = object()
_GOOD_KEYS: set[str] = set()  # keys known to be plain text to YAML 1.1
_PLAIN: dict[str, Any] = {}  # plain scalars (with any comment) and their values
_PLAIN_MAX_LENGTH = 80
_NO_PREFIX = "\n"  # a prefix no line has


def _read(lines: list[_Line]) -> dict[str, Any]:
    """The mapping the lines write, read in one pass over them.

    One loop with the open blocks on a stack, rather than a function per block: a
    record has some fifty lines, and the work per line is most of the cost of reading
    it. Most lines are the next key of the mapping being read, so that case costs one
    comparison of the line's prefix; the others (items, and the lines that open or
    close a block) take the longer way. Whatever the loop is not sure of raises
    `_Unsure`."""
    root: dict[str, Any] = {}
    block: Any = root  # the mapping or list being read
    in_list = False  # whether `block` is a list
    column = ""  # the indentation of `block`
    key_prefix = ""  # the prefix of its next key, or _NO_PREFIX (a list, a key without its value)
    enclosing: list[tuple[Any, bool, str]] = []  # the blocks around `block`, outermost first
    pending: str | None = None  # a key of `block` whose value starts on the next line
    for prefix, key, rest in lines:
        if prefix != key_prefix:
            line_indent, dash, _ = prefix.partition("-")
            if pending is not None:
                # The value is a block on the lines below, a list level with the key
                # (YAML lets a mapping's items start at its own column), or else null.
                if line_indent > column or (dash and line_indent == column):
                    child: Any = [] if dash else {}
                    block[pending] = child
                    enclosing.append((block, in_list, column))
                    block, in_list, column = child, bool(dash), line_indent
                    if len(enclosing) > _MAX_DEPTH:
                        raise _Unsure
                else:
                    block[pending] = None
                pending = None
            # Leave the blocks this line is not part of: those indented deeper, and a
            # list when a key level with its items follows.
            while line_indent < column or (in_list and not dash and line_indent == column):
                block, in_list, column = enclosing.pop()
            if line_indent != column:
                raise _Unsure  # a continued scalar, or indentation PyYAML refuses
            if in_list:
                if not key:
                    if not rest or rest[0] in "#-":
                        raise _Unsure  # an empty item (its value on the lines below), a nested `- `
                    value = _PLAIN.get(rest, _MISSING)
                    block.append(_scalar(rest) if value is _MISSING else value)
                    key_prefix = _NO_PREFIX
                    continue
                # A mapping starting on the item's own line, its keys indented to the first.
                child = {}
                block.append(child)
                enclosing.append((block, in_list, column))
                block, in_list, column = child, False, " " * len(prefix)
                if len(enclosing) > _MAX_DEPTH:
                    raise _Unsure
            elif dash:
                raise _Unsure  # a list item where a key belongs
            key_prefix = column
        if not key:
            raise _Unsure  # a quoted key, a scalar where a key belongs, ...
        if key in block or key not in _GOOD_KEYS:
            _check_key(key, block)
        if not rest:
            pending, key_prefix = key, _NO_PREFIX
            continue
        first = rest[0]
        if first == '"':
            # Most values: quoted, nothing escaped, nothing after.
            if rest[-1] == '"' and rest.count('"') == 2 and "\\" not in rest:
                block[key] = rest[1:-1]
            else:
                block[key] = _scalar(rest)
        elif first != "#":
            value = _PLAIN.get(rest, _MISSING)
            if value is _MISSING:
                # `images: []` is not in the cache: it is a new list each time.
                value = [] if rest == "[]" else _scalar(rest) if first in "'[{" else _plain(rest)
            block[key] = value
        else:
            pending, key_prefix = key, _NO_PREFIX  # only a comment after the key
    if pending is not None:
        block[pending] = None
    return root


def _check_key(key: str, mapping: dict[str, Any]) -> None:
    """Raise `_Unsure` for a key already in `mapping` (PyYAML's loader refuses it, with
    its line) or one YAML 1.1 reads as something else than text (`yes`, `null`)."""
    if key in mapping:
        raise _Unsure
    if plain_tag(key) != _STR:
        raise _Unsure
    if len(_GOOD_KEYS) >= CACHE_LIMIT:
        _GOOD_KEYS.clear()  # as yamlload's caches: small, emptied when full
    _GOOD_KEYS.add(key)


def _scalar(text: str) -> Any:
    """The value of a scalar written on one line (with any comment after it)."""
    first = text[0]
    if first == '"':
        if text[-1] == '"' and text.count('"') == 2 and "\\" not in text:
            return text[1:-1]
        value, end = _double_quoted(text)
        _check_after(text, end)
        return value
    if first == "'":
        value, end = _single_quoted(text)
        _check_after(text, end)
        return value
    if first in "[{":
        if text[1:2] == ("]" if first == "[" else "}"):
            _check_after(text, 2)
            return [] if first == "[" else {}
        raise _Unsure
    cached = _PLAIN.get(text, _MISSING)
    if cached is not _MISSING:
        return cached
    return _plain(text)


def _plain(text: str) -> Any:
    """The value of a plain scalar (with any comment after it) that is not in the
    cache: PyYAML's, through its resolver and constructor, but for the date form
    records write, which is built here as PyYAML's constructor builds it."""
    if len(text) == 20:
        result = _utc_timestamp(text)
        if result is not UNSURE:
            return result  # dates are seldom repeated: not worth remembering
    first = text[0]
    if first in _NOT_PLAIN_START or (first == "-" and text[1:2] in ("", " ")):
        raise _Unsure
    comment = text.find(" #")
    value = (text if comment < 0 else text[:comment]).rstrip(" ")
    if ": " in value or value[-1] == ":":
        raise _Unsure  # a mapping where a scalar belongs: PyYAML refuses it
    result = plain_value(value)
    if result is UNSURE:
        raise _Unsure
    if len(text) <= _PLAIN_MAX_LENGTH:
        if len(_PLAIN) >= CACHE_LIMIT:
            _PLAIN.clear()
        _PLAIN[text] = result  # every value is immutable and depends on the text alone
    return result


# Hours stop at 23 as the constructor's do; other out-of-range fields fail alike below.
_UTC_SECONDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}Z")


def _utc_timestamp(text: str) -> Any:
    """The datetime PyYAML's constructor makes of `2026-10-21T03:39:47Z`, the form
    newsroom dates take: the same fields with `timezone.utc` (which the C parser of ISO
    dates gives any zero offset), read by that parser rather than six `int` calls;
    UNSURE for any other text."""
    if not _UTC_SECONDS.fullmatch(text):
        return UNSURE
    try:
        return datetime.fromisoformat(text[:19] + "+00:00")  # no "Z" before Python 3.11
    except ValueError:
        return UNSURE  # 2026-02-30: PyYAML's path names the refusal


def _check_after(text: str, end: int) -> None:
    """Only spaces and a comment may follow a quoted scalar or `[]`."""
    rest = text[end:]
    if rest and (rest[0] != " " or rest.lstrip(" ")[:1] not in ("", "#")):
        raise _Unsure


def _single_quoted(text: str) -> tuple[str, int]:
    """A single-quoted scalar on one line, and where it ends in `text`."""
    parts: list[str] = []
    start = 1
    while True:
        end = text.find("'", start)
        if end < 0:
            raise _Unsure  # it goes on to the next line
        parts.append(text[start:end])
        if text[end + 1 : end + 2] != "'":
            return "'".join(parts), end + 1
        start = end + 2


def _double_quoted(text: str) -> tuple[str, int]:
    """A double-quoted scalar on one line, and where it ends in `text`."""
    end = text.find('"', 1)
    if end < 0:
        raise _Unsure
    if "\\" not in text[1:end]:
        return text[1:end], end + 1
    if text[-1] == '"':
        # Quotes the only escapes, the scalar all of `text`: every backslash starts a
        # backslash-quote pair (one after a second backslash would be left behind),
        # so replacing the pairs reads it.
        body = text[1:-1]
        unescaped = body.replace('\\"', "")
        if '"' not in unescaped and "\\" not in unescaped:
            return body.replace('\\"', '"'), len(text)
    parts: list[str] = []
    at = 1
    length = len(text)
    while at < length:
        ch = text[at]
        if ch == '"':
            return "".join(parts), at + 1
        if ch != "\\":
            stop = at
            while stop < length and text[stop] not in '"\\':
                stop += 1
            parts.append(text[at:stop])
            at = stop
            continue
        code = text[at + 1 : at + 2]
        if code in _ESCAPES:
            parts.append(_ESCAPES[code])
            at += 2
        elif code in _HEX_ESCAPES:
            digits = text[at + 2 : at + 2 + _HEX_ESCAPES[code]]
            if len(digits) != _HEX_ESCAPES[code] or not _HEX.issuperset(digits):
                raise _Unsure
            point = int(digits, 16)
            if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
                raise _Unsure  # the two parsers differ on these
            parts.append(chr(point))
            at += 2 + len(digits)
        else:
            raise _Unsure  # an escape PyYAML refuses, or a line break escaped
    raise _Unsure
