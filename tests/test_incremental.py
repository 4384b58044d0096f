"""The state store and incremental runs: work in proportion to change, feeds that
never churn, a state that may be deleted or damaged at any time, one run at a time."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest
import zstandard

from topicfeeds import BuildReport, build, load_config
from topicfeeds.cli import main
from topicfeeds.config import Config
from topicfeeds.core import shortlist as shortlists
from topicfeeds.errors import LockedError
from topicfeeds.pipeline import view
from topicfeeds.store import SCHEMA_VERSION

from .backends import Backend, sqlite_only, stateless
from .conftest import BASE_CONFIG, THOROUGH, make_config, record_fields, record_text, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


pytestmark = pytest.mark.usefixtures("no_racy_window")


@pytest.fixture
def site(project: Path, backend: Backend) -> Config:
    """A project with three energy records, its state in each backend in turn."""
    (project / "config.yaml").write_text(backend.text(BASE_CONFIG), encoding="utf-8")
    for n in range(3):
        write_record(
            project / "seeds",
            f"{n}.txt",
            title=f"Story {n}",
            webUrl=f"https://www.gridwatch.example/{n}",
            originalUrl=...,
            publishedDateTime=f"2026-11-2{n}T08:00:00Z",
        )
    return load_config(project / "config.yaml")


def feeds(config: Config) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(config.output_dir.iterdir())}


def updated_of(config: Config) -> dict[str, str]:
    parsed = feedparser.parse((config.output_dir / "energy.atom").read_bytes())
    return {e.title: e.updated for e in parsed.entries}


def feeds_written(report: BuildReport) -> int:
    """How many Atom and RSS files a run wrote (pages and JSON twins follow them)."""
    return sum(p.suffix in (".atom", ".rss") for p in report.written_files)


def test_first_run_parses_everything_second_run_nothing(site: Config) -> None:
    first = build(site, NOW)
    assert (first.parsed, feeds_written(first), first.no_changes) == (3, 2, False)
    before = feeds(site)
    second = build(site, NOW)
    assert second.no_changes
    # energy's four files, the index, the OPML list and two stylesheets
    assert (second.parsed, second.written, second.unchanged, second.records) == (0, 0, 8, 3)
    assert feeds(site) == before  # bytes and mtimes


def test_an_edit_is_parsed_alone_and_bumps_only_its_entry(site: Config) -> None:
    build(site, NOW)
    before = updated_of(site)
    write_record(
        site.records_dir,
        "1.txt",
        title="Story 1, corrected",
        webUrl="https://www.gridwatch.example/1",
        originalUrl=...,
        publishedDateTime="2026-11-21T08:00:00Z",
    )
    later = NOW + timedelta(hours=3)
    report = build(site, later)
    assert (report.parsed, feeds_written(report)) == (1, 2)
    after = updated_of(site)
    assert after["Story 1, corrected"] == "2026-11-28T03:00:00+00:00"
    assert after["Story 0"] == before["Story 0"]
    assert after["Story 2"] == before["Story 2"]
    entry = next(
        e
        for e in feedparser.parse((site.output_dir / "energy.atom").read_bytes()).entries
        if e.title.startswith("Story 1")
    )
    assert entry.id == "https://www.gridwatch.example/1"
    assert entry.published == "2026-11-21T08:00:00+00:00"
    # Once seen, the change keeps its time: a rerun is byte-identical.
    snapshot = feeds(site)
    assert build(site, later + timedelta(hours=1)).no_changes
    assert feeds(site) == snapshot


def test_touching_a_file_without_changing_it_changes_nothing(site: Config) -> None:
    build(site, NOW)
    before = feeds(site)
    path = site.records_dir / "0.txt"
    path.write_bytes(path.read_bytes())
    report = build(site, NOW)
    assert (report.parsed, feeds_written(report)) == (1, 0)
    assert feeds(site) == before


def test_a_same_size_rewrite_with_the_old_mtime_is_still_seen(site: Config) -> None:
    build(site, NOW)
    path = site.records_dir / "2.txt"
    st = path.stat()
    path.write_bytes(path.read_bytes().replace(b"Story 2", b"Story X"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # what `cp -p` or rsync -t would leave
    assert build(site, NOW).parsed == 1
    assert "Story X" in updated_of(site)


def test_removed_and_added_records(site: Config) -> None:
    build(site, NOW)
    (site.records_dir / "0.txt").unlink()
    write_record(
        site.records_dir, "9.txt", title="Story 9", webUrl="https://www.gridwatch.example/9", originalUrl=...
    )
    report = build(site, NOW)
    assert report.parsed == 1
    assert sorted(updated_of(site)) == ["Story 1", "Story 2", "Story 9"]


def test_deleting_the_state_gives_the_same_feeds(site: Config, backend: Backend) -> None:
    build(site, NOW)
    before = feeds(site)
    backend.forget(site)
    report = build(site, NOW + timedelta(days=1))
    assert report.parsed == 3 and feeds_written(report) == 0
    assert feeds(site) == before


@sqlite_only
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other-schema", "foreign"])
def test_a_damaged_or_foreign_state_is_rebuilt_with_a_warning(site: Config, damage: str) -> None:
    build(site, NOW)
    before = feeds(site)
    state = site.state_path
    assert state is not None
    if damage == "garbage":
        state.write_bytes(b"\x00not a database\xff" * 100)
    elif damage == "truncated":
        state.write_bytes(state.read_bytes()[:1500])
    elif damage == "empty":
        state.write_bytes(b"")
    elif damage == "other-schema":
        with sqlite3.connect(state) as db:
            db.execute("UPDATE meta SET value = '999' WHERE key = 'schema'")
    else:
        state.unlink()
        with sqlite3.connect(state) as db:
            db.execute("CREATE TABLE something (x)")
    spoilt = state.read_bytes()
    report = build(site, NOW)
    if damage != "empty":
        assert any("rebuilt" in str(w) for w in report.warnings), report.warnings
        # Moved aside as it was, never deleted.
        assert state.with_name(f"{state.name}.unreadable-1").read_bytes() == spoilt
    assert report.parsed == 3
    assert feeds(site) == before
    assert build(site, NOW).no_changes


def _built_twice(site: Config) -> tuple[dict[str, tuple[bytes, int]], Path]:
    """Two builds, the second after an edit (the entry's `updated` moves, and the state
    says when): the feeds they left, and the state file, for an upgrade test to age."""
    build(site, NOW)
    write_record(site.records_dir, "1.txt", title="Story 1, edited", webUrl="https://www.gridwatch.example/1",
                 originalUrl=..., publishedDateTime="2026-11-21T08:00:00Z")  # fmt: skip
    build(site, NOW + timedelta(hours=1))
    state = site.state_path
    assert state is not None
    return feeds(site), state


def _upgraded_keeping(
    site: Config, before: dict[str, tuple[bytes, int]], state: Path, history: list[Any]
) -> None:
    """The next build reads every record again, publishes the same feeds, keeps the
    entries' history and notes the current schema; the one after has nothing to do."""
    report = build(site, NOW + timedelta(hours=2))
    assert report.warnings == ()
    assert report.parsed == 3
    assert feeds(site) == before
    with contextlib.closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall() == history
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA_VERSION),)
    assert build(site, NOW + timedelta(hours=2)).no_changes


