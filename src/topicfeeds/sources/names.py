"""Which names are records': the one definition, for every place records are listed
from (a folder, a bucket), for `watch` hearing of a file, and for `read_records`.

A record's name is its path below the place, its parts joined by "/" (`a.txt`,
`2026/11/29/b.txt`; in a bucket, the key below the prefix). A name is a record's when:

- no part of it is hidden (starts with "."): hidden files and folders never hold records;
- it lies directly in the place, or the place is read to any depth: a bucket always (its
  listing gives every key below the prefix anyway, as producers that file by date write
  them), a folder when a pattern holds "/" (`**/*.txt`), since walking its subfolders
  costs more than listing it;
- and a pattern takes it: a pattern without "/" is matched against the name's last part
  (`*.txt` takes `a.txt` and `2026/11/29/b.txt`), a pattern with "/" against the whole
  name, `*` reaching across "/" as in fnmatch, and a leading `**/` also matching no
  folder at all (`**/*.txt` takes `a.txt` too).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def suffixes_of(patterns: Sequence[str]) -> tuple[str, ...] | None:
    """The endings a record file's name must have when every pattern is `*` and a
    plain ending (`*.txt`): `str.endswith` then decides as the patterns would, at a
    fraction of an expression's cost. None when some pattern is more than that."""
    if not patterns:  # the expression of no pattern matches every name
        return None
    found = []
    for pattern in patterns:
        rest = pattern[1:]
        if not pattern.startswith("*") or any(c in rest for c in "*?[/"):
            return None
        found.append(rest)
    return tuple(found)


@functools.lru_cache(maxsize=16)
def name_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether one part of a name (a file's own name) is a record's: it matches a
    pattern and is not hidden. One compiled expression, since fnmatch per pattern per
    file adds up over 100,000 files."""
    endings = suffixes_of(patterns)
    if endings is not None:
        return lambda name: not name.startswith(".") and name.endswith(endings)
    expression = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    return lambda name: not name.startswith(".") and expression.match(name) is not None


def _expression(patterns: Sequence[str]) -> Callable[[str], re.Match[str] | None]:
    """The match of one expression for every pattern (none: matches nothing)."""
    if not patterns:
        return lambda name: None
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match


@dataclass(frozen=True, slots=True)
class RecordNames:
    """Which names below a place are records' (see the module's docstring)."""

    patterns: tuple[str, ...]
    deep: bool  # names in subfolders may be records': a bucket, or a pattern holds "/"
    _part: Callable[[str], bool] = field(repr=False, compare=False)  # patterns without "/", on the last part
    _whole: Callable[[str], re.Match[str] | None] = field(repr=False, compare=False)  # those with "/"

    @classmethod
    def of(cls, patterns: Sequence[str], *, anywhere: bool = False) -> RecordNames:
        """The record names of `patterns`; `anywhere`: in a place whose listing gives
        every name at any depth (a bucket)."""
        return _names(tuple(patterns), anywhere)

    @property
    def endings(self) -> tuple[str, ...] | None:
        """The plain endings that decide alone for names directly in the place, or None
        (see `suffixes_of`)."""
        return None if self.deep else suffixes_of(self.patterns)

    def __call__(self, name: str) -> bool:
        """Whether `name` (a path below the place, parts joined by "/") is a record's."""
        if "/" not in name:
            return self._part(name) or (self._whole(name) is not None and not name.startswith("."))
        if not self.deep:
            return False
        parts = name.split("/")
        if any(part.startswith(".") for part in parts):
            return False
        return self._part(parts[-1]) or self._whole(name) is not None

    def folder(self, name: str) -> bool:
        """Whether the folder `name` (below the place) may hold records: not hidden, in a
        place read to any depth."""
        return self.deep and not any(part.startswith(".") for part in name.split("/"))


@functools.lru_cache(maxsize=16)
def _names(patterns: tuple[str, ...], anywhere: bool) -> RecordNames:
    plain = tuple(p for p in patterns if "/" not in p)
    nested = tuple(p for p in patterns if "/" in p)
    # `**/` also matches no folder: the rest of the pattern, against the whole name.
    whole = (*nested, *(p[3:] for p in nested if p.startswith("**/")))
    # No pattern at all takes every name, as an expression of none matches everything.
    part = name_matcher(plain) if plain or not patterns else (lambda name: False)
    return RecordNames(patterns, anywhere or bool(nested), part, _expression(whole))
