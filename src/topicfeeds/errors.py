"""The exception tree: every error names the thing that failed."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(name: str) -> str:
    """`name` (a file name, say) as one line of text: bytes that were not UTF-8 and
    control characters are written as escapes such as `\\xe9` and `\\n`."""
    if name.isprintable():
        return name
    return _UNSHOWABLE.sub(_escape, name)


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


def dotted(path: Iterable[str | int]) -> str:
    """A key path as a message names it: `images[1].url`."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


class TopicfeedsError(Exception):
    """Base class of every error topicfeeds raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file, located as precisely as the file allows."""

    path: str  # file as the user named it (relative where possible)
    line: int | None  # 1-based line, when the parser knows it
    field: str | None  # dotted key, e.g. "images[1].url"
    message: str  # what is wrong, in plain words

    def __str__(self) -> str:
        shown = printable(self.path)
        where = shown if self.line is None else f"{shown}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"


class ConfigError(TopicfeedsError):
    """The configuration cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RecordError(TopicfeedsError):
    """A record file was rejected; it is reported and the run goes on without it."""

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.problem = Problem(path, line, field, message)
        super().__init__(str(self.problem))

    @property
    def path(self) -> str:
        """The rejected file."""
        return self.problem.path


class PublishError(TopicfeedsError):
    """A feed file could not be written; the previous file is left as it was."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = path  # a file, or an object's s3:// address
        super().__init__(f"{path}: cannot write: {reason}")


class RemoveError(PublishError):
    """A published file could not be removed; it stays, and the next run tries again."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = path
        TopicfeedsError.__init__(self, f"{path}: cannot remove: {reason}")


class OutputError(TopicfeedsError):
    """The output or records folder cannot be used; nothing was written."""


class RemovalsRefused(TopicfeedsError):
    """A run would remove most of what the feeds hold; it changed nothing."""


class LockedError(TopicfeedsError):
    """Another run holds the lock on the output: its lock file, or for a state in
    PostgreSQL the database's lock (named by the state's URL and schema)."""

    def __init__(self, lock_path: Path | str) -> None:
        self.lock_path = lock_path
        super().__init__(f"{lock_path}: another topicfeeds run is in progress")


class StateBusy(LockedError):
    """Another process kept a write transaction on the state open for longer than the
    run waits; as with the lock, the run published nothing."""

    def __init__(self, path: Path | str, reason: str, *, noun: str = "state file") -> None:
        self.lock_path = path
        TopicfeedsError.__init__(
            self, f"{path}: another process is writing the {noun} ({reason}); nothing was published"
        )


class StateError(TopicfeedsError):
    """The state cannot be used now: the file not writable, its disk full, an I/O error;
    the database server gone, a schema newer than this version reads. It is left as it
    was, and a run uses it again once the cause is gone."""

    def __init__(self, path: Path | str, reason: str, *, noun: str = "state file") -> None:
        self.path = path  # the file, or the database's URL (without a password) and schema
        super().__init__(f"{path}: cannot use the {noun}: {reason}; it was left as it was")