@sqlite_only
def test_a_state_of_schema_4_keeps_its_history_and_reads_every_record_again(site: Config) -> None:
    before, state = _built_twice(site)
    with contextlib.closing(sqlite3.connect(state)) as db, db:  # as schema 4 left it
        history = db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall()
        db.execute("DROP TABLE file_topics")
        db.execute("DROP TABLE files")
        db.execute("CREATE TABLE files (name TEXT PRIMARY KEY, id TEXT, size INTEGER, mtime_ns INTEGER, "
                   "ino INTEGER, ctime_ns INTEGER, sha256 TEXT, racy INTEGER NOT NULL, light TEXT, "
                   "full TEXT, problems TEXT NOT NULL)")  # fmt: skip
        db.execute("CREATE TABLE file_topics (topic TEXT, spelling TEXT, name TEXT, rank INTEGER)")
        db.execute("DROP TABLE archive")
        db.execute("DROP TABLE archive_pages")
        db.execute("DROP TABLE pings")
        db.execute("CREATE TABLE pings (hub TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (hub, url))")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    report = build(site, NOW + timedelta(hours=2))
    assert report.warnings == ()
    assert report.parsed == 3
    assert {k: v[0] for k, v in feeds(site).items()} == {k: v[0] for k, v in before.items()}
    with contextlib.closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall() == history
    assert build(site, NOW + timedelta(hours=2)).no_changes


