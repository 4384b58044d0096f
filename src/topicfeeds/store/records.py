"""The record tables: every record file's stamp, content digest and parsed record
(files), and the topics each record names (file_topics).

The hot path of a cold build (`put`, `flush`, `filling`) and of every run (`changed`):
each statement here is as cheap as it was measured to be; keep them so.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any, NamedTuple, Protocol

from ..core.model import Record
from ..errors import Problem
from ..records import codec
from .names import key_of, name_of
from .schema import RECORDS_INDEXES, index_records

_CHUNK = 500  # values a query takes at a time: SQLite caps the number of parameters

StampTuple = tuple[int, int, int, int]
"""What stat says of a file: size, mtime_ns, ino, ctime_ns (sources.stamps.Stamp)."""

StoredRow = tuple[
    str,  # name
    str | None,  # the entry id; None if rejected
    int | None,  # the id's digest (codec.id_hash)
    StampTuple | None,
    str | None,  # the content's SHA-256, in hex
    str | None,  # the light part (codec.encode_light_and_extra); None if rejected
    bytes | None,  # the extra part, compressed
    tuple[str, ...],  # the record's topics
    tuple[str, ...],  # the same, casefolded
    str,  # JSON: the error if rejected, else the warnings
    int,  # when the file was stat-ed (not stored)
]
"""One record file as `put` stores it: records.rows.Row, made where the file is read."""

_NO_STAMP = (None, None, None, None)


class Stamps(Protocol):
    """The listed stamp of each record file, names sorted (sources.stamps.Listing)."""

    def __len__(self) -> int:
        """How many names are listed."""

    def finder(self, seen: bytearray | None = None) -> Callable[[str], StampTuple | None]:
        """A lookup of names one after another: the stamp of each, or None when it is
        not listed; each name found marked in `seen` (a byte a listed name, in order)."""


class NameRange(Protocol):
    """A range of file names, `low` up to `high` (sources.chunks.Span); None: open."""

    @property
    def low(self) -> str | None:
        """The first name of the range, or None: from the first."""

    @property
    def high(self) -> str | None:
        """The name after the range, or None: to the last."""


class Cached(NamedTuple):
    """What the store knows of one record file."""

    stamp: StampTuple | None
    sha256: str | None
    racy: bool


STAMP_ROWS = "SELECT name, size, mtime_ns, ino, ctime_ns, sha256, racy FROM files"
"""The rows `compare_stamps` reads; a store adds the condition of a range of names."""


def name_ranges(spans: Sequence[NameRange] | None) -> list[tuple[str | None, str | None]]:
    """(low, high) of each span; one open range for every name when there are none."""
    return [(None, None)] if spans is None else [(s.low, s.high) for s in spans]


def compare_stamps(
    listing: Stamps, ranges: Iterable[Iterable[tuple[Any, ...]]]
) -> tuple[bytearray, dict[str, Cached]]:
    """What a store's `changed` answers, from the rows of STAMP_ROWS (one iterable of
    them a range of names): which of `listing`'s names the store knows (a byte a name,
    1: known), and what it knows of each known file whose stamp differs from
    `listing`'s (or is gone from it), or that is racy."""
    seen = bytearray(len(listing))
    cached: dict[str, Cached] = {}
    get = listing.finder(seen)
    for rows in ranges:
        # Compared as plain tuples (a Stamp equals its tuple), with a tuple made only
        # for the few that differ; every name looked up, to mark it seen.
        for key, size, mtime, ino, ctime, sha, racy in rows:
            name = name_of(key) if key[:1] == "/" else key
            if get(name) != (size, mtime, ino, ctime) or racy:
                stamp = None if size is None else (size, mtime, ino, ctime)
                cached[name] = Cached(stamp, None if sha is None else sha.hex(), bool(racy))
    return seen, cached


