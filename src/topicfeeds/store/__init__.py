"""The state store: what earlier runs learnt, kept in SQLite beside config.yaml.

It holds the parsed record of every file (keyed by its stat stamp, with a content
hash for files too recently written to trust stat), an index of record topics, the
history of every published entry (so an edited record's `updated` moves while its
id stays), and what each topic's feeds looked like when last written. Deleting it
is always safe: the next run reads every record again. An older schema is brought up
to date. A file this version cannot read (not a database, damaged, of a schema it
has no upgrade for) is moved aside, never deleted, and a new state begun, with a
warning naming where it went. Any other failure (the file read-only, its disk full,
another process writing it) is an error the run reports, the file left as it was.

`StateStore` joins parts over one connection, each by what it stores: records.py (the
record files and their topics), feeds.py (settings, topics, entries' history, output
files), archive.py (RFC 5005 archives), pings.py (WebSub, and the CDN purges pings wait
for); beside them schema.py (the
tables and the numbered migrations), connection.py (opening the file), faults.py
(what is damage and what is a fault) and names.py (the stored form of a file name).

A second backend (PostgreSQL is planned: the same tables in a schema of its own, the
same numbered migrations) implements the same methods, in plain values (str, int,
bytes, tuples, codec.Light and the dataclasses here):
- opening: `open(where, wait=, look=) -> (store, warnings)` makes the tables, or runs
  every migration step from the version the state holds; `attach(where, read_only=)`
  joins a state as it is; `patience(seconds)`, `close()`.
- transactions: `with store:` lands a run's changes at once or not at all;
  `keep_progress()` commits and goes on; `scratch()` is always rolled back.
- records: `put(row, racy, new=)` may hold rows back until `flush()`; `filling()`
  around many puts; `restamp`, `forget`, `changed(listing, spans)`, `holds_files`,
  `counts`, `rejected_count`, `errors`, `topic_names`, `light_records`,
  `full_records`, `copies_of`, `ids_of`, `good_count`, `topics_of`.
- feeds: `meta`, `set_meta`, `reset`, `history`, `set_history`, `topic_valid_until`,
  `set_topic`, `last_published`, `forget_topic`, `outputs`, `set_output`, `forget_output`.
- archive: `archive_entries`, `set_archive_entries`, `archive_pages`, `found_pages`,
  `archive_page`, `add_archive_page`.
- pings: `add_pings`, `noted_pings`, `drop_pings`, `hub_not_before`, `set_hub_not_before`,
  `add_purges`, `noted_purges`, `drop_purges`.
- faults: damage begins a new state (`anew`); any other error is StateBusy or
  StateError, the state left as it was (see faults.py).
Written once over those: `last_feed`, `rendered`, `set_rendered`, `pings`.
Shared by every backend: names.py (stored names sort as the names do, which `changed`
relies on) and records/codec.py (the stored form of a record). SQLite's own, where a
second backend supplies its own: connection.py (the file, its write-ahead log, the
PRAGMAs), schema.py (the DDL, BLOB columns, each step's script), faults.py (result
codes, moving a file aside), `BEGIN IMMEDIATE` below, and each part's statements
(`INSERT OR REPLACE`, `INDEXED BY`, `?` parameters).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from types import TracebackType

from ..core.history import History
from ..core.incremental import LastFeed
from .archive import Archive, ArchiveRow
from .connection import Connection
from .faults import damaged, fault
from .feeds import Feeds
from .pings import Pings
from .records import Cached, Records
from .schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "ArchiveRow",
    "Cached",
    "History",
    "StateStore",
    "damaged",
    "fault",
]


class StateStore(Records, Feeds, Archive, Pings, Connection):
    """A connection to the state file, or to a throw-away in-memory store: every part,
    and the transaction a run's changes land in."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        self._pending_files = []
        self._pending_topics = []
        self._keeping = False  # inside a transaction that is to be committed

    def last_feed(self, slug: str) -> LastFeed | None:
        """What topic `slug`'s last build published, or None when it must be built anew."""
        published = self.last_published(slug)
        return None if published is None else LastFeed(*published)

    def reset(self, *, records: bool = False) -> None:
        """Forget everything derived from the configuration, and with `records` the
        parsed records too (kept: the history of published entries, and the files
        published, which a later run may be asked to remove)."""
        self._db.execute("DELETE FROM topics")
        self._db.execute("DELETE FROM meta WHERE key = 'rendered'")
        if records:
            self._db.execute("DELETE FROM file_topics")
            self._db.execute("DELETE FROM files")

    # -- transactions

    def __enter__(self) -> StateStore:
        self._db.execute("BEGIN IMMEDIATE")
        self._keeping = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Everything a run learnt lands at once, after its feeds are in place: a run
        # that dies leaves the previous state, and the next run redoes its work.
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
        """Roll back the transaction, if there is one: a signal that ends the run
        between `keep_progress`'s COMMIT and its BEGIN leaves none, and a write that
        failed (a full disk) may have rolled it back already. A rollback that fails
        must not hide why the run ends: closing the connection rolls back too."""
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def keep_progress(self) -> None:
        """Commit what the transaction holds so far and go on in a new one: for a run
        whose partial work is safe to keep (see pipeline.refresh.prepare). Inside
        `scratch` only the held-back rows are written, and all is still rolled back."""
        self.flush()
        if self._keeping:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN IMMEDIATE")

    @contextlib.contextmanager
    def scratch(self) -> Iterator[StateStore]:
        """A transaction that is always rolled back: for looking, not for keeping."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        finally:
            self._pending_files.clear()
            self._pending_topics.clear()
            self._roll_back()