@sqlite_only
def test_a_state_of_schema_5_keeps_its_history_and_reads_every_record_again(site: Config) -> None:
    before, state = _built_twice(site)
    with contextlib.closing(sqlite3.connect(state)) as db, db:  # as schema 5 left it
        history = db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall()
        rows = db.execute("SELECT name, id, size, mtime_ns, ino, ctime_ns, sha256, racy, light, extra, "
                          "problems FROM files").fetchall()  # fmt: skip
        db.execute("DROP TABLE files")
        db.execute("CREATE TABLE files (name TEXT PRIMARY KEY, id TEXT, size INTEGER, mtime_ns INTEGER, "
                   "ino INTEGER, ctime_ns INTEGER, sha256 BLOB, racy INTEGER NOT NULL, light TEXT, "
                   "extra BLOB, problems TEXT NOT NULL)")  # fmt: skip
        db.execute("CREATE INDEX files_by_id ON files(id)")
        # Its light parts held the name and the id; schema 6 reads them as a title.
        db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(*r[:8], None if r[8] is None else f'["{r[0]}","{r[1]}",' + r[8][1:], *r[9:])
                        for r in rows])  # fmt: skip
        db.execute("UPDATE meta SET value = '5' WHERE key = 'schema'")
    _upgraded_keeping(site, before, state, history)


@sqlite_only
def test_a_state_of_schema_6_keeps_its_history_and_reads_every_record_again(site: Config) -> None:
    before, state = _built_twice(site)
    with contextlib.closing(sqlite3.connect(state)) as db, db:  # as schema 6 left it
        history = db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall()
        # Its extra parts were zlib-compressed.
        extras = db.execute("SELECT name, extra FROM files WHERE extra IS NOT NULL").fetchall()
        unpack = zstandard.ZstdDecompressor().decompress
        db.executemany("UPDATE files SET extra = ? WHERE name = ?",
                       [(zlib.compress(unpack(extra), 1), name) for name, extra in extras])  # fmt: skip
        db.execute("UPDATE meta SET value = '6' WHERE key = 'schema'")
    _upgraded_keeping(site, before, state, history)


@sqlite_only
def test_a_state_of_schema_7_reads_again_only_the_files_whose_names_start_with_a_slash(site: Config) -> None:
    """Schema 7 kept a bucket key's name that starts with "/" as it is and read it back
    as hex; schema 8 drops those rows (and the hex ones, which look alike) and keeps
    the rest of the state."""
    odd = os.fsdecode(b"caf\xe9.txt")  # stored as hex
    write_record(site.records_dir, odd, title="Cafe story", webUrl="https://www.gridwatch.example/cafe",
                 originalUrl=..., publishedDateTime="2026-11-26T08:00:00Z")  # fmt: skip
    before, state = _built_twice(site)
    with contextlib.closing(sqlite3.connect(state)) as db, db:  # as schema 7 left it
        history = db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall()
        hexed = "/" + b"caf\xe9.txt".hex()
        assert db.execute("SELECT count(*) FROM files WHERE name = ?", (hexed,)).fetchone() == (1,)
        # A bucket key `in//lead.txt` below the prefix `in/`, long gone, as schema 7 stored it.
        db.execute("INSERT INTO files SELECT '/lead.txt', id, id_hash, size, mtime_ns, ino, ctime_ns, "
                   "sha256, racy, light, extra, problems FROM files WHERE name = '0.txt'")  # fmt: skip
        db.execute("UPDATE meta SET value = '7' WHERE key = 'schema'")
    report = build(site, NOW + timedelta(hours=2))
    assert report.warnings == ()
    assert report.parsed == 1  # the file whose name is not UTF-8
    assert feeds(site) == before
    with contextlib.closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT * FROM entries ORDER BY feed, id").fetchall() == history
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA_VERSION),)
        names = sorted(n for (n,) in db.execute("SELECT name FROM files"))
        assert names == [hexed, "0.txt", "1.txt", "2.txt"]
    assert build(site, NOW + timedelta(hours=2)).no_changes


