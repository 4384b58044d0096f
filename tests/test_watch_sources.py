"""`watch` through the records source's own way of telling of changes: a bucket by its
listing, a folder by events that name the files, a run they start looking at those
files alone; and such runs publish what a cold build of the same records publishes."""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from topicfeeds import build, load_config
from topicfeeds.config import Config
from topicfeeds.pipeline import refresh
from topicfeeds.sources import Heard, Listening
from topicfeeds.sources.folder import FolderSource

from .backends import Backend, stateless
from .conftest import BASE_CONFIG, make_config, write_record
from .s3server import S3Server, dummy_credentials, running_s3
from .test_incremental import entry_ids
from .test_processes import linux_proc  # noqa: F401 - a fixture
from .test_watch import CONFIG, Watch, no_watch_left_behind, story, titles  # noqa: F401 - a fixture

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
TOPICS = ["Energy", "Space", "Grid", "Solar"]


def cold_entries(config: Config, where: Path) -> dict[str, list[str]]:
    """The entries a cold build of `config`'s records publishes, built into `where`."""
    shutil.rmtree(where, ignore_errors=True)
    (where / "feeds").mkdir(parents=True)
    build(stateless(config, where / "feeds"), NOW)
    return entry_ids(where / "feeds")


# -- runs that look at the records events named


@pytest.mark.parametrize(("seed", "racy"), [(seed, seed % 2 == 0) for seed in range(8)])
def test_runs_of_named_records_publish_what_a_cold_build_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, racy: bool
) -> None:
    """After any mix of edits, additions and removals, each followed by a run told the
    names that changed (with names of files removed again, of other files, of records
    that did not change), the feeds hold what a cold build of the same files gives;
    and such a run never lists the folder. Every other seed trusts no stamp it has just
    seen (racy), so that records are told apart by their content too."""
    named_runs(tmp_path, monkeypatch, seed, racy, Backend("sqlite"))


@pytest.mark.parametrize(("seed", "racy"), [(0, True), (1, False)])
def test_runs_of_named_records_with_the_state_in_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgresql: Backend, seed: int, racy: bool
) -> None:
    """The same law with the state in PostgreSQL, whose text holds no NUL: a run of
    named records asks for each name's range there too."""
    named_runs(tmp_path, monkeypatch, seed, racy, postgresql)


def named_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, racy: bool, state: Backend
) -> None:
    """Runs told of named records, checked against cold builds (see above)."""
    if not racy:
        monkeypatch.setattr(refresh, "RACY_NS", 0)
    rng = random.Random(seed)
    text = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true\ndefaults:\n  limit: 5")
    config = make_config(tmp_path, state.text(text))
    seeds = tmp_path / "seeds"

    def write(n: int) -> None:
        write_record(
            seeds,
            f"{n:03}.txt",
            title=f"Story {n} v{rng.randint(0, 9)}",
            webUrl=f"https://n.example/{n % 25}",  # some share an article
            originalUrl=...,
            publishedDateTime=f"2026-11-{rng.randint(1, 27):02}T08:00:00Z",
            quality=rng.randint(0, 100),
            topics=rng.sample(TOPICS, rng.randint(1, 2)),
            published=rng.random() > 0.1,
        )

    for n in range(30):
        write(n)
    build(config, NOW)
    scan = FolderSource.scan

    def no_listing(source: FolderSource, stamps: bool = True) -> object:
        raise AssertionError("a run of named records listed the folder")

    for _ in range(4):
        named: set[str] = set()
        for n in rng.sample(range(40), rng.choice([1, 2, 5])):
            path = seeds / f"{n:03}.txt"
            named.add(path.name)
            if path.exists() and rng.random() < 0.3:
                path.unlink()
            else:
                write(n)
        if rng.random() < 0.5:  # written and removed again before the run
            write(90)
            (seeds / "090.txt").unlink()
            named.add("090.txt")
        (seeds / ".tmp-1.txt").write_text("an atomic writer's temporary file", encoding="utf-8")
        named |= {".tmp-1.txt", "notes.json", f"{rng.randrange(30):03}.txt"}
        monkeypatch.setattr(FolderSource, "scan", no_listing)
        report = build(config, NOW, named=named)
        monkeypatch.setattr(FolderSource, "scan", scan)
        assert report.files == len(list(seeds.glob("[0-9]*.txt")))
        assert entry_ids(config.output_dir).items() >= cold_entries(config, tmp_path / "cold").items()
    # A change no event told of (lost events) is found by the next run that lists.
    write(3)
    build(config, NOW, named={"004.txt"})
    build(config, NOW)
    assert entry_ids(config.output_dir).items() >= cold_entries(config, tmp_path / "cold").items()
    assert build(config, NOW).no_changes or racy


