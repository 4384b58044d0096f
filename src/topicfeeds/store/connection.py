"""Opening the state file: made, or brought up to date (schema.py); moved aside when
this version cannot read it (faults.py); or another connection to it as it is, beside
a run. SQLite's: a file beside config.yaml, its write-ahead log and the PRAGMAs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TypeVar

from ..errors import Problem, StateError
from . import schema
from .faults import check_writable, damaged, fault, set_aside

# How long the state waits, at least, for another connection's write transaction to
# end: one that notes delivered pings outside a run's lock ends within milliseconds.
PATIENCE = 5.0

S = TypeVar("S", bound="Connection")


class Connection:
    """A connection to the state file, or to a throw-away in-memory store."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(
        cls: type[S], path: Path | None, *, wait: float = 0.0, look: bool = False
    ) -> tuple[S, list[Problem]]:
        """Open (or create) the store at `path`; None keeps it in memory for one run.

        A file this version cannot read is moved aside and a new store begun (see
        `anew`; with `look`, as for a dry run, it is left where it is). Returns the store
        and warnings about such a file. Raises StateError when the file cannot be used
        now (not writable, its disk full), StateBusy when another process writes it for
        longer than `wait` seconds (and PATIENCE)."""
        if path is None:
            return cls._create(None), []
        check_writable(path)
        store = None
        try:
            store = cls._connect(path, max(wait, PATIENCE))
            why = schema.ready(store._db)
        except sqlite3.DatabaseError as exc:
            if store is not None:
                store.close()
            if not damaged(exc):
                raise fault(path, exc) from exc
            why = f"state file unreadable ({exc})"
        else:
            if why is None:
                return store, []
            store.close()
        return cls.anew(path, why, look=look)

    @classmethod
    def attach(cls: type[S], path: Path, *, read_only: bool = False) -> S:
        """Another connection to the state file at `path` as it is: nothing is created,
        upgraded or rebuilt, for it may be open beside a run; with `read_only`, for
        looking without the lock (a run under way shows what it learnt once it
        commits). Raises sqlite3.Error when it cannot be opened."""
        # Not mode=ro even for looking: a read-only connection leaves the write-ahead
        # log's files behind, owned by whoever looked, where the next build must write them.
        uri = f"{path.resolve().as_uri()}?mode=rw"  # not created where it is missing
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
        connection.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            connection.execute("PRAGMA query_only = 1")
        return cls(connection)

    @classmethod
    def anew(cls: type[S], path: Path, why: str, *, look: bool = False) -> tuple[S, list[Problem]]:
        """A new store at `path`, after moving the file there aside (see `set_aside`),
        with a warning saying `why` and where it went; with `look`, the file stays and
        the new store is in memory."""
        if look:
            return cls._create(None), [Problem(str(path), None, None, f"{why}; read as if there were none")]
        try:
            aside = set_aside(path)
        except OSError as exc:
            raise StateError(path, f"{why}, and it cannot be moved aside: {exc.strerror or exc}") from exc
        note = Problem(str(path), None, None, f"{why}; moved to {aside.name} and rebuilt")
        try:
            return cls._create(path), [note]
        except sqlite3.DatabaseError as exc:
            raise fault(path, exc) from exc

    @classmethod
    def _connect(cls: type[S], path: Path, patience: float) -> S:
        connection = sqlite3.connect(path, isolation_level=None, timeout=patience)
        # Takes effect only on a new file. A record row is about 1.2 KB: three fit in a
        # 4 KB page with a quarter of it unused, thirteen in a 16 KB page.
        connection.execute("PRAGMA page_size=16384")
        connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection)

    @classmethod
    def _create(cls: type[S], path: Path | None) -> S:
        if path is None:
            store = cls(sqlite3.connect(":memory:", isolation_level=None))
        else:
            store = cls._connect(path, PATIENCE)
        schema.make(store._db)
        return store

    def patience(self, seconds: float) -> None:
        """How long a change waits for another connection's transaction to end before
        it fails with sqlite3.OperationalError."""
        self._db.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
