"""The state in PostgreSQL: the same answers as SQLite's store, the run's lock in the
database, a server that goes away, a schema this version cannot read, credentials that
never reach config.yaml or the output, and the first command that needs none of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topicfeeds.core.history import History
from topicfeeds.records import codec
from topicfeeds.records.rows import Row
from topicfeeds.sources.chunks import Span, orderable
from topicfeeds.sources.stamps import Listing, Stamp
from topicfeeds.store import SCHEMA_VERSION, ArchiveRow, Store

from .backends import Backend
from .conftest import BASE_CONFIG, make_config, make_record, record_fields, record_text
from .pgserver import new_schema

NOW = "2026-11-28T00:00:00Z"
COMMAND = str(Path(sys.executable).with_name("topicfeeds"))


def topicfeeds(*args: str, **more: Any) -> subprocess.CompletedProcess[str]:
    """The installed command, as cron runs it."""
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, timeout=180, check=False, **more)


def row(name: str, n: int, topics: tuple[str, ...] = ("Energy",)) -> Row:
    """A record file as the store keeps it; every fifth one rejected."""
    stamp, digest = Stamp(100 + n, n, n, n), f"{n:064x}"
    if n % 5 == 0:
        return Row(name, None, None, stamp, digest, None, None, (), (), '[["x", null, null, "bad"]]')
    entry = f"https://news.example/{n % 7}"
    record = make_record(key=name, id=entry, link=entry, title=f"Story {n}", topics=topics)
    light, extra = codec.encode_light_and_extra(record)
    folded = tuple(t.casefold() for t in topics)
    return Row(name, entry, codec.id_hash(entry), stamp, digest, light, extra, topics, folded, "[]")


NAMES = ["a.txt", "B.txt", "b/c.txt", "é.txt", "z.txt", "/lead.txt", "\udce9.txt", "日本.md", "a b.txt"]


def observe(store: Store) -> list[Any]:
    """Drive `store` through every part of the protocol; what it answers, in order."""
    seen: list[Any] = []
    with store, store.filling():
        for n, name in enumerate(NAMES):
            store.put(row(name, n, ("Energy", f"Topic {n % 3}")), racy=n == 3, new=True)
    stamps = {name: Stamp(100 + n, n, n, n) for n, name in enumerate(NAMES)}
    stamps["a.txt"] = Stamp(1, 1, 1, 1)
    del stamps["z.txt"]
    listing = Listing.of(stamps)
    seen.append(store.changed(listing))
    spans = [Span(None, "b"), Span("b", "é"), Span("é", None)]
    seen.append(store.changed(listing, spans))
    seen += [store.holds_files(), store.counts(), store.rejected_count(), store.errors()]
    seen += [store.topic_names(1), store.topic_names(5)]
    seen += [list(store.light_records(None)), list(store.light_records(["topic 1", "energy"]))]
    seen.append({k: (v.id, v.title) for k, v in store.full_records(["B.txt", "é.txt"]).items()})
    seen += [sorted(store.copies_of(["https://news.example/1", "https://news.example/9"]))]
    seen += [store.ids_of(NAMES), store.good_count(NAMES), store.topics_of("b/c.txt")]
    with store:
        store.put(row("b/c.txt", 11, ("Space",)), racy=False)
        store.restamp([("B.txt", (7, 7, 7, 7), True), ("é.txt", (8, 8, 8, 8), False)])
        store.forget("日本.md")
    seen += [store.changed(Listing.of({})), store.topics_of("b/c.txt"), store.counts()]
    with store:
        store.set_meta("k", "v")
        store.set_meta("k", "w")
        store.set_history("energy", {"e1": History("h1", 1, None), "e2": History("h2", 2, 3)})
        store.set_topic("energy", 99, (1.5, 2.0, "e2"))
        store.set_topic("space", None, None)
        store.set_rendered({"energy": "d1"})
        store.set_output("energy.atom", 10, 20)
        store.set_output("energy.atom", 11, 21)
        store.set_output("space.atom", 1, 2)
        store.forget_output("space.atom")
        store.set_archive_entries("energy", [ArchiveRow("e1", -1, 0, "{}"), ArchiveRow("e0", 1, 0, None)])
        store.set_archive_entries("energy", [ArchiveRow("e1", 0, 0, '{"a":1}')])
        store.add_archive_page("energy", 1, b"<feed/>")
        store.add_archive_page("energy", 2, None)
        store.add_pings("https://hub.example/", ["https://f.example/b", "https://f.example/a"])
        store.set_hub_not_before("https://hub.example/", 5)
    seen += [store.meta("k"), store.meta("none"), store.history("energy"), store.topic_valid_until()]
    seen += [store.last_published("energy"), store.last_feed("space"), store.last_feed("gone")]
    seen += [
        store.rendered(),
        store.outputs(),
        store.archive_entries("energy"),
        store.archive_pages("energy"),
    ]
    seen += [store.found_pages("energy"), store.archive_page("energy", 1), store.archive_page("energy", 2)]
    seen += [store.pings(), store.hub_not_before("https://hub.example/"), store.hub_not_before("other")]
    noted = store.noted_pings()["https://hub.example/"]
    store.drop_pings("https://hub.example/", ["https://f.example/a"], noted)
    seen.append(store.pings())
    with store:  # the CDN's purges: noted twice, the second noting of one kept when the first is dropped
        store.add_purges(["https://f.example/b", "https://f.example/a"], "run-1")
        first = {url: n for url, (n, _) in store.noted_purges().items()}
        store.add_purges(["https://f.example/a"], "run-2")
        store.drop_purges(first)
    seen.append(store.noted_purges())
    with store.scratch():
        store.set_meta("k", "scratched")
        store.forget_topic("energy")
        store.reset(records=True)
    seen += [store.meta("k"), store.topic_valid_until(), store.holds_files()]
    with store:
        store.reset()
    seen += [store.topic_valid_until(), store.rendered(), store.holds_files(), store.history("energy")]
    return seen


def test_every_part_answers_as_sqlite_s_does(tmp_path: Path, postgresql: Backend) -> None:
    sqlite = Backend("sqlite").store(tmp_path)
    database = postgresql.store(tmp_path)
    try:
        assert observe(database) == observe(sqlite)
    finally:
        sqlite.close()
        database.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=12, unique=True))
def test_names_sort_and_come_back_as_python_sorts_them(postgresql: Backend, names: list[str]) -> None:
    """The store's order of names is the code points' (COLLATE "C"), whatever the
    database's collation: ranges of names read back what a range of the sorted
    listing holds (sources/chunks.py relies on it), and every name comes back as it was."""
    names = [n.replace("\x00", "") or "_" for n in names]
    names = sorted(set(names))
    store = Backend("postgresql", postgresql.server, new_schema()).store(Path())
    try:
        with store:
            for n, name in enumerate(names):
                store.put(row(name, n + 1), racy=False, new=True)
        listing = Listing.of({name: Stamp(0, 0, 0, 0) for name in names})
        seen, stored = store.changed(listing)
        assert seen == bytearray([1]) * len(names)
        assert set(stored) == set(names)  # every stamp differs
        if orderable(names):
            middle = names[len(names) // 2]
            seen, stored = store.changed(Listing.of({}), [Span(None, middle)])
            assert set(stored) == {n for n in names if n < middle}
    finally:
        store.close()


# -- the command against a real server


def site(root: Path, backend: Backend, text: str = BASE_CONFIG, records: int = 3) -> Path:
    make_config(root, backend.text(text.replace("records: seeds", "records: seeds\nauto: true")))
    for n in range(records):
        fields = record_fields(title=f"Story {n}", webUrl=f"https://news.example/{n}", originalUrl=...,
                               topics=[["Energy", "Space", "Grid"][n % 3]])  # fmt: skip
        (root / "seeds" / f"{n:05}.txt").write_text(record_text(fields), encoding="utf-8")
    return root / "config.yaml"


def test_the_first_command_needs_no_database(tmp_path: Path) -> None:
    """A state in a file never imports psycopg: the README's first command works where
    the extra is not installed (here, where importing it fails)."""
    config = site(tmp_path, Backend("sqlite"))
    blocker = tmp_path / "blocked"
    (blocker / "psycopg").mkdir(parents=True)
    (blocker / "psycopg" / "__init__.py").write_text("raise ImportError('psycopg is not installed')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    ran = topicfeeds("build", "-c", str(config), "--now", NOW, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("topicfeeds: 16 files: 16 written")
    # A state in PostgreSQL says what to install, as a usage error.
    with config.open("a") as text:
        text.write("state: postgresql://db.example/news\n")
    ran = topicfeeds("build", "-c", str(config), env=env)
    assert ran.returncode == 2
    assert "pip install 'topicfeeds[postgresql]'" in ran.stderr


def test_a_password_never_reaches_config_yaml_or_the_output(tmp_path: Path, postgresql: Backend) -> None:
    assert postgresql.server is not None
    url = postgresql.server.url()
    config = site(tmp_path, postgresql)
    text = config.read_text()
    config.write_text(text.replace(url, url.replace("postgres@", "postgres:s3cret@")))
    ran = topicfeeds("build", "-c", str(config))
    assert ran.returncode == 2
    assert "state: a password in the URL's user part is not kept there; give it in PGPASSWORD" in ran.stderr
    config.write_text(text.replace(url, url + "?password=s3cret"))
    ran = topicfeeds("build", "-c", str(config))
    assert ran.returncode == 2 and "a password in password= is not kept there" in ran.stderr
    assert "s3cret" not in ran.stderr + ran.stdout
    # From libpq's environment it is used and never shown, not even when it is wrong.
    postgresql.server.psql(
        "DO $$ BEGIN CREATE ROLE news LOGIN PASSWORD 's3cret'; EXCEPTION WHEN duplicate_object THEN NULL; "
        "END $$; GRANT CREATE ON DATABASE postgres TO news"
    )
    hba = postgresql.server.data / "pg_hba.conf"
    if "news" not in hba.read_text():
        hba.write_text("host all news 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        postgresql.server.psql("SELECT pg_reload_conf()")
    config.write_text(text.replace(url, url.replace("postgres@", "news@")))
    ran = topicfeeds("build", "-c", str(config), "--now", NOW, env={**os.environ, "PGPASSWORD": "s3cret"})
    assert ran.returncode == 0, ran.stderr
    ran = topicfeeds("build", "-c", str(config), "--json", env={**os.environ, "PGPASSWORD": "wr0ng"})
    assert ran.returncode == 4
    assert "password authentication failed" in ran.stderr
    assert "wr0ng" not in ran.stderr + ran.stdout and "s3cret" not in ran.stderr + ran.stdout


def test_a_server_that_cannot_be_reached_exits_4_and_names_the_state(tmp_path: Path) -> None:
    config = site(tmp_path, Backend("sqlite"))
    with config.open("a") as text:
        text.write("state: postgresql://nobody@127.0.0.1:1/news?connect_timeout=2\nstate_schema: site_a\n")
    ran = topicfeeds("build", "-c", str(config))
    assert ran.returncode == 4
    shown = "postgresql://nobody@127.0.0.1:1/news?connect_timeout=*** (schema site_a)"
    assert ran.stderr.startswith(f"error: {shown}: cannot use the state: cannot connect:")
    assert list((tmp_path / "feeds").iterdir()) == []


def test_a_state_of_a_later_schema_is_refused_and_left_as_it_is(tmp_path: Path, postgresql: Backend) -> None:
    config = site(tmp_path, postgresql)
    assert topicfeeds("build", "-c", str(config), "--now", NOW).returncode == 0
    assert postgresql.server is not None
    postgresql.server.psql(f"UPDATE {postgresql.schema}.meta SET value = '99' WHERE key = 'schema'")
    before = postgresql.count("files")
    ran = topicfeeds("build", "-c", str(config), "--full")
    assert ran.returncode == 4
    later = (
        f"state of schema 99, not {SCHEMA_VERSION} (a later version of topicfeeds wrote it: upgrade this one)"
    )
    assert later in ran.stderr
    assert postgresql.count("files") == before == 3  # nothing dropped, nothing moved aside


def test_a_state_of_schema_8_is_brought_up_to_date_keeping_its_rows(
    tmp_path: Path, postgresql: Backend
) -> None:
    """The first PostgreSQL states were of schema 8; 8 to 9 adds the CDN's purges, as in
    SQLite, and the entries' history is kept."""
    config = site(tmp_path, postgresql)
    assert topicfeeds("build", "-c", str(config), "--now", NOW).returncode == 0
    assert postgresql.server is not None
    postgresql.server.psql(f"DROP TABLE {postgresql.schema}.purges")
    postgresql.server.psql(f"UPDATE {postgresql.schema}.meta SET value = '8' WHERE key = 'schema'")
    entries = postgresql.count("entries")
    ran = topicfeeds("build", "--json", "-c", str(config), "--now", NOW)
    assert ran.returncode == 0, ran.stderr
    assert postgresql.count("entries") == entries > 0
    schema = psql_rows(postgresql, f"SELECT value FROM {postgresql.schema}.meta WHERE key = 'schema'")
    assert schema == [(str(SCHEMA_VERSION),)] and postgresql.count("purges") == 0


def test_a_dry_run_and_explain_leave_no_schema_behind(tmp_path: Path, postgresql: Backend) -> None:
    config = site(tmp_path, postgresql)
    ran = topicfeeds("build", "--dry-run", "-c", str(config), "--now", NOW)
    assert ran.returncode == 0, ran.stderr
    explained = topicfeeds("explain", "-c", str(config), str(tmp_path / "seeds" / "00000.txt"))
    assert explained.returncode == 0, explained.stderr
    assert postgresql.count("meta") == 0
    assert topicfeeds("topics", "-c", str(config)).returncode == 2  # no build has finished yet
    assert topicfeeds("build", "-c", str(config), "--now", NOW).returncode == 0
    listed = topicfeeds("topics", "--json", "-c", str(config))
    assert [t["slug"] for t in json.loads(listed.stdout)["topics"]] == ["energy", "grid", "space"]


def psql_rows(backend: Backend, sql: str) -> list[tuple[Any, ...]]:
    assert backend.server is not None
    with psycopg.connect(backend.server.url(), autocommit=True) as db:
        return db.execute(sql).fetchall()