def test_a_folder_watcher_names_the_records_events_tell_of_and_says_when_they_cannot_be_trusted(
    tmp_path: Path,
) -> None:
    """Records written in a subfolder (with `**/*.txt`) are named; other files are not;
    a folder made, and the records folder replaced, mean every record must be looked at,
    as does every change a polling watcher sees."""
    seeds = tmp_path / "seeds"
    (seeds / "2026").mkdir(parents=True)
    watcher = FolderSource(seeds, ("**/*.txt",)).watcher(Listening(settle=0.05))
    never = threading.Event()
    try:
        (seeds / "2026" / "a.txt").write_text("a", encoding="utf-8")
        (seeds / "2026" / ".a.txt.tmp").write_text("a", encoding="utf-8")
        assert watcher.wait(10, never) == Heard(frozenset({"2026/a.txt"}))
        (seeds / "notes.json").write_text("{}", encoding="utf-8")
        assert watcher.wait(10, never) == Heard()
        (seeds / "2027").mkdir()
        assert watcher.wait(10, never) == Heard(whole=True)
        shutil.copytree(seeds, tmp_path / "seeds.new")
        seeds.rename(tmp_path / "seeds.old")
        (tmp_path / "seeds.new").rename(seeds)
        assert watcher.wait(10, never) == Heard(whole=True)
        (seeds / "b.txt").write_text("b", encoding="utf-8")  # the new folder is watched
        assert watcher.wait(10, never) == Heard(frozenset({"b.txt"}))
        assert watcher.wait(0.2, never) is None  # nothing came: time for a check
    finally:
        watcher.close()
    polled = FolderSource(seeds, ("*.txt",)).watcher(Listening(settle=0.05, polling=True))
    try:
        (seeds / "c.txt").write_text("c", encoding="utf-8")
        assert polled.wait(10, never) == Heard(whole=True)
    finally:
        polled.close()


