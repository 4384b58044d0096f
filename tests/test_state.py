"""The state store's record tables: filled in bulk, they end with every index; any
file name is stored and read back as it was."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from topicfeeds.stamps import Stamp
from topicfeeds.state import Row, StateStore, _id_hash, _key, _name

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


# Names as a bucket lists them (any text, "/" first included) and as a folder does
# (any bytes, those that are not UTF-8 as surrogate escapes).
texts = st.text(st.sampled_from("/ab.é\u4e2d\U0001f600-0f"), max_size=8) | st.text(max_size=8)
file_names = st.binary(max_size=8).map(lambda raw: raw.decode("utf-8", "surrogateescape"))


@given(texts | file_names)
def test_every_name_comes_back_from_its_stored_form(name: str) -> None:
    assert _name(_key(name)) == name


@given(st.lists(texts, max_size=6, unique=True))
def test_stored_forms_of_text_names_sort_as_the_names_do(names: list[str]) -> None:
    """The listing's chunks are looked up by name ranges in SQLite's order of the
    stored forms (see StateStore.changed)."""
    assert sorted(names, key=lambda n: _key(n).encode("utf-8")) == sorted(names)


def test_names_that_look_like_the_stored_forms_of_others_stay_apart(tmp_path: Path) -> None:
    hexed = b"\xc0\xff\xee".decode("utf-8", "surrogateescape")  # stored as "/c0ffee"
    names = ["/lead.txt", "//lead.txt", "/c0ffee", "c0ffee", hexed]
    store, _ = StateStore.open(tmp_path / "s.sqlite")
    with store:
        for name, row in zip(names, rows(len(names) + 1)[1:], strict=True):  # none rejected
            store.put(row._replace(name=name), racy=False, new=True)
    assert len({_key(n) for n in names}) == len(names)
    assert sorted(name for name, _ in store.light_records(None)) == sorted(names)
    assert store.topics_of("/c0ffee") == {"topic3", "energy"}
