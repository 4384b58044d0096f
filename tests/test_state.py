"""The state store's record tables: filled in bulk, they end with every index."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import sys
from pathlib import Path

from topicfeeds.stamps import Stamp
from topicfeeds.state import Row, StateStore, _id_hash

INDEXES = ["file_topics_by_name", "file_topics_by_topic", "files_by_id", "files_rejected"]


def rows(count: int) -> list[Row]:
    return [
        Row(f"{n:04}.txt", None if n % 7 == 0 else f"https://news.example/{n}", None if n % 7 == 0 else n,
            Stamp(100 + n, n, n, n), f"{n:064x}", None if n % 7 == 0 else f'["Story {n}"]',
            None if n % 7 == 0 else b"extra", () if n % 7 == 0 else (f"Topic{n % 5}", "Energy"),
            () if n % 7 == 0 else (f"topic{n % 5}", "energy"), "[]")
        for n in range(count)
    ]  # fmt: skip


def indexes(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        found = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return sorted(name for (name,) in found)


def contents(store: StateStore) -> tuple[list[tuple[object, ...]], ...]:
    db = store._db
    return (
        db.execute("SELECT * FROM files ORDER BY name").fetchall(),
        db.execute("SELECT * FROM file_topics ORDER BY name, rank").fetchall(),
    )


def test_filling_an_empty_store_ends_with_every_index_and_the_rows_put_one_by_one(tmp_path: Path) -> None:
    bulk, _ = StateStore.open(tmp_path / "bulk.sqlite")
    with bulk, bulk.filling():
        assert indexes(tmp_path / "bulk.sqlite") == INDEXES  # committed: the drop is not yet
        for n, row in enumerate(rows(50)):
            bulk.put(row, racy=False, new=True)
            if n == 20:
                bulk.keep_progress()
        assert indexes(tmp_path / "bulk.sqlite") == []  # kept without them meanwhile
    assert indexes(tmp_path / "bulk.sqlite") == INDEXES
    plain, _ = StateStore.open(tmp_path / "plain.sqlite")
    with plain:
        for row in rows(50):
            plain.put(row, racy=False, new=True)
    assert contents(bulk) == contents(plain)
    assert bulk.counts() == plain.counts() == (50, 8)
    assert bulk.errors() == plain.errors() == []  # read through files_rejected


def test_a_store_that_holds_files_keeps_its_indexes_while_filled(tmp_path: Path) -> None:
    store, _ = StateStore.open(tmp_path / "s.sqlite")
    with store:
        store.put(rows(1)[0], racy=False, new=True)
    with store, store.filling():
        for row in rows(30)[1:]:
            store.put(row, racy=False, new=True)
        store.keep_progress()
        assert indexes(tmp_path / "s.sqlite") == INDEXES


def test_a_store_killed_while_filling_gets_its_indexes_back_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store, _ = StateStore.open(path)
    store.__enter__()
    store.filling().__enter__()
    for row in rows(30):
        store.put(row, racy=False, new=True)
    store.keep_progress()
    store.close()  # as if killed: what was kept stays, without the indexes
    assert indexes(path) == []
    again, notes = StateStore.open(path)
    assert notes == []
    assert indexes(path) == INDEXES
    assert again.counts() == (30, 5)


def test_a_query_left_half_read_when_the_store_closes_ends_quietly(tmp_path: Path) -> None:
    """A run stopped by a signal closes its store while a query is still being read;
    dropping that query later must not print a traceback about the closed database."""
    store, _ = StateStore.open(tmp_path / "s.sqlite")
    with store:
        for row in rows(30):
            store.put(row._replace(id_hash=row.id and _id_hash(row.id)), racy=False, new=True)
    unraised: list[BaseException | None] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda hook: unraised.append(hook.exc_value)
    try:
        query = store.copies_of(f"https://news.example/{n}" for n in range(1, 30))
        next(query)
        store.close()
        del query
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraised == []
