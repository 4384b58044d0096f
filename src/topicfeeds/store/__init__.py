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
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from ..core.model import Record
from ..core.select import LastFeed, SortKey
from ..errors import Problem, StateBusy, StateError
from ..records import codec
from ..sources.chunks import Span
from ..sources.stamps import Listing, Stamp

_CHUNK = 500  # values a query takes at a time: SQLite caps the number of parameters

SCHEMA_VERSION = 8

# The record tables' secondary indexes. A cold build drops them while it fills the
# tables and builds each once at the end (see StateStore.filling).
_RECORDS_INDEXES = {
    # Rejected files are reported on every run.
    "files_rejected": "CREATE INDEX files_rejected ON files(name) WHERE light IS NULL;",
    "files_by_id": "CREATE INDEX files_by_id ON files(id_hash);",
    "file_topics_by_topic": "CREATE INDEX file_topics_by_topic ON file_topics(topic);",
    "file_topics_by_name": "CREATE INDEX file_topics_by_name ON file_topics(name);",
}

_RECORDS_SCHEMA = """
CREATE TABLE files (
    name TEXT PRIMARY KEY,      -- file name in the records folder, as _key stores it
    id TEXT,                    -- the record's entry id; NULL if rejected
    id_hash INTEGER,            -- the id's first 8 digest bytes (see _id_hash): its index is
                                -- a ninth of one on the ids themselves
    size INTEGER, mtime_ns INTEGER, ino INTEGER, ctime_ns INTEGER,
    sha256 BLOB,                -- the content's 32-byte digest; NULL when the file could not be read
    racy INTEGER NOT NULL,      -- written so close to its reading that stat alone proves nothing
    light TEXT,                 -- JSON: the record without images, related articles, name and
                                -- id (codec.encode_light_and_extra); NULL if rejected
    extra BLOB,                 -- zstd-compressed JSON: its images and related articles; NULL if rejected
    problems TEXT NOT NULL      -- the error that rejected the file, or the warnings about it
);
CREATE TABLE file_topics (
    topic TEXT NOT NULL,        -- casefolded record topic
    spelling TEXT NOT NULL,     -- as the record writes it
    name TEXT NOT NULL REFERENCES files(name),
    rank INTEGER NOT NULL       -- its place among the record's topics, from 0
);
""" + "\n".join(_RECORDS_INDEXES.values())

_WEBSUB_SCHEMA = """
CREATE TABLE pings (            -- WebSub publish notices not yet delivered
    hub TEXT NOT NULL, url TEXT NOT NULL,  -- the hub to tell, the feed URL that changed
    noted INTEGER NOT NULL DEFAULT 0,      -- which noting: a ping sent for an earlier one is not this one
    PRIMARY KEY (hub, url)
);
CREATE TABLE hubs (
    url TEXT PRIMARY KEY,
    not_before INTEGER NOT NULL -- microseconds since the epoch: the hub asked to wait (Retry-After)
);
"""

_ARCHIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive (  -- RFC 5005 archives: every entry an archived topic published
    feed TEXT NOT NULL, id TEXT NOT NULL,
    page INTEGER NOT NULL,      -- -1: selected in the subscription feed; 0: left it, in no page yet;
                                -- n: sealed in page n
    pos INTEGER NOT NULL,       -- its place in the feed (page -1), in the log (0) or in its page
    entry TEXT,                 -- JSON of the entry as last shown; NULL once sealed (the page keeps it)
    PRIMARY KEY (feed, id)
);
CREATE TABLE IF NOT EXISTS archive_pages (
    feed TEXT NOT NULL, page INTEGER NOT NULL,
    data BLOB,                  -- the page's bytes, as written once; NULL: found in the output,
                                -- not made by this state
    PRIMARY KEY (feed, page)
);
"""

_SCHEMA = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
    + _RECORDS_SCHEMA
    + """