def test_a_feed_file_changed_by_someone_else_is_restored(site: Config) -> None:
    build(site, NOW)
    before = feeds(site)
    (site.output_dir / "energy.rss").write_bytes(b"oops")
    (site.output_dir / "energy.atom").unlink()
    report = build(site, NOW)
    assert feeds_written(report) == 2
    assert {k: v[0] for k, v in feeds(site).items()} == {k: v[0] for k, v in before.items()}


def test_config_change_rebuilds_every_topic(site: Config, project: Path, backend: Backend) -> None:
    build(site, NOW)
    (project / "config.yaml").write_text(
        backend.text(BASE_CONFIG.replace("title: Energy", "title: Power")), encoding="utf-8"
    )
    report = build(load_config(project / "config.yaml"), NOW)
    assert report.parsed == 0 and feeds_written(report) == 2
    assert b"Test Site: Power" in (site.output_dir / "energy.atom").read_bytes()


def test_max_age_moves_with_time_alone(project: Path) -> None:
    text = BASE_CONFIG.replace("    match: [Energy]", "    match: [Energy]\n    max_age_days: 3")
    (project / "config.yaml").write_text(text, encoding="utf-8")
    config = load_config(project / "config.yaml")
    write_record(
        project / "seeds",
        "old.txt",
        title="Old",
        webUrl="https://n.example/old",
        originalUrl=...,
        publishedDateTime="2026-11-26T00:00:00Z",
    )
    write_record(
        project / "seeds",
        "new.txt",
        title="New",
        webUrl="https://n.example/new",
        originalUrl=...,
        publishedDateTime="2026-11-27T12:00:00Z",
    )
    build(config, NOW)
    assert sorted(updated_of(config)) == ["New", "Old"]
    assert build(config, NOW + timedelta(hours=12)).no_changes
    later = build(config, datetime(2026, 11, 29, 1, tzinfo=timezone.utc))
    assert later.parsed == 0 and feeds_written(later) == 2
    assert sorted(updated_of(config)) == ["New"]


def test_rejected_records_are_reported_on_every_run(site: Config) -> None:
    (site.records_dir / "bad.txt").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    first = build(site, NOW)
    second = build(site, NOW)
    assert second.no_changes
    assert [p.path for p in first.errors] == [p.path for p in second.errors]
    assert len(second.errors) == 1


def test_json_summary(site: Config, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["build", "--json", "-c", str(site.path), "--now", NOW.isoformat()]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == 0 and summary["read"] == 3 and len(summary["written"]) == 8
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["no_changes"] is True


def test_quiet_cron_run_prints_nothing(site: Config, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "-q", "-c", str(site.path), "--now", NOW.isoformat()]) == 0
    assert capsys.readouterr() == ("", "")


