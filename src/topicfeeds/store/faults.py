"""What is damage and what is a fault: a state file this version cannot read is moved
aside and a new one begun; any other failure (the file read-only, its disk full,
another process writing it) is an error the run reports, the file left as it was.

SQLite's: a second backend tells its own errors apart the same way (damaged: begin
anew; busy: StateBusy; anything else: StateError).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from ..errors import StateBusy, StateError

# SQLite's primary result codes that say the file itself is bad: damaged
# (SQLITE_CORRUPT), or no database at all (SQLITE_NOTADB). Any other failure (locked,
# read-only, disk full, I/O) says nothing against what the file holds.
_DAMAGED = frozenset({11, 26})
_BUSY = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED: another connection is writing
# Python 3.10's errors carry no code: SQLite's own wording for each of them.
_CODES_BY_MESSAGE = (
    ("database disk image is malformed", 11),
    ("malformed database schema", 11),
    ("file is not a database", 26),
    ("database is locked", 5),
    ("database table is locked", 6),
)


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # from Python 3.11
    if isinstance(code, int):
        return code & 0xFF  # the primary code of an extended one
    text = str(exc)
    return next((number for words, number in _CODES_BY_MESSAGE if words in text), None)


def damaged(exc: sqlite3.Error) -> bool:
    """Whether `exc` says the state file is damaged or no database, rather than that it
    cannot be used for now."""
    return _code(exc) in _DAMAGED


def fault(path: Path | str, exc: sqlite3.Error) -> StateBusy | StateError:
    """The error a run reports for `exc`, met in the state at `path`, that is not damage:
    StateBusy when another process is writing it, StateError otherwise."""
    if _code(exc) in _BUSY:
        return StateBusy(Path(path), str(exc))
    return StateError(path, str(exc))


_COMPANIONS = ("", "-wal", "-shm")  # the file, its write-ahead log and the log's index


def set_aside(path: Path) -> Path:
    """Move the state file at `path`, with its write-ahead log, to the first free name
    `<name>.unreadable-<n>` beside it, and return that name: what it holds is kept for
    whoever wants to look, and no leftover log is ever read into a new file."""
    number = 1
    while True:
        aside = path.with_name(f"{path.name}.unreadable-{number}")
        if not any(aside.with_name(aside.name + end).exists() for end in _COMPANIONS):
            break
        number += 1
    for end in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + end).rename(aside.with_name(aside.name + end))
    return aside


def check_writable(path: Path) -> None:
    """Refuse a state this process may read but not write (another user's file, a
    read-only mount) before SQLite opens it: it would be opened read-only, and fail only
    at the run's first change, leaving a log and its index behind."""
    for end in _COMPANIONS:
        part = path.with_name(path.name + end)
        if part.exists() and not os.access(part, os.R_OK | os.W_OK):
            raise StateError(path, f"{part.name} is not writable by this user")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StateError(path, "its folder is not writable by this user")