def test_a_file_renamed_in_is_taken_at_once_and_one_written_in_place_after_the_settle(tmp_path: Path) -> None:
    """An atomic writer's rename (or a removal) is whole when its event comes: the watcher
    tells of it after one quiet step, however long `settle` is. A file written where it
    lies may be written again: the watcher waits `settle` without a change first."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "old.txt").write_text("old", encoding="utf-8")
    watcher = FolderSource(seeds, ("*.txt",)).watcher(Listening(settle=1.5, longest=5.0))
    never = threading.Event()
    try:
        aside = tmp_path / "new.txt"
        aside.write_text("new", encoding="utf-8")
        began = time.monotonic()
        aside.rename(seeds / "new.txt")
        assert watcher.wait(10, never) == Heard(frozenset({"new.txt"}))
        assert time.monotonic() - began < 1.0
        began = time.monotonic()
        (seeds / "new.txt").unlink()
        assert watcher.wait(10, never) == Heard(frozenset({"new.txt"}))
        assert time.monotonic() - began < 1.0
        began = time.monotonic()
        with (seeds / "old.txt").open("a", encoding="utf-8") as out:
            out.write(" and more")
        assert watcher.wait(10, never) == Heard(frozenset({"old.txt"}))
        assert time.monotonic() - began >= 1.5
    finally:
        watcher.close()


# -- through the command


@pytest.mark.usefixtures("linux_proc")
def test_a_watch_runs_for_named_records_and_a_replaced_folder_as_a_cold_build_would(
    tmp_path: Path,
) -> None:
    """A record written and removed before its run, records written beside it, then the
    records folder replaced by another while watched: after each, the feeds are what a
    cold build of the folder gives, and the runs the events start read those records
    alone."""
    site = tmp_path / "site"
    site.mkdir()
    make_config(site, CONFIG)
    seeds = site / "seeds"
    for n in range(40):
        (seeds / f"{n:04}.txt").write_text(story(n), encoding="utf-8")
    watching = Watch(site, "--json")
    config = load_config(site / "config.yaml")

    runs = len(watching.lines)
    (seeds / "0100.txt").write_text(story(100, "Written and removed"), encoding="utf-8")
    (seeds / "0101.txt").write_text(story(101, "Written beside it"), encoding="utf-8")
    (seeds / "0100.txt").unlink()
    watching.settle(runs, quiet=0.5)
    changes = watching.json_lines()[runs:]
    assert [(line["reason"], line["read"], line["record_files"]) for line in changes] == [("change", 1, 41)]
    assert "Written beside it" in titles(site / "feeds", "space.atom")
    assert entry_ids(site / "feeds").items() >= cold_entries(config, tmp_path / "cold").items()

    fresh = site / "seeds.new"
    shutil.copytree(seeds, fresh)
    (fresh / "0003.txt").unlink()
    (fresh / "0400.txt").write_text(story(400, "In the new folder"), encoding="utf-8")
    runs = len(watching.lines)
    seeds.rename(site / "seeds.old")
    fresh.rename(seeds)
    watching.settle(runs, quiet=0.5)
    assert watching.json_lines()[runs]["record_files"] == 41  # the whole new folder looked at
    assert "In the new folder" in titles(site / "feeds", "energy.atom")
    assert entry_ids(site / "feeds").items() >= cold_entries(config, tmp_path / "cold").items()

    runs = len(watching.lines)
    (seeds / "0005.txt").write_text(story(5, "Edited after the swap"), encoding="utf-8")
    watching.settle(runs, quiet=0.5)
    assert [line["read"] for line in watching.json_lines()[runs:]] == [1]
    assert entry_ids(site / "feeds").items() >= cold_entries(config, tmp_path / "cold").items()
    assert watching.stop() == 0
    assert "Traceback" not in watching.errors


# -- records in a bucket


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """moto's server with an empty bucket `records`; dummy credentials in the
    environment, which the watch's process inherits."""
    dummy_credentials(monkeypatch)
    with running_s3() as server:
        # moto keeps its buckets in the process: an earlier test's server in this worker
        # may have left a bucket `records` with objects in it.
        server.reset()
        server.client().create_bucket(Bucket="records")
        yield server


def test_a_watch_of_records_in_a_bucket_follows_objects_by_listing_it(tmp_path: Path, s3: S3Server) -> None:
    """`records: s3://…` under `watch`: no traceback, but a run whenever the listing
    changes (an object put, one deleted), long before the periodic check."""
    site = tmp_path / "site"
    site.mkdir()
    text = CONFIG.replace("records: seeds", "records: s3://records/in/", 1)
    make_config(site, text + f"s3:\n  endpoint: {s3.url}\n  region: us-east-1\n  addressing_style: path\n")
    client = s3.client()
    for n in range(3):
        client.put_object(Bucket="records", Key=f"in/{n:04}.txt", Body=story(n).encode("utf-8"))
    watching = Watch(site, "--json", "--list-every", "0.3")
    assert watching.json_lines()[0]["record_files"] == 3

    runs = len(watching.lines)
    client.put_object(Bucket="records", Key="in/2026/0100.txt", Body=story(100, "From the bucket").encode())
    watching.settle(runs, quiet=1.0, timeout=15)  # the check is 30 s away
    assert "From the bucket" in titles(site / "feeds", "energy.atom")

    runs = len(watching.lines)
    client.delete_object(Bucket="records", Key="in/2026/0100.txt")
    watching.settle(runs, quiet=1.0, timeout=15)
    assert "From the bucket" not in titles(site / "feeds", "energy.atom")
    assert [line["reason"] for line in watching.json_lines()[1:]] == ["change", "change"]
    time.sleep(0.5)
    assert watching.stop() == 0
    assert "Traceback" not in watching.errors, watching.errors