# Holds the run's lock as a run does: a file's lock, or an advisory lock on a session of
# a state in PostgreSQL.
HOLD_LOCK = """
import sys, time
from pathlib import Path
from topicfeeds.config import load_config
from topicfeeds.store.opening import open_store
with open_store(load_config(Path(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@contextlib.contextmanager
def lock_held(config: Config, seconds: float, *, kill: bool = True) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the run lock for up to `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(config.path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        if kill:
            holder.kill()
        holder.communicate()


def test_a_second_run_exits_at_once_while_one_is_active(site: Config) -> None:
    with lock_held(site, 30):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "topicfeeds", "build", "-c", str(site.path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert time.monotonic() - started < 20
        assert result.returncode == 3
        assert result.stderr.strip().endswith("another topicfeeds run is in progress")
        assert list(site.output_dir.iterdir()) == []


def test_wait_takes_the_lock_when_the_other_run_ends(site: Config) -> None:
    with lock_held(site, 1, kill=False):
        with pytest.raises(LockedError):
            build(site, NOW)
        report = build(site, NOW, wait=30)
        assert feeds_written(report) == 2


def test_a_killed_holder_never_blocks_the_next_run(site: Config) -> None:
    with lock_held(site, 60) as holder:
        holder.kill()
        holder.wait()
        assert feeds_written(build(site, NOW)) == 2


@pytest.mark.parametrize("room", [None, 0, 1, 3])
def test_rebuilding_many_topics_at_once_gives_the_same_feeds(
    project: Path, monkeypatch: pytest.MonkeyPatch, room: int | None
) -> None:
    """Past ten topics the run fills every topic's shortlist in one pass over the
    records; it must publish what choosing from all of each topic's records does,
    however few records a shortlist keeps (with little room the answer is often left
    open, and the run then reads the topic's records)."""
    auto = "records: seeds\nauto: true\ndefaults:\n  limit: 2"  # few places: shortlists cut
    (project / "config.yaml").write_text(BASE_CONFIG.replace("records: seeds", auto))
    for n in range(30):
        write_record(
            project / "seeds",
            f"{n}.txt",
            title=f"Story {n}",
            webUrl=f"https://n.example/{n % 27}",  # three articles filed twice
            originalUrl=...,
            topics=[f"Topic {n % 14}", f"Topic {n % 3}"],
        )
    config = load_config(project / "config.yaml")
    if room is not None:
        monkeypatch.setattr(shortlists, "shortlist_room", lambda topic: room)
    build(config, NOW)
    one_pass = {p.name: p.read_bytes() for p in config.output_dir.iterdir()}
    assert len(one_pass) == 4 * 15 + 4  # Atom, RSS, JSON and a page a topic; index, OPML, stylesheets
    for p in config.output_dir.iterdir():
        p.unlink()
    assert config.state_path is not None
    config.state_path.unlink()
    monkeypatch.setattr(view, "shortlisted", lambda *args, **kwargs: None)  # every record, unbounded
    build(config, NOW)
    assert {p.name: p.read_bytes() for p in config.output_dir.iterdir()} == one_pass


@sqlite_only
def test_progress_bars_only_on_a_terminal(
    site: Config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["build", "-c", str(site.path), "--now", NOW.isoformat()]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert main(args) == 0
    assert capsys.readouterr().err == ""  # under cron: the summary line only, on stdout
    (site.records_dir / "0.txt").write_text(record_text(record_fields(title="Changed")), encoding="utf-8")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "records" in err and "feeds" in err  # tqdm's bars, named by stage


def entry_ids(folder: Path) -> dict[str, list[str]]:
    return {
        p.name: [e.id for e in feedparser.parse(p.read_bytes()).entries]
        for p in sorted(folder.iterdir())
        if p.suffix in (".atom", ".rss")
    }


@pytest.mark.parametrize("seed", range(10) if THOROUGH else range(0, 10, 2))  # all ten when thorough
def test_incremental_runs_select_what_a_cold_run_selects(tmp_path: Path, seed: int) -> None:
    """After any mix of edits, additions and removals, an incremental run publishes the
    same entries in the same order as a cold run over the same files."""
    runs_select_what_a_cold_run_selects(tmp_path, seed, Backend("sqlite"))


@pytest.mark.parametrize("seed", range(3))
def test_incremental_runs_select_what_a_cold_run_selects_with_the_state_in_postgresql(
    tmp_path: Path, seed: int, postgresql: Backend
) -> None:
    runs_select_what_a_cold_run_selects(tmp_path, seed, postgresql)


def runs_select_what_a_cold_run_selects(tmp_path: Path, seed: int, backend: Backend) -> None:
    import random

    rng = random.Random(seed)
    text = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true\ndefaults:\n  limit: 5")
    config = make_config(tmp_path, backend.text(text))
    topics = ["Energy", "Space", "Grid", "Solar"]

    def write(n: int) -> None:
        steady = rng.random() < 0.5
        write_record(
            tmp_path / "seeds",
            f"{n:03}.txt",
            title=f"Story {n} v{rng.randint(0, 9)}",
            webUrl=f"https://n.example/{n % 25}",  # some share an article
            originalUrl=...,
            # Half the edits keep the date and quality and change only the title.
            publishedDateTime=f"2026-11-{(n * 7 % 27 if steady else rng.randint(0, 26)) + 1:02}T08:00:00Z",
            quality=n * 13 % 100 if steady else rng.randint(0, 100),
            topics=rng.sample(topics, rng.randint(1, 2)),
            published=rng.random() > 0.1,
        )

    for n in range(30):
        write(n)
    build(config, NOW)
    for _ in range(4):
        for n in rng.sample(range(40), rng.choice([1, 3, 8])):
            path = tmp_path / "seeds" / f"{n:03}.txt"
            if path.exists() and rng.random() < 0.3:
                path.unlink()
            else:
                write(n)
        build(config, NOW)
        incremental = entry_ids(config.output_dir)
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        (cold / "feeds").mkdir(parents=True)
        build(stateless(config, cold / "feeds"), NOW)
        assert entry_ids(cold / "feeds").items() <= incremental.items()
