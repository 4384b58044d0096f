"""The state store in PostgreSQL: the same tables as SQLite's in a schema of their own,
the same numbered migrations, the same protocol (see store/__init__.py), so that a run
does not know which it has. For runners on fresh disks (a scheduled container, a CI
job) and for runners on several machines: the state outlives every one of them, and
the run's lock is in the database, held by the run's session, so that a runner that is
killed, or whose machine vanishes, never blocks the next one, wherever it runs.

Parts, each by what it stores as SQLite's are: records.py, feeds.py, archive.py,
pings.py; beside them schema.py (the tables, the migrations) and connection.py (the
session, its errors, the lock). psycopg is imported only here, and only once a state in
PostgreSQL is opened: a state in a file needs none of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

from ..common import Common
from .archive import Archive
from .connection import Connection, Database
from .feeds import Feeds
from .pings import Pings
from .records import Records
from .schema import TABLES

__all__ = ["PostgresStore"]


class PostgresStore(Records, Feeds, Archive, Pings, Common, Connection):
    """A session on a state in PostgreSQL: every part, and the transaction a run's
    changes land in."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._pending_files = []
        self._pending_topics = []
        self._pending_keys = set()
        self._copying = False
        self._keeping = False  # inside a transaction that is to be committed

    def reset(self, *, records: bool = False) -> None:
        """Forget everything derived from the configuration, and with `records` the
        parsed records too (kept: the history of published entries, and the files
        published, which a later run may be asked to remove)."""
        self._db.execute("DELETE FROM topics")
        self._db.execute("DELETE FROM meta WHERE key = 'rendered'")
        if records:
            # TRUNCATE, not DELETE: a cold build after it fills the tables as it fills
            # new ones, and their space is given back at once.
            self._db.execute("TRUNCATE file_topics, files")

    # -- transactions

    def __enter__(self) -> PostgresStore:
        self._db.execute("BEGIN")
        self._keeping = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Everything a run learnt lands at once, after its feeds are in place: a run
        # that dies, or whose server goes away, leaves the previous state.
        self._keeping = False
        if kind is None:
            try:
                self.flush()
                self._db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        else:
            self._roll_back()

    def _roll_back(self) -> None:
        """Roll back the transaction, if there is one; on a lost session there is
        nothing to do (the server rolled it back), and a rollback that fails must not
        hide why the run ends."""
        self._pending_files.clear()
        self._pending_topics.clear()
        self._pending_keys.clear()
        if not self._db.closed and self._db.in_transaction:
            with contextlib.suppress(Exception):
                self._db.execute("ROLLBACK")

    def keep_progress(self) -> None:
        """Commit what the transaction holds so far and go on in a new one. Inside
        `scratch` only the held-back rows are written, and all is still rolled back."""
        self.flush()
        if self._keeping:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")

    @contextlib.contextmanager
    def scratch(self) -> Iterator[PostgresStore]:
        """A transaction that is always rolled back: for looking, not for keeping."""
        self._db.execute("BEGIN")
        try:
            yield self
        finally:
            self._roll_back()

    # -- moving a state (store/copy.py)

    def tables(self) -> Sequence[str]:
        """Every table of the state, in an order their rows may be added in."""
        return TABLES

    def table_rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """Every row of `table`, its columns in the order of the schema."""
        return self._db.stream(f"SELECT * FROM {table}")

    def add_rows(self, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add `rows` (another store's `table_rows`) to the empty table `table`."""
        columns = self._db.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        types = [_COPY_TYPES[kind] for _, kind in columns]
        self._db.copy(table, ", ".join(name for name, _ in columns), types, rows)

    def clear(self) -> None:
        """Empty every table, for a state copied over it (its rows bring the schema's version)."""
        self._db.execute(f"TRUNCATE {', '.join(TABLES)}")


_COPY_TYPES = {"text": "text", "bigint": "int8", "integer": "int4", "smallint": "int2", "bytea": "bytea"}
