"""The state store's record tables: filled in bulk, they end with every index; any
file name is stored and read back as it was. A state this version cannot read is moved
aside, never deleted; one that cannot be used for now is left as it is."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topicfeeds.errors import StateBusy, StateError
from topicfeeds.records.codec import id_hash
from topicfeeds.records.rows import Row
from topicfeeds.runtime.signals import end_on_signal
from topicfeeds.sources.stamps import Stamp
from topicfeeds.store import SCHEMA_VERSION, History, StateStore, schema
from topicfeeds.store.names import key_of, name_of

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
            store.put(row._replace(id_hash=row.id and id_hash(row.id)), racy=False, new=True)
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
    assert name_of(key_of(name)) == name


@given(st.lists(texts, max_size=6, unique=True))
def test_stored_forms_of_text_names_sort_as_the_names_do(names: list[str]) -> None:
    """The listing's chunks are looked up by name ranges in SQLite's order of the
    stored forms (see StateStore.changed)."""
    assert sorted(names, key=lambda n: key_of(n).encode("utf-8")) == sorted(names)


def test_names_that_look_like_the_stored_forms_of_others_stay_apart(tmp_path: Path) -> None:
    hexed = b"\xc0\xff\xee".decode("utf-8", "surrogateescape")  # stored as "/c0ffee"
    names = ["/lead.txt", "//lead.txt", "/c0ffee", "c0ffee", hexed]
    store, _ = StateStore.open(tmp_path / "s.sqlite")
    with store:
        for name, row in zip(names, rows(len(names) + 1)[1:], strict=True):  # none rejected
            store.put(row._replace(name=name), racy=False, new=True)
    assert len({key_of(n) for n in names}) == len(names)
    assert sorted(name for name, _ in store.light_records(None)) == sorted(names)
    assert store.topics_of("/c0ffee") == {"topic3", "energy"}


class _TerminatedAfterCommit(sqlite3.Connection):
    """A connection that, once armed, is sent SIGTERM as a COMMIT returns: the moment a
    signal that came during the commit (a long one: it copies the log into the file)
    is handled, before `keep_progress` begins the next transaction."""

    armed = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        done = super().execute(sql, *args)
        if sql == "COMMIT" and self.armed:
            os.kill(os.getpid(), signal.SIGTERM)
        return done


def test_a_signal_right_after_a_periodic_commit_ends_the_run_and_keeps_what_was_committed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    store, _ = StateStore.open(path)
    with store:
        store.set_history("energy", {"https://news.example/1": History("h", 1, 2)})
    store.close()
    connection = sqlite3.connect(path, isolation_level=None, factory=_TerminatedAfterCommit)
    store = StateStore(connection)
    previous = signal.signal(signal.SIGTERM, end_on_signal)
    try:
        with pytest.raises(SystemExit) as ended, store, store.filling():
            for n, row in enumerate(rows(30)):
                store.put(row, racy=False, new=True)
                if n == 20:
                    connection.armed = True  # type: ignore[attr-defined]
                    store.keep_progress()
    finally:
        signal.signal(signal.SIGTERM, previous)
        store.close()
    # Ended by the signal, not by an error rolling back a transaction there was none of.
    assert ended.value.code == 128 + signal.SIGTERM
    again, notes = StateStore.open(path)
    try:
        assert notes == [] and not list(tmp_path.glob("*unreadable*"))
        assert again.counts() == (21, 3)  # what was committed stays; indexes are back
        assert again.history("energy") == {"https://news.example/1": History("h", 1, 2)}
    finally:
        again.close()


def test_a_store_another_process_writes_is_busy_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store, _ = StateStore.open(path)
    store.close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        store, _ = StateStore.open(path)
        store.patience(0.05)
        with pytest.raises(sqlite3.OperationalError, match="locked"), store:
            pass
        store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sorted(tmp_path.iterdir()) == [path]


def _garbled(path: Path) -> None:
    path.write_bytes(b"not a database, but what someone needs to see\n" * 400)


def _future(path: Path) -> None:
    store, _ = StateStore.open(path)
    store.set_meta("schema", str(SCHEMA_VERSION + 1))
    store.close()


def _foreign(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE invoices (n INTEGER)")
        db.commit()


def _tableless(path: Path) -> None:
    store, _ = StateStore.open(path)
    store._db.execute("DROP TABLE entries")
    store.close()


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (_garbled, "state file unreadable (file is not a database)"),
        (_future, f"state of schema {SCHEMA_VERSION + 1}, not {SCHEMA_VERSION}"),
        (_foreign, "not a topicfeeds state file"),
        (_tableless, "state file damaged (no table entries)"),
    ],
)
def test_a_state_this_version_cannot_read_is_moved_aside_never_deleted(
    tmp_path: Path, spoil: Any, why: str
) -> None:
    path = tmp_path / "s.sqlite"
    spoil(path)
    before = path.read_bytes()
    (tmp_path / "s.sqlite.unreadable-1").write_bytes(b"an earlier one")
    store, notes = StateStore.open(path)
    store.close()
    aside = tmp_path / "s.sqlite.unreadable-2"
    assert [str(n) for n in notes] == [f"{path}: {why}; moved to {aside.name} and rebuilt"]
    assert aside.read_bytes() == before
    assert (tmp_path / "s.sqlite.unreadable-1").read_bytes() == b"an earlier one"
    again, notes = StateStore.open(path)  # the new one is a good state
    again.close()
    assert notes == []


def test_a_state_that_cannot_be_read_is_left_in_place_by_a_run_that_only_looks(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _garbled(path)
    store, notes = StateStore.open(path, look=True)
    store.close()
    assert "read as if there were none" in str(notes[0])
    assert sorted(tmp_path.iterdir()) == [path]


def test_busy_is_told_apart_from_damage() -> None:
    from topicfeeds.store import damaged, fault

    assert damaged(sqlite3.DatabaseError("file is not a database"))
    assert damaged(sqlite3.DatabaseError("database disk image is malformed"))
    assert not damaged(sqlite3.OperationalError("attempt to write a readonly database"))
    assert not damaged(sqlite3.OperationalError("database or disk is full"))
    assert isinstance(fault("s.sqlite", sqlite3.OperationalError("database is locked")), StateBusy)


def test_the_migrations_are_numbered_steps_from_the_oldest_schema_up_to_the_current_one() -> None:
    assert sorted(schema.MIGRATIONS) == list(range(min(schema.MIGRATIONS), SCHEMA_VERSION))


def _columns(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = [
            n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {t: db.execute(f"PRAGMA table_info({t})").fetchall() for t in tables}


def _aged(path: Path, version: int) -> None:
    """A state as schema `version` left it, as far as its later steps look: with the
    WebSub tables of schema 4 (no `noted`), and none before it; no archive before 5;
    no purges before 9."""
    store, _ = StateStore.open(path)
    with store:
        store.set_history("energy", {"https://news.example/1": History("h", 1, 2)})
        store.put(rows(2)[1], racy=False, new=True)
    db = store._db
    if version < 9:
        db.execute("DROP TABLE purges")
    if version < 5:
        db.executescript("DROP TABLE archive; DROP TABLE archive_pages; DROP TABLE pings;")
        if version == 4:
            db.execute("CREATE TABLE pings (hub TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (hub, url))")
            db.execute(
                "INSERT INTO pings VALUES ('https://hub.example/', 'https://news.example/energy.atom')"
            )
        else:
            db.execute("DROP TABLE hubs")
    store.set_meta("schema", str(version))
    store.close()


@pytest.mark.parametrize("version", sorted(schema.MIGRATIONS))
def test_a_state_of_each_older_schema_comes_up_to_the_current_tables_keeping_its_history(
    tmp_path: Path, version: int
) -> None:
    new, _ = StateStore.open(tmp_path / "new.sqlite")
    new.close()
    path = tmp_path / "s.sqlite"
    _aged(path, version)
    store, notes = StateStore.open(path)
    try:
        assert notes == []
        assert store.meta("schema") == str(SCHEMA_VERSION)
        assert store.history("energy") == {"https://news.example/1": History("h", 1, 2)}
        assert store.counts() == ((1, 0) if version >= 7 else (0, 0))  # records dropped where they changed
        if version == 4:
            assert store.noted_pings() == {"https://hub.example/": {"https://news.example/energy.atom": 0}}
    finally:
        store.close()
    assert _columns(path) == _columns(tmp_path / "new.sqlite")
    assert indexes(path) == INDEXES


def test_a_migration_that_fails_leaves_the_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    _aged(path, 6)
    before = _columns(path)
    monkeypatch.setitem(schema.MIGRATIONS, 7, schema.MIGRATIONS[7] + "DELETE FROM no_such_table;")
    with pytest.raises(StateError, match="no_such_table"):
        StateStore.open(path)
    assert _columns(path) == before
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("6",)
        assert db.execute("SELECT COUNT(*) FROM files").fetchone() == (1,)
