"""The record tables in PostgreSQL: every record file's stamp, content digest and
parsed record (files), and the topics each record names (file_topics). As
store/records.py, whose protocol this keeps.

The hot paths, batched as SQLite's are and more, since every statement is a round trip:
a cold build's rows go in with COPY (the tables start empty, so nothing can conflict),
other runs' with one pipelined upsert per batch, the topics of changed files dropped in
one statement per batch; `changed` reads the stamps of each range of names in one query;
lists of names or ids go as one array parameter rather than chunks of placeholders; and
a pass over every record streams from a server-side cursor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any

from ...core.model import Record
from ...errors import Problem
from ...records import codec
from ..names import key_of, name_of
from ..records import STAMP_ROWS, Cached, NameRange, Stamps, StoredRow, compare_stamps, name_ranges
from .connection import Database
from .schema import RECORDS_INDEXES

_BATCH = 1000  # rows `put` holds back before writing them
_FILES = "name, id, id_hash, size, mtime_ns, ino, ctime_ns, sha256, racy, light, extra, problems"
_FILE_TYPES = (
    "text",
    "text",
    "int8",
    "int8",
    "int8",
    "int8",
    "int8",
    "bytea",
    "int2",
    "text",
    "bytea",
    "text",
)
_UPSERT = (
    f"INSERT INTO files ({_FILES}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (name) DO UPDATE SET id = excluded.id, id_hash = excluded.id_hash, size = excluded.size, "
    "mtime_ns = excluded.mtime_ns, ino = excluded.ino, ctime_ns = excluded.ctime_ns, "
    "sha256 = excluded.sha256, racy = excluded.racy, light = excluded.light, extra = excluded.extra, "
    "problems = excluded.problems"
)
_NO_STAMP = (None, None, None, None)


class Records:
    """The record tables' part of the state store (see PostgresStore)."""

    _db: Database
    _pending_files: list[tuple[object, ...]]  # rows `put` holds back
    _pending_topics: list[tuple[str, str, str, int]]
    _pending_keys: set[str]  # their names, and those whose old topics go first
    _copying: bool  # inside `filling` of an empty store: rows go in with COPY

    def changed(
        self, listing: Stamps, spans: Sequence[NameRange] | None = None
    ) -> tuple[bytearray, dict[str, Cached]]:
        """Which of `listing`'s names the store knows, and what it knows of those whose
        stamp differs (`compare_stamps`): every stored name, or those in `spans`."""

        def ranges() -> Iterator[Iterable[tuple[Any, ...]]]:
            for low, high in name_ranges(spans):
                # PostgreSQL's text holds no NUL: a bound just after a name (`x` + NUL,
                # the range of one name) is asked as `<= x`, the same names.
                below = "name < %s"
                if high is not None and high.endswith("\0"):
                    high, below = high[:-1], "name <= %s"
                where = [c for c, v in (("name >= %s", low), (below, high)) if v is not None]
                args = [key_of(v) for v in (low, high) if v is not None]
                yield self._db.execute(STAMP_ROWS + (" WHERE " + " AND ".join(where) if where else ""), args)

        return compare_stamps(listing, ranges())

    def copies_of(self, ids: Iterable[str]) -> Iterator[tuple[str, codec.Light]]:
        """(entry id, light record) of every good record of the articles `ids` (all
        copies of each), through the index on the ids' digests."""
        wanted = set(ids)
        if not wanted:
            return
        rows = self._db.execute(
            "SELECT name, id, light FROM files WHERE id_hash = ANY(%s) AND light IS NOT NULL ORDER BY name",
            (sorted(codec.id_hash(i) for i in wanted),),
        )
        for key, article, light in rows:
            if article in wanted:  # not another id with the same digest
                yield article, codec.Light(name_of(key), article, light)

    def ids_of(self, names: Iterable[str]) -> set[str]:
        """The entry ids of the good records among files `names`."""
        keys = sorted(key_of(n) for n in names)
        rows = self._db.execute("SELECT id FROM files WHERE name = ANY(%s) AND id IS NOT NULL", (keys,))
        return {i for (i,) in rows}

    def good_count(self, names: Iterable[str]) -> int:
        """How many of the files `names` hold a good record."""
        keys = sorted(key_of(n) for n in names)
        row = self._db.execute(
            "SELECT COUNT(*) FROM files WHERE name = ANY(%s) AND light IS NOT NULL", (keys,)
        )
        found = row.fetchone()
        return 0 if found is None else int(found[0])

    def topics_of(self, name: str) -> set[str]:
        """The casefolded topics the record in file `name` had."""
        rows = self._db.execute("SELECT topic FROM file_topics WHERE name = %s", (key_of(name),))
        return {r[0] for r in rows}

    def put(self, row: StoredRow, racy: bool, *, new: bool = False) -> None:
        """Store what reading a file gave; `new` when the store knew no such file.
        Rows are written in batches: call `flush` before reading them back."""
        name, entry_id, id_hash, stamp, sha256, light, extra, topics, folded, problems, _ = row
        key = key_of(name)
        if key in self._pending_keys:  # the same file twice in a batch: the first goes in first
            self.flush()
        self._pending_keys.add(key)  # its old topics go before the batch's are added
        size, mtime_ns, ino, ctime_ns = _NO_STAMP if stamp is None else stamp
        digest = None if sha256 is None else bytes.fromhex(sha256)
        self._pending_files.append(
            (key, entry_id, id_hash, size, mtime_ns, ino, ctime_ns, digest, int(racy), light, extra, problems)
        )
        if topics:
            self._pending_topics.extend(zip(folded, topics, repeat(key), range(len(topics))))
        if len(self._pending_files) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the rows `put` holds back: a statement or two per batch, not per file."""
        if not self._pending_files:
            return
        if self._copying:  # the store held no file: nothing to replace
            self._db.copy("files", _FILES, _FILE_TYPES, self._pending_files)
        else:
            self._db.execute("DELETE FROM file_topics WHERE name = ANY(%s)", (sorted(self._pending_keys),))
            self._db.executemany(_UPSERT, self._pending_files)
        if self._pending_topics:
            self._db.copy("file_topics", "topic, spelling, name, rank", ("text", "text", "text", "int4"),
                          self._pending_topics)  # fmt: skip
        self._pending_files.clear()
        self._pending_topics.clear()
        self._pending_keys.clear()

    def holds_files(self) -> bool:
        """Whether the store knows any record file."""
        return self._db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None

    @contextlib.contextmanager
    def filling(self) -> Iterator[None]:
        """Around storing many files (`put`): when the store holds none yet, as in a cold
        build, its secondary indexes are dropped first and each built once at the end,
        and the rows go in with COPY. Should the run be killed meanwhile, the rows it
        kept wait without the indexes until the store is opened again. Nothing may read
        the record tables inside."""
        empty = not self.holds_files()
        if empty:
            self._db.execute(f"DROP INDEX IF EXISTS {', '.join(RECORDS_INDEXES)}")
            self._copying = True
        try:
            yield
            if empty:
                self.flush()
        finally:
            self._copying = False
        if empty:
            # In one round trip, with the planner's figures for the tables just filled.
            self._db.execute("; ".join([*RECORDS_INDEXES.values(), "ANALYZE files", "ANALYZE file_topics"]))

    def restamp(self, stamps: Iterable[tuple[str, tuple[int, int, int, int], bool]]) -> None:
        """Note new stamps (name, stamp, racy) for files whose content did not change, in
        one pipelined batch."""
        self._db.executemany(
            "UPDATE files SET size = %s, mtime_ns = %s, ino = %s, ctime_ns = %s, racy = %s WHERE name = %s",
            [(*stamp, int(racy), key_of(name)) for name, stamp, racy in stamps],
        )

    def forget(self, name: str) -> None:
        """Drop a file that is gone."""
        key = key_of(name)
        self._db.execute("DELETE FROM file_topics WHERE name = %s", (key,))
        self._db.execute("DELETE FROM files WHERE name = %s", (key,))

    def counts(self) -> tuple[int, int]:
        """How many files are known, and how many of them are rejected."""
        row = self._db.execute("SELECT COUNT(*) FROM files").fetchone()
        return (0 if row is None else int(row[0])), self.rejected_count()

    def rejected_count(self) -> int:
        """How many known files are rejected, through their index."""
        row = self._db.execute("SELECT COUNT(*) FROM files WHERE light IS NULL").fetchone()
        return 0 if row is None else int(row[0])

    def errors(self) -> list[Problem]:
        """Why each rejected file was rejected, by file name."""
        rows = self._db.execute("SELECT problems FROM files WHERE light IS NULL ORDER BY name")
        return [p for (text,) in rows for p in codec.decode_problems(text)]

    def topic_names(self, per_record: int) -> dict[str, tuple[str, int]]:
        """Every record topic among the first `per_record` of some record, casefolded,
        with one spelling of it (the same whatever the order) and how many records
        name it there."""
        rows = self._db.execute(
            "SELECT topic, MIN(spelling), COUNT(*) FROM file_topics WHERE rank < %s GROUP BY topic",
            (per_record,),
        )
        return {topic: (spelling, int(count)) for topic, spelling, count in rows}

    def light_records(self, topics: Sequence[str] | None) -> Iterator[tuple[str, codec.Light]]:
        """(file name, light record) of the records having one of `topics`
        (casefolded), or of every record when `topics` is None; each once."""
        if topics is None:
            rows = self._db.stream("SELECT name, id, light FROM files WHERE light IS NOT NULL ORDER BY name")
        else:
            rows = self._db.stream(
                "SELECT f.name, f.id, f.light FROM files f WHERE f.light IS NOT NULL AND f.name IN "
                "(SELECT t.name FROM file_topics t WHERE t.topic = ANY(%s)) ORDER BY f.name",
                (list(topics),),
            )
        for key, entry_id, light in rows:
            name = name_of(key)
            yield name, codec.Light(name, entry_id, light)

    def full_records(self, names: Iterable[str]) -> dict[str, Record]:
        """The whole records of files `names`."""
        keys = sorted(key_of(n) for n in names)
        rows = self._db.execute("SELECT name, id, light, extra FROM files WHERE name = ANY(%s)", (keys,))
        found = {}
        for key, entry_id, light, extra in rows:
            name = name_of(key)
            found[name] = codec.with_extra(codec.decode_light(codec.Light(name, entry_id, light)), extra)
        return found