class Records:
    """The record tables' part of the state store (see StateStore)."""

    _db: sqlite3.Connection
    _pending_files: list[tuple[object, ...]]  # rows `put` holds back
    _pending_topics: list[tuple[str, str, str, int]]

    def changed(
        self, listing: Stamps, spans: Sequence[NameRange] | None = None
    ) -> tuple[bytearray, dict[str, Cached]]:
        """Which of `listing`'s names the store knows, and what it knows of those whose
        stamp differs (`compare_stamps`): every stored name, or those that fall in
        `spans` (names that are UTF-8, as `chunks` uses them)."""

        def ranges() -> Iterator[Iterable[tuple[Any, ...]]]:
            for low, high in name_ranges(spans):
                where = [c for c, v in (("name >= ?", low), ("name < ?", high)) if v is not None]
                args = [key_of(v) for v in (low, high) if v is not None]
                yield self._db.execute(STAMP_ROWS + (" WHERE " + " AND ".join(where) if where else ""), args)

        return compare_stamps(listing, ranges())

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
                yield article, codec.Light(name_of(key), article, light)

    def ids_of(self, names: Iterable[str]) -> set[str]:
        """The entry ids of the good records among files `names`."""
        query = "SELECT id FROM files WHERE name IN ({marks}) AND id IS NOT NULL"
        return {i for (i,) in self._where_in(query, (key_of(n) for n in names))}

    def good_count(self, names: Iterable[str]) -> int:
        """How many of the files `names` hold a good record."""
        query = "SELECT COUNT(*) FROM files WHERE name IN ({marks}) AND light IS NOT NULL"
        return sum(int(n) for (n,) in self._where_in(query, (key_of(n) for n in names)))

    def topics_of(self, name: str) -> set[str]:
        """The casefolded topics the record in file `name` had."""
        rows = self._db.execute("SELECT topic FROM file_topics WHERE name = ?", (key_of(name),))
        return {r[0] for r in rows}

    def put(self, row: StoredRow, racy: bool, *, new: bool = False) -> None:
        """Store what reading a file gave; `new` when the store knew no such file.
        Rows are written in batches: call `flush` before reading them back."""
        name, entry_id, id_hash, stamp, sha256, light, extra, topics, folded, problems, _ = row
        key = key_of(name)
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
            for name in RECORDS_INDEXES:
                self._db.execute(f"DROP INDEX IF EXISTS {name}")
        yield
        if empty:
            self.flush()
            index_records(self._db)

    def restamp(self, stamps: Iterable[tuple[str, StampTuple, bool]]) -> None:
        """Note new stamps (name, stamp, racy) for files whose content did not change: in
        one statement, for the run after a cold build restamps thousands."""
        self._db.executemany(
            "UPDATE files SET size = ?, mtime_ns = ?, ino = ?, ctime_ns = ?, racy = ? WHERE name = ?",
            ((*stamp, int(racy), key_of(name)) for name, stamp, racy in stamps),
        )

    def forget(self, name: str) -> None:
        """Drop a file that is gone."""
        key = key_of(name)
        self._db.execute("DELETE FROM file_topics WHERE name = ?", (key,))
        self._db.execute("DELETE FROM files WHERE name = ?", (key,))

    def counts(self) -> tuple[int, int]:
        """How many files are known, and how many of them are rejected. Both through
        indexes: reading every row would cost more than the rest of an idle run."""
        (total,) = self._db.execute("SELECT COUNT(*) FROM files").fetchone()
        return int(total), self.rejected_count()

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
            name = name_of(key)
            yield name, codec.Light(name, entry_id, light)

    def full_records(self, names: Iterable[str]) -> dict[str, Record]:
        """The whole records of files `names`."""
        rows = self._where_in(
            "SELECT name, id, light, extra FROM files WHERE name IN ({marks})", (key_of(n) for n in names)
        )
        found = {}
        for key, entry_id, light, extra in rows:
            name = name_of(key)
            found[name] = codec.with_extra(codec.decode_light(codec.Light(name, entry_id, light)), extra)
        return found