CREATE TABLE entries (
    feed TEXT NOT NULL, id TEXT NOT NULL,
    hash TEXT NOT NULL,         -- of what subscribers see of the entry
    first_seen INTEGER NOT NULL, changed INTEGER,  -- microseconds since the epoch
    PRIMARY KEY (feed, id)
);
CREATE TABLE topics (
    slug TEXT PRIMARY KEY,
    valid_until INTEGER,        -- when max_age_days next changes what the topic selects
    floor TEXT                  -- JSON: the sort key of the last entry of a full feed; NULL if not full
);
CREATE TABLE outputs (
    file TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
"""
    + _WEBSUB_SCHEMA
    + _ARCHIVE_SCHEMA
)
# Schema 4 added the WebSub tables. Schema 5 adds the archive's, when a ping was noted,
# and keeps a record's images and related articles compressed, apart from the rest.
# Schema 6 keeps the light part without what columns hold, and indexes ids by a short
# digest. Schema 7 compresses the extra part with zstd rather than zlib. An older
# state is brought up to date without losing the entries' history: its parsed
# records are dropped, and with its fingerprint gone the next run is a full one, which
# reads them all again. Schema 8 stores a name that starts with "/" (a bucket key's,
# below its prefix) behind another "/", where schema 7 kept it as it is and then read
# it as hex: a schema 7 state drops only its rows whose names start with "/" (such a
# name, or a hex one), and with its noted listing gone the next run reads those again.
_NEW_RECORDS = f"""DROP TABLE file_topics; DROP TABLE files; {_RECORDS_SCHEMA}
DELETE FROM meta WHERE key IN ('fingerprint', 'listing', 'chunks');"""
_UPGRADES = {
    "3": _WEBSUB_SCHEMA + _ARCHIVE_SCHEMA + _NEW_RECORDS,
    "4": _ARCHIVE_SCHEMA + "ALTER TABLE pings ADD COLUMN noted INTEGER NOT NULL DEFAULT 0;" + _NEW_RECORDS,
    "5": _NEW_RECORDS,
    "6": _NEW_RECORDS,
    "7": """DELETE FROM file_topics WHERE substr(name, 1, 1) = '/';
DELETE FROM files WHERE substr(name, 1, 1) = '/';
DELETE FROM meta WHERE key IN ('listing', 'chunks');""",
}
_TABLES = frozenset(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", _SCHEMA))

# How long the state waits, at least, for another connection's write transaction to
# end: one that notes delivered pings outside a run's lock ends within milliseconds.
PATIENCE = 5.0

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


def _key(name: str) -> str:
    """The stored form of a file name: the name itself; for a name holding bytes that
    are not UTF-8 (which SQLite text cannot), "/" and the name's bytes in hex; for a
    name that starts with "/" (a bucket's key may, after its prefix), "/" before it. Hex
    digits are never "/", so the three forms never meet, and the stored forms of names
    that are UTF-8 sort as the names do (see `changed`)."""
    if name.isascii():
        return "/" + name if name[:1] == "/" else name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "/" + name.encode("utf-8", "surrogateescape").hex()
    return "/" + name if name[:1] == "/" else name


def _name(key: str) -> str:
    """The file name `_key` stored."""
    if key[:2] == "//":
        return key[1:]
    if key[:1] == "/":
        return bytes.fromhex(key[1:]).decode("utf-8", "surrogateescape")
    return key


_NO_STAMP = (None, None, None, None)

StoredRow = tuple[
    str,  # name
    str | None,  # the entry id; None if rejected
    int | None,  # the id's digest (codec.id_hash)
    tuple[int, int, int, int] | None,  # the stamp
    str | None,  # the content's SHA-256, in hex
    str | None,  # the light part (codec.encode_light_and_extra); None if rejected
    bytes | None,  # the extra part, compressed
    tuple[str, ...],  # the record's topics
    tuple[str, ...],  # the same, casefolded
    str,  # JSON: the error if rejected, else the warnings
]
"""One record file as `put` stores it: records.rows.Row, made where the file is read."""


class Cached(NamedTuple):
    """What the store knows of one record file."""

    stamp: Stamp | None
    sha256: str | None
    racy: bool


@dataclass(frozen=True, slots=True)
class History:
    """One entry's past in one feed."""

    hash: str
    first_seen: int  # microseconds since the epoch
    changed: int | None  # when its content last changed, if it ever did


@dataclass(frozen=True, slots=True)
class ArchiveRow:
    """One entry of an archived topic, where it stands (see the archive table)."""

    id: str
    page: int  # -1: selected in the subscription feed; 0: left it, unsealed; n: in page n
    pos: int
    entry: str | None  # JSON (codec.encode_entry) as last shown; None once sealed


class StateStore:
    """A connection to the state file, or to a throw-away in-memory store."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._pending_files: list[tuple[object, ...]] = []
        self._pending_topics: list[tuple[str, str, str, int]] = []
        self._keeping = False  # inside a transaction that is to be committed

    @classmethod
    def open(
        cls, path: Path | None, *, wait: float = 0.0, look: bool = False
    ) -> tuple[StateStore, list[Problem]]:
        """Open (or create) the store at `path`; None keeps it in memory for one run.

        A file this version cannot read is moved aside and a new store begun (see
        `anew`; with `look`, as for a dry run, it is left where it is). Returns the store
        and warnings about such a file. Raises StateError when the file cannot be used
        now (not writable, its disk full), StateBusy when another process writes it for
        longer than `wait` seconds (and PATIENCE)."""
        if path is None:
            return cls._create(None), []
        _check_writable(path)
        store = None
        try:
            store = cls._connect(path, max(wait, PATIENCE))
            why = store._ready()
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
    def attach(cls, path: Path) -> StateStore:
        """Another connection to the state file at `path` as it is: nothing is created,
        upgraded or rebuilt, for it may be open beside a run (sqlite3.Error when it
        cannot be opened)."""
        uri = f"{path.resolve().as_uri()}?mode=rw"  # not created where it is missing
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
        connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection)

    @classmethod
    def peek(cls, path: Path) -> StateStore:
        """Open the store at `path` for reading only: never created, upgraded or rebuilt,
        and no lock needed (a run under way shows what it learnt once it commits).
        Raises sqlite3.DatabaseError when it cannot be read."""
        # Not mode=ro: a read-only connection leaves the write-ahead log's files behind,
        # owned by whoever looked, where the next build must write them.
        connection = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, isolation_level=None)
        connection.execute("PRAGMA query_only = 1")
        return cls(connection)

    @classmethod
    def anew(cls, path: Path, why: str, *, look: bool = False) -> tuple[StateStore, list[Problem]]:
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

    def _ready(self) -> str | None:
        """Make a new file a store, or bring an older schema up to date; return why
        the file cannot be used as a store, or None."""
        tables = self._tables()
        if not tables:  # a new file (or one that holds nothing)
            self._make()
            return None
        version = self.meta("schema") if "meta" in tables else None
        if version is None:
            return "not a topicfeeds state file"
        if version not in _UPGRADES and version != str(SCHEMA_VERSION):
            return f"state of schema {version}, not {SCHEMA_VERSION}"
        self._log_ahead()  # only now: a file that is no state is moved aside as it was
        if version in _UPGRADES:
            self._db.executescript(f"BEGIN; {_UPGRADES[version]} COMMIT;")
            self.set_meta("schema", str(SCHEMA_VERSION))
        missing = _TABLES.difference(self._tables())
        if missing:
            return f"state file damaged (no table {', '.join(sorted(missing))})"
        self._index_records()  # a cold build killed while filling left them out
        return None

    @classmethod
    def _connect(cls, path: Path, patience: float) -> StateStore:
        connection = sqlite3.connect(path, isolation_level=None, timeout=patience)
        # Takes effect only on a new file. A record row is about 1.2 KB: three fit in a
        # 4 KB page with a quarter of it unused, thirteen in a 16 KB page.
        connection.execute("PRAGMA page_size=16384")
        connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection)

    def _log_ahead(self) -> None:
        # The write-ahead log lets a killed run leave the last committed state intact.
        self._db.execute("PRAGMA journal_mode=WAL")

    @classmethod
    def _create(cls, path: Path | None) -> StateStore:
        if path is None:
            store = cls(sqlite3.connect(":memory:", isolation_level=None))
        else:
            store = cls._connect(path, PATIENCE)
        store._make()
        return store

    def _make(self) -> None:
        self._log_ahead()
        # At once: a run killed meanwhile leaves no file with half the tables.
        self._db.executescript(
            f"BEGIN; {_SCHEMA} INSERT INTO meta (key, value) VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;"
        )

    def _tables(self) -> list[str]:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return [r[0] for r in rows]

    def _index_records(self) -> None:
        """Build the record tables' secondary indexes that are missing (only reading
        when none is: another process may be writing)."""
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        present = {name for (name,) in rows}
        for name, statement in _RECORDS_INDEXES.items():
            if name not in present:
                self._db.execute(statement)

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
        whose partial work is safe to keep (see pipeline._Run.prepare). Inside
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

    def patience(self, seconds: float) -> None:
        """How long a change waits for another connection's transaction to end before
        it fails with sqlite3.OperationalError."""
        self._db.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- meta

    def meta(self, key: str) -> str | None:
        """A stored setting, or None."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def reset(self, *, records: bool = False) -> None:
        """Forget everything derived from the configuration, and with `records` the
        parsed records too (kept: the history of published entries, and the files
        published, which a later run may be asked to remove)."""
        self._db.execute("DELETE FROM topics")
        self._db.execute("DELETE FROM meta WHERE key = 'rendered'")
        if records:
            self._db.execute("DELETE FROM file_topics")
            self._db.execute("DELETE FROM files")

    # -- record files

    def changed(
        self, listing: Listing, spans: Sequence[Span] | None = None
    ) -> tuple[set[str], dict[str, Cached]]:
        """Every known record file's name (or those whose names fall in `spans`: names
        that are UTF-8, as `chunks` uses them), and what the store knows of those whose
        stamp differs from `listing`'s (or is gone from it), or that are racy."""
        known: set[str] = set()
        cached: dict[str, Cached] = {}
        query = "SELECT name, size, mtime_ns, ino, ctime_ns, sha256, racy FROM files"
        parts: Iterable[tuple[str | None, str | None]] = [(None, None)]
        if spans is not None:
            parts = [(s.low, s.high) for s in spans]
        get = listing.get
        for low, high in parts:
            where = [c for c, v in (("name >= ?", low), ("name < ?", high)) if v is not None]
            args = [_key(v) for v in (low, high) if v is not None]
            rows = self._db.execute(query + (" WHERE " + " AND ".join(where) if where else ""), args)
            # Compared as plain tuples (a Stamp equals its tuple), with a Stamp made
            # only for the few that differ.
            for key, size, mtime, ino, ctime, sha, racy in rows:
                name = _name(key) if key[:1] == "/" else key
                known.add(name)
                if racy or get(name) != (size, mtime, ino, ctime):
                    stamp = None if size is None else Stamp(size, mtime, ino, ctime)
                    cached[name] = Cached(stamp, None if sha is None else sha.hex(), bool(racy))
        return known, cached

    def _where_in(self, query: str, values: Iterable[str] | Iterable[int]) -> Iterator[tuple[Any, ...]]:
        """Rows of `query`, whose `{marks}` stands for a list of values, for all of
        `values`: in chunks, since SQLite caps the number of parameters."""
        ordered: list[Any] = sorted(values)
        for start in range(0, len(ordered), _CHUNK):
            part = ordered[start : start + _CHUNK]
            # Not `yield from` the cursor: closing this generator would close the cursor
            # too, which raises once the store is closed (a run stopped by a signal
            # drops a half-read query after its store).
            for row in self._db.execute(query.format(marks=",".join("?" * len(part))), part):  # noqa: UP028
                yield row

    def copies_of(self, ids: Iterable[str]) -> Iterator[tuple[str, codec.Light]]:
        """(entry id, light record) of every good record of the articles `ids` (all
        copies of each), through the index on the ids' digests."""
        wanted = set(ids)
        query = "SELECT name, id, light FROM files WHERE id_hash IN ({marks}) AND light IS NOT NULL"
        for key, article, light in self._where_in(query, map(codec.id_hash, wanted)):
            if article in wanted:  # not another id with the same digest
                yield article, codec.Light(_name(key), article, light)

    def ids_of(self, names: Iterable[str]) -> set[str]:
        """The entry ids of the good records among files `names`."""
        query = "SELECT id FROM files WHERE name IN ({marks}) AND id IS NOT NULL"
        return {i for (i,) in self._where_in(query, (_key(n) for n in names))}

    def good_count(self, names: Iterable[str]) -> int:
        """How many of the files `names` hold a good record."""
        query = "SELECT COUNT(*) FROM files WHERE name IN ({marks}) AND light IS NOT NULL"
        return sum(int(n) for (n,) in self._where_in(query, (_key(n) for n in names)))

    def topics_of(self, name: str) -> set[str]:
        """The casefolded topics the record in file `name` had."""
        rows = self._db.execute("SELECT topic FROM file_topics WHERE name = ?", (_key(name),))
        return {r[0] for r in rows}

    def put(self, row: StoredRow, racy: bool, *, new: bool = False) -> None:
        """Store what reading a file gave; `new` when the store knew no such file.
        Rows are written in batches: call `flush` before reading them back."""
        name, entry_id, id_hash, stamp, sha256, light, extra, topics, folded, problems = row
        key = _key(name)
        if not new:
            self.flush()
            self._db.execute("DELETE FROM file_topics WHERE name = ?", (key,))
        size, mtime_ns, ino, ctime_ns = _NO_STAMP if stamp is None else stamp
        digest = None if sha256 is None else bytes.fromhex(sha256)
        self._pending_files.append(
            (key, entry_id, id_hash, size, mtime_ns, ino, ctime_ns, digest, int(racy), light, extra, problems)
        )
        if topics:
            self._pending_topics.extend(zip(folded, topics, repeat(key), range(len(topics))))
        if len(self._pending_files) >= 1000:
            self.flush()

    def flush(self) -> None:
        """Write the rows `put` holds back (one statement per batch, not per file)."""
        if self._pending_files:
            self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 self._pending_files)  # fmt: skip
            self._pending_files.clear()
        if self._pending_topics:
            self._db.executemany("INSERT INTO file_topics VALUES (?, ?, ?, ?)", self._pending_topics)
            self._pending_topics.clear()

    def holds_files(self) -> bool:
        """Whether the store knows any record file."""
        return self._db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None

    @contextlib.contextmanager
    def filling(self) -> Iterator[None]:
        """Around storing many files (`put`): when the store holds none yet, as in a cold
        build, its secondary indexes are dropped first and each built once at the end,
        which costs a third of what keeping them up to date row by row does. Should the
        run be killed meanwhile, the rows it kept wait without them until the store is
        opened again (see `open`). Nothing may read the record tables inside."""
        empty = not self.holds_files()
        if empty:
            for name in _RECORDS_INDEXES:
                self._db.execute(f"DROP INDEX IF EXISTS {name}")
        yield
        if empty:
            self.flush()
            self._index_records()

    def restamp(self, name: str, stamp: Stamp, racy: bool) -> None:
        """Note a new stamp for a file whose content did not change."""
        self._db.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, ino = ?, ctime_ns = ?, racy = ? WHERE name = ?",
            (stamp.size, stamp.mtime_ns, stamp.ino, stamp.ctime_ns, int(racy), _key(name)),
        )

    def forget(self, name: str) -> None:
        """Drop a file that is gone."""
        key = _key(name)
        self._db.execute("DELETE FROM file_topics WHERE name = ?", (key,))
        self._db.execute("DELETE FROM files WHERE name = ?", (key,))

    def counts(self) -> tuple[int, int]:
        """How many files are known, and how many of them are rejected. Both through
        indexes: reading every row would cost more than the rest of an idle run."""
        (total,) = self._db.execute("SELECT COUNT(*) FROM files").fetchone()
        (rejected,) = self._db.execute(
            "SELECT COUNT(*) FROM files INDEXED BY files_rejected WHERE light IS NULL"
        ).fetchone()
        return int(total), int(rejected)

    def rejected_count(self) -> int:
        """How many known files are rejected, through their index."""
        (rejected,) = self._db.execute(
            "SELECT COUNT(*) FROM files INDEXED BY files_rejected WHERE light IS NULL"
        ).fetchone()
        return int(rejected)

    def errors(self) -> list[Problem]:
        """Why each rejected file was rejected, by file name."""
        rows = self._db.execute(
            "SELECT problems FROM files INDEXED BY files_rejected WHERE light IS NULL ORDER BY name"
        )
        return [p for (text,) in rows for p in codec.decode_problems(text)]

    def topic_names(self, per_record: int) -> dict[str, tuple[str, int]]:
        """Every record topic among the first `per_record` of some record, casefolded,
        with one spelling of it (the same whatever the order) and how many records
        name it there (a record names a topic once: the reader drops repeats)."""
        rows = self._db.execute(
            "SELECT topic, MIN(spelling), COUNT(*) FROM file_topics WHERE rank < ? GROUP BY topic",
            (per_record,),
        )
        return {topic: (spelling, count) for topic, spelling, count in rows}

    def light_records(self, topics: Sequence[str] | None) -> Iterator[tuple[str, codec.Light]]:
        """(file name, light record) of the records having one of `topics`
        (casefolded), or of every record when `topics` is None; each once."""
        if topics is None:
            rows = self._db.execute("SELECT name, id, light FROM files WHERE light IS NOT NULL ORDER BY name")
        else:
            marks = ",".join("?" * len(topics))
            rows = self._db.execute(
                f"SELECT DISTINCT f.name, f.id, f.light FROM file_topics t JOIN files f ON f.name = t.name "
                f"WHERE t.topic IN ({marks}) ORDER BY f.name",
                tuple(topics),
            )
        for key, entry_id, light in rows:
            name = _name(key)
            yield name, codec.Light(name, entry_id, light)

    def full_records(self, names: Iterable[str]) -> dict[str, Record]:
        """The whole records of files `names`."""
        rows = self._where_in(
            "SELECT name, id, light, extra FROM files WHERE name IN ({marks})", (_key(n) for n in names)
        )
        found = {}
        for key, entry_id, light, extra in rows:
            name = _name(key)
            found[name] = codec.with_extra(codec.decode_light(codec.Light(name, entry_id, light)), extra)
        return found

    # -- published entries

    def history(self, feed: str) -> dict[str, History]:
        """The past of every entry feed `feed` published last time."""
        rows = self._db.execute("SELECT id, hash, first_seen, changed FROM entries WHERE feed = ?", (feed,))
        return {i: History(h, first, changed) for i, h, first, changed in rows}

    def set_history(self, feed: str, histories: dict[str, History]) -> None:
        """Replace feed `feed`'s entries with `histories` (entries that left the feed go)."""
        self._db.execute("DELETE FROM entries WHERE feed = ?", (feed,))
        self._db.executemany(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?)",
            [(feed, i, h.hash, h.first_seen, h.changed) for i, h in histories.items()],
        )

    # -- topics and their files

    def topic_valid_until(self) -> dict[str, int | None]:
        """For every topic last built, when its selection next changes with time alone."""
        return dict(self._db.execute("SELECT slug, valid_until FROM topics").fetchall())

    def set_topic(self, slug: str, valid_until: int | None, floor: SortKey | None) -> None:
        """Note that topic `slug` was built, until when it holds, and the sort key of the
        last entry of its feed if the feed was full."""
        floor_text = None if floor is None else json.dumps(floor)
        self._db.execute("INSERT OR REPLACE INTO topics VALUES (?, ?, ?)", (slug, valid_until, floor_text))

    def last_feed(self, slug: str) -> LastFeed | None:
        """What topic `slug`'s last build published, or None when it must be built anew."""
        row = self._db.execute("SELECT floor FROM topics WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            return None
        ids = frozenset(i for (i,) in self._db.execute("SELECT id FROM entries WHERE feed = ?", (slug,)))
        floor = None if row[0] is None else json.loads(row[0])
        return LastFeed(ids, None if floor is None else (float(floor[0]), float(floor[1]), str(floor[2])))

    def rendered(self) -> dict[str, str]:
        """For each topic whose files are as its last build wrote them, the digest of
        what they were made of (formats.topic_digest)."""
        text = self.meta("rendered")
        return {} if not text else {str(k): str(v) for k, v in json.loads(text).items()}

    def set_rendered(self, digests: dict[str, str]) -> None:
        """Note the digest each topic's files were made of (see `rendered`)."""
        self.set_meta("rendered", json.dumps(digests, sort_keys=True, separators=(",", ":")))

    def forget_topic(self, slug: str) -> None:
        """Note that topic `slug` must be built again."""
        self._db.execute("DELETE FROM topics WHERE slug = ?", (slug,))

    def outputs(self) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of every output file as last written or checked."""
        rows = self._db.execute("SELECT file, size, mtime_ns FROM outputs")
        return {f: (size, mtime) for f, size, mtime in rows}

    def set_output(self, file: str, size: int, mtime_ns: int) -> None:
        """Note an output file as it now is."""
        self._db.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", (file, size, mtime_ns))

    def forget_output(self, file: str) -> None:
        """Note that output file `file` is no longer this program's: removed, or gone."""
        self._db.execute("DELETE FROM outputs WHERE file = ?", (file,))

    # -- archives

    def archive_entries(self, feed: str) -> list[ArchiveRow]:
        """Every entry archived topic `feed` published, by place (see the archive table)."""
        rows = self._db.execute(
            "SELECT id, page, pos, entry FROM archive WHERE feed = ? ORDER BY page, pos", (feed,)
        )
        return [ArchiveRow(i, page, pos, entry) for i, page, pos, entry in rows]

    def set_archive_entries(self, feed: str, rows: Iterable[ArchiveRow]) -> None:
        """Store `rows` of feed `feed`, replacing those of the same ids (an id is never dropped)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO archive VALUES (?, ?, ?, ?, ?)",
            [(feed, r.id, r.page, r.pos, r.entry) for r in rows],
        )

    def archive_pages(self, feed: str) -> list[int]:
        """The numbers of feed `feed`'s archive pages, oldest first."""
        rows = self._db.execute("SELECT page FROM archive_pages WHERE feed = ? ORDER BY page", (feed,))
        return [n for (n,) in rows]

    def found_pages(self, feed: str) -> list[int]:
        """The numbers of feed `feed`'s archive pages this state found in the output
        rather than made, oldest first."""
        rows = self._db.execute(
            "SELECT page FROM archive_pages WHERE feed = ? AND data IS NULL ORDER BY page", (feed,)
        )
        return [n for (n,) in rows]

    def archive_page(self, feed: str, page: int) -> bytes | None:
        """The bytes of archive page `page` of feed `feed`; None when this state did not make it."""
        row = self._db.execute(
            "SELECT data FROM archive_pages WHERE feed = ? AND page = ?", (feed, page)
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def add_archive_page(self, feed: str, page: int, data: bytes | None) -> None:
        """Keep archive page `page` of feed `feed` as written (None: found, not made)."""
        self._db.execute("INSERT OR REPLACE INTO archive_pages VALUES (?, ?, ?)", (feed, page, data))

    # -- WebSub

    def add_pings(self, hub: str, urls: Iterable[str]) -> None:
        """Note that `hub` is to be told that the feeds at `urls` changed. A ping already
        waiting is noted anew, so one being sent meanwhile (pings go out after the run
        has let go of the lock) does not count for this change."""
        self._db.executemany(
            "INSERT INTO pings VALUES (?, ?, (SELECT COALESCE(MAX(noted), 0) + 1 FROM pings)) "
            "ON CONFLICT (hub, url) DO UPDATE SET noted = excluded.noted",
            ((hub, u) for u in urls),
        )

    def pings(self) -> dict[str, list[str]]:
        """The feed URLs each hub is still to be told about."""
        return {hub: list(urls) for hub, urls in self.noted_pings().items()}

    def noted_pings(self) -> dict[str, dict[str, int]]:
        """The feed URLs each hub is still to be told about, with when each was noted."""
        found: dict[str, dict[str, int]] = {}
        for hub, url, noted in self._db.execute("SELECT hub, url, noted FROM pings ORDER BY hub, url"):
            found.setdefault(hub, {})[url] = noted
        return found

    def drop_pings(
        self, hub: str, urls: Iterable[str] | None = None, noted: dict[str, int] | None = None
    ) -> None:
        """Forget pings of `hub`: delivered (`urls`), or all of them. With `noted`, only
        those not noted again since (a later run changed the feed once more)."""
        if urls is None:
            self._db.execute("DELETE FROM pings WHERE hub = ?", (hub,))
        elif noted is None:
            self._db.executemany("DELETE FROM pings WHERE hub = ? AND url = ?", ((hub, u) for u in urls))
        else:
            self._db.executemany(
                "DELETE FROM pings WHERE hub = ? AND url = ? AND noted = ?",
                ((hub, u, noted[u]) for u in urls),
            )

    def hub_not_before(self, hub: str) -> int:
        """Until when (microseconds) `hub` asked not to be sent anything; 0 if it did not."""
        row = self._db.execute("SELECT not_before FROM hubs WHERE url = ?", (hub,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_hub_not_before(self, hub: str, when: int) -> None:
        """Note that `hub` asked not to be sent anything before `when` (microseconds)."""
        self._db.execute("INSERT OR REPLACE INTO hubs VALUES (?, ?)", (hub, when))


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


def _check_writable(path: Path) -> None:
    """Refuse a state this process may read but not write (another user's file, a
    read-only mount) before SQLite opens it: it would be opened read-only, and fail only
    at the run's first change, leaving a log and its index behind."""
    for end in _COMPANIONS:
        part = path.with_name(path.name + end)
        if part.exists() and not os.access(part, os.R_OK | os.W_OK):
            raise StateError(path, f"{part.name} is not writable by this user")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StateError(path, "its folder is not writable by this user")
