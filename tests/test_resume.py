"""A cold build keeps its progress: killed with SIGKILL part-way, it leaves the records
it stored, and the next run parses only the rest and publishes what an unbroken cold
build publishes, byte for byte."""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from topicfeeds.pipeline.refresh import KEEP_EVERY

from .backends import Backend
from .conftest import THOROUGH, record_fields, record_text
from .test_processes import NOW, TOPICS, project, snapshot, wait_until_gone
from .test_state import INDEXES

# Enough for two kept batches and a third under way.
RECORDS = 2 * KEEP_EVERY + 1000
# A file younger than this when a run starts is hashed again by the next one
# (refresh.RACY_NS): the corpus ages first, so that "parsed" counts only what was
# never stored.
SETTLE_SECONDS = 2.1


def write_corpus(seeds: Path) -> None:
    for n in range(RECORDS):
        text = story(1 + n % 27, n % 24, TOPICS[n % len(TOPICS)], TOPICS[(n // 3) % len(TOPICS)])
        (seeds / f"{n:05}.txt").write_text(text.replace("NUMBER", str(n)), encoding="utf-8")


@functools.cache
def story(day: int, hour: int, *topics: str) -> str:
    """A record's text, its number to fill in: dumping the YAML of each of the records
    was most of the time spent making the corpus."""
    fields = record_fields(
        title="Story NUMBER",
        webUrl="https://news.example/NUMBER",
        originalUrl=...,
        publishedDateTime=f"2026-11-{day:02}T{hour:02}:00:00Z",
        topics=list(topics),
    )
    return record_text(fields)


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "topicfeeds", "build", "--json", "-j", "2", "-c", str(config), "--now", NOW]


def sqlite_indexes(state: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(state)) as db:
        made = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return sorted(name for (name,) in made)


def stored(state: Path | Backend) -> int:
    """How many record files the state holds, as a reader sees it: committed rows only."""
    if isinstance(state, Backend):
        return state.count("files")
    if not state.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5)) as db:
            return int(db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
    except sqlite3.DatabaseError:  # its tables not made yet
        return 0


def reached(state: Path | Backend, kept: int) -> bool:
    """Whether the build has kept `kept` records (0: whether it has begun its state)."""
    if kept:
        return stored(state) >= kept
    return state.count("meta") > 0 if isinstance(state, Backend) else state.exists()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A records folder and what an unbroken cold build publishes from it."""
    root = tmp_path_factory.mktemp("reference")
    config = project(root)
    write_corpus(root / "seeds")
    time.sleep(SETTLE_SECONDS)
    result = subprocess.run(command(config), capture_output=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["read"] == RECORDS
    return root / "seeds", snapshot(root / "feeds")


@pytest.mark.slow
# Before any batch was kept and after one; TOPICFEEDS_THOROUGH=1 also after two.
@pytest.mark.parametrize("kept", [0, KEEP_EVERY, 2 * KEEP_EVERY] if THOROUGH else [0, KEEP_EVERY])
def test_a_killed_cold_build_resumes_where_it_stopped(
    tmp_path: Path, corpus: tuple[Path, dict[str, bytes]], kept: int
) -> None:
    """Killed once it has kept `kept` records (0: before it kept any), the cold build
    leaves them; the next run parses only the others, and the feeds are the same bytes."""
    resumes(tmp_path, corpus, kept, Backend("sqlite"))


@pytest.mark.slow
def test_a_killed_cold_build_resumes_where_it_stopped_with_the_state_in_postgresql(
    tmp_path: Path, corpus: tuple[Path, dict[str, bytes]], postgresql: Backend
) -> None:
    """As above, the run's session ended by the kill: the server rolls back what it had
    not committed and lets go of its lock."""
    resumes(tmp_path, corpus, KEEP_EVERY, postgresql)


def resumes(tmp_path: Path, corpus: tuple[Path, dict[str, bytes]], kept: int, backend: Backend) -> None:
    seeds, reference = corpus
    config = project(tmp_path)
    with config.open("a", encoding="utf-8") as text:
        text.write(backend.lines)
    shutil.rmtree(tmp_path / "seeds")
    shutil.copytree(seeds, tmp_path / "seeds")  # copies age like the originals: not racy
    time.sleep(SETTLE_SECONDS)
    state = tmp_path / ".topicfeeds-state.sqlite" if backend.server is None else backend
    victim = subprocess.Popen(command(config), stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not reached(state, kept):
        assert victim.poll() is None, "the build ended before the moment it was to be killed at"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not wait_until_gone(victim.pid)
    left = stored(state)
    assert kept <= left < RECORDS
    assert not any((tmp_path / "feeds").iterdir())  # killed before it published anything

    result = subprocess.run(command(config), capture_output=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["read"] == RECORDS - left
    assert snapshot(tmp_path / "feeds") == reference
    # The killed run filled the tables without their secondary indexes: all are back.
    assert (state.indexes() if isinstance(state, Backend) else sqlite_indexes(state)) == INDEXES
    again = subprocess.run(command(config), capture_output=True, timeout=300, check=False)
    assert json.loads(again.stdout)["read"] == 0
    assert json.loads(again.stdout)["no_changes"] is True
