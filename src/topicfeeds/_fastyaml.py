"""A fast path for the YAML that record files actually contain.

Records are block mappings of `key: value` lines, block sequences and one-line
scalars. Parsing that subset line by line is several times faster than
composing and constructing PyYAML nodes, which is most of a cold build's cost.
Anything outside the subset (flow collections other than `[]` and `{}`,
escapes, multi-line or block scalars, anchors, tags, comments after values,
tabs, duplicate keys...) makes `parse` return None, and the reader falls back
to PyYAML, which also words every error. Plain scalars are resolved and
constructed by PyYAML's own YAML 1.1 resolver and SafeConstructor, so a value
reads exactly as PyYAML reads it; the reader's tests and a property test run
both paths on the same documents.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
# What PyYAML's reader refuses, plus the characters it takes as line breaks;
# either sends the document to PyYAML.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_ENTRY = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*):(?: +(.*?))? *\Z")
_ITEM = re.compile(r"( *)-(?:( +)(.*?))? *\Z")
_SKIP = re.compile(r" *(?:#.*)?\Z")
# First characters a plain scalar may not start with (YAML 1.1 indicators).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")

_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
# PyYAML's own table of the escapes a double-quoted scalar may use.
_ESCAPES: dict[str, str] = yaml.scanner.Scanner.ESCAPE_REPLACEMENTS

_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


class _Unsupported(Exception):
    """The document leaves the subset; PyYAML takes over."""


# A token: (indent, line number, key or None for a sequence item, value text or None).
_Token = tuple[int, int, str | None, str | None]


def parse(text: str) -> tuple[dict[Any, Any], dict[Path, int]] | None:
    """The mapping `text` holds and the 1-based line of every key and item in it,
    or None when `text` uses YAML beyond the subset."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if _UNUSUAL.search(text):
        return None
    try:
        tokens = _tokens(text)
        if not tokens or tokens[0][0] != 0 or tokens[0][2] is None:
            return None  # empty, or not a mapping at the top: PyYAML says what it is
        lines: dict[Path, int] = {}
        value, end = _mapping(tokens, 0, 0, (), lines)
        if end != len(tokens):
            return None
        return value, lines
    except _Unsupported:
        return None


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for number, line in enumerate(text.split("\n"), 1):
        entry = _ENTRY.match(line)
        if entry:
            tokens.append((len(entry.group(1)), number, entry.group(2), entry.group(3)))
            continue
        item = _ITEM.match(line)
        if item:
            indent = len(item.group(1))
            rest = item.group(3)
            if rest is None or rest == "":
                if item.group(2) is None and line.rstrip() != " " * indent + "-":
                    raise _Unsupported  # "-x" is a plain scalar, not an item
                tokens.append((indent, number, None, None))
                continue
            tokens.append((indent, number, None, ""))  # an item whose content follows
            inline = _ENTRY.match(" " * (indent + 1 + len(item.group(2))) + rest)
            if inline:
                tokens.append((len(inline.group(1)), number, inline.group(2), inline.group(3)))
            else:
                tokens.append((indent + 1 + len(item.group(2)), number, None, rest))
            continue
        if _SKIP.match(line):
            continue
        raise _Unsupported
    return tokens


def _mapping(
    tokens: list[_Token], i: int, indent: int, path: Path, lines: dict[Path, int]
) -> tuple[Any, int]:
    mapping: dict[Any, Any] = {}
    while i < len(tokens) and tokens[i][0] == indent and tokens[i][2] is not None:
        _, number, key_text, value_text = tokens[i]
        key = _scalar(key_text or "")
        if not isinstance(key, str) or key in mapping:
            raise _Unsupported  # non-string or duplicate keys: PyYAML reports them
        at = (*path, key)
        lines[at] = number
        i += 1
        if value_text:
            mapping[key] = _scalar(value_text)
            if i < len(tokens) and tokens[i][0] > indent:
                raise _Unsupported  # a continued (multi-line) scalar
        else:
            mapping[key], i = _child(tokens, i, indent, at, lines)
    if i < len(tokens) and tokens[i][0] > indent:
        raise _Unsupported
    return mapping, i


def _sequence(
    tokens: list[_Token], i: int, indent: int, path: Path, lines: dict[Path, int]
) -> tuple[Any, int]:
    sequence: list[Any] = []
    while i < len(tokens) and tokens[i][0] == indent and tokens[i][2] is None and tokens[i][3] is not None:
        number = tokens[i][1]
        at = (*path, len(sequence))
        lines[at] = number
        i += 1
        content = tokens[i] if i < len(tokens) else None
        if content is not None and content[1] == number and content[0] > indent:
            if content[2] is None:  # "- scalar"
                sequence.append(_scalar(content[3] or ""))
                i += 1
                if i < len(tokens) and tokens[i][0] > indent:
                    raise _Unsupported
            else:  # "- key: value", continued by keys at the same column
                value, i = _mapping(tokens, i, content[0], at, lines)
                sequence.append(value)
        else:
            raise _Unsupported
    return sequence, i


def _child(tokens: list[_Token], i: int, indent: int, path: Path, lines: dict[Path, int]) -> tuple[Any, int]:
    """The block value of a key written without one on its line."""
    if i >= len(tokens):
        return None, i
    child_indent, _, key, value = tokens[i]
    if key is None and value is not None and child_indent >= indent:
        # YAML lets a sequence under a key sit at the key's own indent.
        return _sequence(tokens, i, child_indent, path, lines)
    if child_indent <= indent:
        return None, i  # "key:" alone means null
    if key is not None:
        return _mapping(tokens, i, child_indent, path, lines)
    raise _Unsupported


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) > 1:
        try:
            return chr(int(code[1:], 16))
        except (ValueError, OverflowError) as exc:
            raise _Unsupported from exc
    if code not in _ESCAPES:
        raise _Unsupported
    return _ESCAPES[code]


def _scalar(text: str) -> Any:
    first = text[0]
    if first == '"':
        if not _DOUBLE_QUOTED.fullmatch(text):
            raise _Unsupported
        inner = text[1:-1]
        return _ESCAPE.sub(_unescape, inner) if "\\" in inner else inner
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    if text in ("[]", "{}"):
        return [] if text == "[]" else {}
    if (first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " ")) or (
        ": " in text or " #" in text or text.endswith(":")
    ):
        raise _Unsupported
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag == _STR:
        return text
    construct = _constructor.yaml_constructors.get(tag)
    if construct is None:
        raise _Unsupported  # merge keys, "=" values: PyYAML decides
    try:
        return construct(_constructor, yaml.ScalarNode(tag, text))
    except Exception as exc:  # e.g. 2026-02-30: PyYAML reports it, with its line
        raise _Unsupported from exc
