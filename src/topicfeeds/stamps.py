"""Listing record files and telling, by stat alone, whether one changed; and naming
files in messages as the user would."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

DEFAULT_PATTERNS = ("*.txt", "*.md")


class Stamp(NamedTuple):
    """What stat says of a file: enough to notice any ordinary change to it. A tuple,
    since a run over 100,000 files makes and compares that many."""

    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int  # changes on every write or rename, and cannot be set back


def stamp_of(st: os.stat_result) -> Stamp:
    """The stamp of a stat result."""
    return Stamp(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, for messages."""
    return f"{_display_folder(path.parent, os.getcwd())}{path.name}"  # noqa: PTH109 - a str key is cheapest


@functools.lru_cache(maxsize=64)
def _display_folder(folder: Path, cwd: str) -> str:
    # Once a folder, not once a file: relpath is a noticeable cost over 100,000 files.
    rel = os.path.relpath(folder, cwd)
    if rel == ".":
        return ""
    return f"{folder.as_posix() if rel.startswith('..') else Path(rel).as_posix()}/"


@functools.lru_cache(maxsize=16)
def name_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a file name is a record's: it matches a pattern and is not hidden. One
    compiled expression, since fnmatch per pattern per file adds up over 100,000 files."""
    expression = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    return lambda name: not name.startswith(".") and expression.match(name) is not None


def list_record_files(folder: Path, patterns: Sequence[str] = DEFAULT_PATTERNS) -> list[Path]:
    """The record files directly in `folder`, sorted by name; hidden files are skipped."""
    matches = name_matcher(tuple(patterns))
    with os.scandir(folder) as it:
        names = [e.name for e in it if matches(e.name) and e.is_file()]
    return [folder / n for n in sorted(names)]
