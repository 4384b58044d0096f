"""Nothing a run starts outlives it: a killed or terminated build leaves no worker
behind, no worker ever holds the run's lock, and the next run is never blocked.

Each victim runs in its own session, so every process it started shares its process
group; after a kill the test looks for any live member of that group."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from .conftest import BASE_CONFIG, THOROUGH, make_config, record_fields, record_text

NOW = "2026-11-28T00:00:00Z"
TOPICS = ["Energy", "Space", "Climate", "Privacy", "Grid"]
# Enough changed files that the parse pool runs (reader.PARALLEL_MIN_FILES is 1000).
RECORDS = 1200


def write_corpus(seeds: Path, edition: int) -> None:
    for n in range(RECORDS):
        (seeds / f"{n:05}.txt").write_text(story(n).replace("EDITION", str(edition)), encoding="utf-8")


@functools.cache
def story(n: int) -> str:
    """Record n's text, its edition to fill in: dumping the YAML of every record again
    for each moment took most of a kill test's time."""
    fields = record_fields(
        title=f"Story {n}, edition EDITION",
        webUrl=f"https://news.example/{n}",
        originalUrl=...,
        topics=[TOPICS[n % len(TOPICS)], TOPICS[(n // 3) % len(TOPICS)]],
    )
    return record_text(fields)


def project(root: Path) -> Path:
    make_config(root, BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true"))
    return root / "config.yaml"


def start(config: Path, *, errors: bool = True) -> subprocess.Popen[bytes]:
    """A parallel build in a session of its own, as cron starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "topicfeeds", "build", "-q", "-j", "2", "-c", str(config), "--now", NOW],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if errors else subprocess.DEVNULL,
        start_new_session=True,
    )


def build(config: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-q", "-c", str(config), "--now", NOW],
        capture_output=True,
        timeout=120,
        check=False,
    )


def live_members(group: int) -> list[int]:
    """The processes of process group `group` that are still running (not zombies,
    which hold no files and wait only for init to reap them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state != "Z":
            found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def wait_until_gone(group: int, seconds: float = 2.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = live_members(group)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def snapshot(feeds: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(feeds.iterdir())}


def published(feeds: Path) -> dict[str, list[tuple[str, str, str]]]:
    """What each feed publishes, but the `updated` times an edit history gives."""
    return {
        p.name: [(e.id, e.title, e.published) for e in feedparser.parse(p.read_bytes()).entries]
        for p in sorted(feeds.iterdir())
    }


@pytest.fixture
def linux_proc() -> None:
    if not Path("/proc/self/stat").exists():  # pragma: no cover - the tests need /proc
        pytest.skip("needs /proc")


def kill_at_moments(
    tmp_path: Path,
    fractions: Iterator[float] | list[float],
    signals: tuple[int, ...] = (signal.SIGKILL,),
) -> None:
    """Signal a run at each of `fractions` of a run's length, cycling through
    `signals`. A run that gets SIGTERM or SIGINT must end with 128 + the signal (or 0,
    had it finished) and print no traceback; no run may leave a process behind. For
    those two signals the moments count from when the command has taken them in hand:
    one that comes while the interpreter itself starts is Python's to report."""
    site, reference = tmp_path / "site", tmp_path / "reference"
    site.mkdir()
    config = project(site)
    write_corpus(site / "seeds", 0)
    assert build(config).returncode == 0
    shutil.copytree(site, reference)
    # How long a run that reparses everything takes here: the kill moments are
    # fractions of it, from listing through parsing, storing, rendering and writing.
    write_corpus(reference / "seeds", 1)
    started = time.monotonic()
    victim = start(reference / "config.yaml")
    _, err = victim.communicate(timeout=120)
    assert victim.returncode == 0, err
    duration = time.monotonic() - started

    edition = 1
    for n, fraction in enumerate(fractions):
        signum = signals[n % len(signals)]
        edition += 1
        write_corpus(site / "seeds", edition)  # every victim has every file to parse again
        victim = start(config, errors=signum != signal.SIGKILL)
        if signum != signal.SIGKILL:
            wait_until_taken(victim.pid)
        time.sleep(duration * fraction)
        victim.send_signal(signum)
        _, err = victim.communicate(timeout=30)
        moment = f"{signal.Signals(signum).name} at {fraction:.0%}"
        if signum != signal.SIGKILL:
            assert victim.returncode in (0, 128 + signum), f"{moment}: exit {victim.returncode}: {err!r}"
            assert b"Traceback" not in err and b"Exception ignored" not in err, f"{moment}: {err!r}"
        left = wait_until_gone(victim.pid)
        assert not left, f"{moment}: processes {left} of the run outlived it"
        # The next run takes the lock at once; it is killed in turn by the next moment.
    shutil.rmtree(reference)
    shutil.copytree(site, reference, ignore=shutil.ignore_patterns(".topicfeeds-state*", "feeds"))
    (reference / "feeds").mkdir()
    result = build(config)
    assert result.returncode == 0, result.stderr
    assert build(reference / "config.yaml").returncode == 0
    # The site saw every edition, the reference only the last: only `updated` differs.
    assert published(site / "feeds") == published(reference / "feeds")
    assert not list((site / "feeds").glob(".*"))


# Ten moments spread over the run, and two of the forty (n/40) between them: while the
# package loads, and while the workers parse and store. TOPICFEEDS_THOROUGH=1 tries all
# forty (one setup for all of them: a kill test's setup costs as much as eight moments).
SOME_MOMENTS = [0.02, 2 / 40, 0.1, 0.2, 0.3, 15 / 40, 0.5, 0.6, 0.7, 0.85, 0.97]


@pytest.mark.usefixtures("linux_proc")
def test_a_killed_parallel_run_leaves_no_process_and_never_blocks_the_next(tmp_path: Path) -> None:
    """SIGKILL at moments from loading the package to the last file written: within 2 s
    nothing of the run is left, and the next run goes ahead and publishes what a clean
    build publishes."""
    kill_at_moments(tmp_path, [n / 40 for n in range(1, 41)] if THOROUGH else SOME_MOMENTS)


@pytest.mark.usefixtures("linux_proc")
def test_a_parallel_run_stopped_at_twelve_moments_ends_quietly(tmp_path: Path) -> None:
    """SIGTERM and SIGINT by turns, from loading the package to the last file
    written: each run ends with the signal's status and no traceback, and the next
    run publishes what a clean build publishes. The suite tries every other moment,
    both signals by turns; TOPICFEEDS_THOROUGH=1 all twelve."""
    moments = range(12) if THOROUGH else range(0, 12, 2)
    kill_at_moments(tmp_path, [n / 13 for n in moments], (signal.SIGTERM, signal.SIGINT))


def wait_until_taken(pid: int, seconds: float = 10.0) -> None:
    """Wait until the command in process `pid` has taken SIGTERM and SIGINT in hand:
    it blocks or catches SIGTERM (/proc/PID/status). Not SIGINT, which Python
    itself catches from its start."""
    signum = signal.SIGTERM
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        if (int(fields["SigBlk"], 16) | int(fields["SigCgt"], 16)) >> (signum - 1) & 1:
            return
        time.sleep(0.001)
    raise AssertionError("the run did not take SIGTERM in hand")


def wait_for_workers(victim: subprocess.Popen[bytes], seconds: float = 30.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        workers = children(victim.pid)
        if workers:
            return workers
        assert victim.poll() is None, "the run ended before it started a worker"
        time.sleep(0.005)
    raise AssertionError("no worker process was started")


@pytest.mark.usefixtures("linux_proc")
def test_a_terminated_worker_ends_and_the_run_finishes_without_it(tmp_path: Path) -> None:
    config = project(tmp_path)
    write_corpus(tmp_path / "seeds", 0)
    victim = start(config)
    workers = wait_for_workers(victim)
    os.kill(workers[0], signal.SIGTERM)
    _, err = victim.communicate(timeout=120)
    assert victim.returncode == 0, err
    assert not wait_until_gone(victim.pid)
    assert build(config).returncode == 0  # not blocked, nothing left to do
    reference = tmp_path / "reference"
    (reference / "feeds").mkdir(parents=True)
    shutil.copytree(tmp_path / "seeds", reference / "seeds")
    shutil.copy(config, reference / "config.yaml")
    assert build(reference / "config.yaml").returncode == 0
    assert snapshot(tmp_path / "feeds") == snapshot(reference / "feeds")


@pytest.mark.usefixtures("linux_proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_terminated_parallel_run_ends_with_its_workers(tmp_path: Path, signum: int) -> None:
    config = project(tmp_path)
    write_corpus(tmp_path / "seeds", 0)
    victim = start(config)
    wait_for_workers(victim)
    time.sleep(0.1)
    os.kill(victim.pid, signum)
    _, err = victim.communicate(timeout=10)
    assert victim.returncode == 128 + signum, err
    assert b"Traceback" not in err
    assert not wait_until_gone(victim.pid)
    assert not list((tmp_path / "feeds").glob(".topicfeeds-*"))
    result = build(config)
    assert result.returncode == 0, result.stderr
