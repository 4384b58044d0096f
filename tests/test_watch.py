"""`topicfeeds watch` as it runs in production: a process of its own, watching a real
folder. After every change it settles on exactly the files a `build` writes from the
same records and state, it shares the lock with `build`, and SIGTERM leaves whole
files, a free lock and no process behind."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import feedparser
import pytest

from topicfeeds.config import load_config
from topicfeeds.errors import LockedError
from topicfeeds.pipeline.run import build, lock_path
from topicfeeds.runtime.lock import exclusive
from topicfeeds.watch import CHECK_SHARE, check_interval

from .conftest import BASE_CONFIG, make_config, record_fields, record_text
from .test_processes import linux_proc, live_members, wait_until_gone  # noqa: F401 - a fixture

CONFIG = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true")
TOPICS = ["Energy", "Space", "Climate", "Privacy", "Grid"]


def story(n: int, title: str | None = None, published: str = "2026-11-20T08:00:00Z") -> str:
    if title is None:
        return numbered(n % len(TOPICS), published).replace("NUMBER", str(n))
    return record_text(
        record_fields(
            title=title,
            publishedDateTime=published,
            webUrl=f"https://news.example/{n}",
            originalUrl=...,
            topics=[TOPICS[n % len(TOPICS)]],
        )
    )


@functools.cache
def numbered(topic: int, published: str) -> str:
    """Story NUMBER's text: dumping the YAML of each of thousands of records again took
    seconds of the tests that fill the folder."""
    return record_text(
        record_fields(
            title="Story NUMBER",
            publishedDateTime=published,
            webUrl="https://news.example/NUMBER",
            originalUrl=...,
            topics=[TOPICS[topic]],
        )
    )


class Watch:
    """A running `topicfeeds watch` in a session of its own, with its output lines."""

    started: ClassVar[list[Watch]] = []  # ended by `no_watch_left_behind`

    def __init__(self, root: Path, *extra: str, first_line: bool = True) -> None:
        self.root = root
        self.config = root / "config.yaml"
        self.lines: list[tuple[float, str]] = []
        self.error_lines: list[str] = []  # standard error, as it comes
        self.process = subprocess.Popen(
            [sys.executable, "-m", "topicfeeds", "watch", "-c", str(self.config), "--settle", "0.1",
             "--check-every", "30", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            text=True,
        )  # fmt: skip
        Watch.started.append(self)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.readers = [
            threading.Thread(target=self._read, args=(stream, into, into is self.lines), daemon=True)
            for stream, into in ((self.process.stdout, self.lines), (self.process.stderr, self.error_lines))
        ]
        for reader in self.readers:
            reader.start()
        if first_line:
            self.wait_for_lines(1, timeout=30)

    @staticmethod
    def _read(stream: Iterator[str], into: list[Any], stamped: bool) -> None:
        for line in stream:
            into.append((time.monotonic(), line.rstrip("\n")) if stamped else line)

    def wait_for_lines(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count:
            assert self.process.poll() is None, "".join(self.error_lines)
            assert time.monotonic() < deadline, f"no run line after {timeout} s: {self.lines}"
            time.sleep(0.01)

    def wait_for_errors(self, text: str, timeout: float = 30.0) -> None:
        """Wait until standard error holds `text`."""
        deadline = time.monotonic() + timeout
        while text not in "".join(self.error_lines):
            assert self.process.poll() is None, "".join(self.error_lines)
            assert time.monotonic() < deadline, f"no {text!r} after {timeout} s: {self.error_lines}"
            time.sleep(0.01)

    def close(self) -> None:
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for _, line in self.lines]

    def settle(self, before: int, quiet: float = 1.0, timeout: float = 60.0) -> None:
        """Wait for a run line after the `before`-th, then for `quiet` seconds without one."""
        self.wait_for_lines(before + 1, timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() - self.lines[-1][0] < quiet:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        for reader in self.readers:
            reader.join(timeout=30)
        self.close()
        assert not wait_until_gone(self.process.pid), "a process of the watch outlived it"
        self.errors = "".join(self.error_lines)
        return self.process.returncode


@pytest.fixture(autouse=True)
def no_watch_left_behind() -> Iterator[None]:
    """A test that fails midway leaves no watch running."""
    yield
    for running in Watch.started:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait()
        for reader in running.readers:
            reader.join(timeout=30)
        running.close()
    Watch.started.clear()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    make_config(root, CONFIG)
    for n in range(5):
        (root / "seeds" / f"{n:04}.txt").write_text(story(n), encoding="utf-8")
    yield root


@pytest.fixture
def watching(site: Path) -> Iterator[Watch]:
    running = Watch(site)
    yield running
    running.stop()


def outputs(feeds: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(feeds.iterdir())}


def what_build_writes(site: Path, elsewhere: Path) -> dict[str, bytes]:
    """The files a `build` writes from the watched folder's records and a copy of its
    state, taken under the lock (so between two runs), into a folder of its own."""
    if elsewhere.exists():
        shutil.rmtree(elsewhere)
    config = load_config(site / "config.yaml")
    lock = lock_path(config)
    assert lock is not None and config.state_path is not None
    with exclusive(lock, wait=30):
        shutil.copytree(site / "seeds", elsewhere / "seeds")
        shutil.copy(config.state_path, elsewhere / config.state_path.name)
        mine = outputs(site / "feeds")
    make_config(elsewhere, CONFIG)
    report = build(load_config(elsewhere / "config.yaml"), jobs=1)
    assert not report.failures and not report.errors
    theirs = outputs(elsewhere / "feeds")
    assert mine == theirs
    return mine


def titles(feeds: Path, name: str) -> set[str]:
    return {e.title for e in feedparser.parse((feeds / name).read_bytes()).entries}


@pytest.mark.usefixtures("linux_proc")
def test_watch_follows_writes_renames_edits_and_removals(site: Path, watching: Watch, tmp_path: Path) -> None:
    seeds, feeds, other = site / "seeds", site / "feeds", tmp_path / "build"
    assert "start:" in watching.lines[0][1]
    what_build_writes(site, other)

    runs = len(watching.lines)
    (seeds / "0100.txt").write_text(story(100, "Written in place"), encoding="utf-8")
    watching.settle(runs)
    what_build_writes(site, other)
    assert "Written in place" in titles(feeds, "energy.atom")

    runs = len(watching.lines)
    (seeds / ".0101.tmp").write_text(story(101, "Renamed into place"), encoding="utf-8")
    (seeds / ".0101.tmp").rename(seeds / "0101.txt")  # as an atomic writer does
    watching.settle(runs)
    what_build_writes(site, other)
    assert "Renamed into place" in titles(feeds, "space.atom")

    runs = len(watching.lines)
    (seeds / "0100.txt").write_text(story(100, "Edited"), encoding="utf-8")
    watching.settle(runs)
    what_build_writes(site, other)
    assert "Edited" in titles(feeds, "energy.atom")
    assert "Written in place" not in titles(feeds, "energy.atom")

    runs = len(watching.lines)
    (seeds / "0101.txt").unlink()
    watching.settle(runs)
    what_build_writes(site, other)
    assert "Renamed into place" not in titles(feeds, "space.atom")
    assert watching.stop() == 0
    assert "Traceback" not in watching.errors


@pytest.mark.usefixtures("linux_proc")
def test_watch_settles_a_burst_of_a_thousand_records(site: Path, watching: Watch, tmp_path: Path) -> None:
    runs = len(watching.lines)
    for n in range(1000, 2000):
        (site / "seeds" / f"{n:04}.txt").write_text(story(n), encoding="utf-8")
    watching.settle(runs, quiet=1.5)
    what_build_writes(site, tmp_path / "build")
    assert len(feedparser.parse((site / "feeds" / "grid.atom").read_bytes()).entries) > 0
    assert watching.stop() == 0


def wait_until_busy(site: Path, timeout: float = 30.0) -> None:
    """Return once another process holds the run's lock."""
    lock = lock_path(load_config(site / "config.yaml"))
    assert lock is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with exclusive(lock):
                pass
        except LockedError:
            return
        time.sleep(0.002)
    raise AssertionError("the watch never started a run")


@pytest.mark.usefixtures("linux_proc")
def test_a_build_meets_a_busy_watch_and_a_watch_waits_for_a_build(
    site: Path, watching: Watch, tmp_path: Path
) -> None:
    config = load_config(site / "config.yaml")
    runs = len(watching.lines)
    for n in range(1000, 3000):
        (site / "seeds" / f"{n:04}.txt").write_text(story(n), encoding="utf-8")
    wait_until_busy(site)
    with pytest.raises(LockedError):  # `build` without --wait: exit status 3
        build(config)
    waiting = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-q", "-c", str(site / "config.yaml"), "--wait", "60"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert waiting.returncode == 0, waiting.stderr
    watching.settle(runs, quiet=1.5)
    what_build_writes(site, tmp_path / "build")

    # The other way round: a watch run waits while a build holds the lock.
    lock = lock_path(config)
    assert lock is not None
    runs = len(watching.lines)
    with exclusive(lock):
        newer = story(50, "After the build", "2026-11-21T08:00:00Z")
        (site / "seeds" / "0050.txt").write_text(newer, encoding="utf-8")
        time.sleep(1.0)
        assert len(watching.lines) == runs
        assert "After the build" not in titles(site / "feeds", "energy.atom")
    watching.settle(runs)
    assert "After the build" in titles(site / "feeds", "energy.atom")
    assert watching.stop() == 0


def without_pool_exit_race(errors: str) -> str:
    """Standard error without CPython 3.11's atexit race in concurrent.futures (its
    exit hook may wake a pool whose pipe the pool's own thread is closing: "Exception
    ignored in atexit callback ... Bad file descriptor"; fixed in 3.12). A run
    interrupted while its parse workers run may hit it, `build` as well as `watch`."""
    head, found, rest = errors.partition("Exception ignored in atexit callback")
    if not found:
        # The same race, met through threading's own exit hook (threading._shutdown).
        head, found, rest = errors.partition("Exception ignored in: <module 'threading'")
    if not found:
        return errors
    assert "OSError: [Errno 9] Bad file descriptor" in rest, errors
    return head + rest.split("OSError: [Errno 9] Bad file descriptor", 1)[1]


@pytest.mark.usefixtures("linux_proc")
def test_sigterm_during_a_run_leaves_whole_files_a_free_lock_and_no_process(
    site: Path, tmp_path: Path
) -> None:
    watching = Watch(site, "--jobs", "2")
    before = outputs(site / "feeds")
    for n in range(1000, 2500):  # enough for the parse workers to start
        (site / "seeds" / f"{n:04}.txt").write_text(story(n), encoding="utf-8")
    wait_until_busy(site)
    time.sleep(0.2)
    group = watching.process.pid
    assert watching.stop() == 0
    assert not live_members(group)
    assert "Traceback" not in without_pool_exit_race(watching.errors)
    lock = lock_path(load_config(site / "config.yaml"))
    assert lock is not None
    with exclusive(lock):  # free at once
        pass
    feeds = site / "feeds"
    assert not list(feeds.glob(".*")), "a temporary file was left behind"
    assert set(outputs(feeds)) >= set(before)
    for path in feeds.glob("*.atom"):
        assert not feedparser.parse(path.read_bytes()).bozo, path
    # The next run finishes the job.
    again = Watch(site)
    again.settle(0, quiet=1.0)
    what_build_writes(site, tmp_path / "build")
    assert again.stop() == 0


def test_watch_refuses_nonsense_options(site: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "watch", "-c", str(site / "config.yaml"), "--settle", "0"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--settle" in result.stderr
    assert not list((site / "feeds").iterdir())


@pytest.mark.usefixtures("linux_proc")
def test_a_polling_watch_sees_a_new_record_too(site: Path, tmp_path: Path) -> None:
    watching = Watch(site, "--poll")
    runs = len(watching.lines)
    (site / "seeds" / "0200.txt").write_text(story(200, "Seen by polling"), encoding="utf-8")
    watching.settle(runs)
    assert "Seen by polling" in titles(site / "feeds", "energy.atom")
    what_build_writes(site, tmp_path / "build")
    assert watching.stop() == 0


@pytest.mark.usefixtures("linux_proc")
def test_a_change_no_event_tells_of_is_found_by_the_periodic_check(site: Path, tmp_path: Path) -> None:
    """A record that is a link to a file elsewhere changes without an event in the
    watched folder (as changes on a network file system do): the periodic check finds it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "0300.txt"
    target.write_text(story(300, "Before the check"), encoding="utf-8")
    (site / "seeds" / "0300.txt").symlink_to(target)
    watching = Watch(site, "--check-every", "1")
    assert "Before the check" in titles(site / "feeds", "energy.atom")
    runs = len(watching.lines)
    target.write_text(story(300, "Found by the periodic check"), encoding="utf-8")
    watching.settle(runs, timeout=60)
    assert " check: " in watching.lines[runs][1]
    assert "Found by the periodic check" in titles(site / "feeds", "energy.atom")
    assert watching.stop() == 0


def test_checks_are_spaced_by_their_cost() -> None:
    assert check_interval(300.0, 0.0) == 300.0
    assert check_interval(300.0, 0.7) == 300.0  # 100,000 records: every five minutes
    assert check_interval(300.0, 7.0) == 7.0 / CHECK_SHARE  # a million: no more often than that
    assert check_interval(1.0, 7.0) * CHECK_SHARE == 7.0


def test_pings_waiting_for_a_retry_after_go_out_when_it_ends(tmp_path: Path) -> None:
    """A hub answering 503 with Retry-After: 1 hears again from the watch a second
    later, not at the next change or periodic check (30 s here)."""
    from .test_websub import FakeHub, free_port, start_hub

    hub = FakeHub(answers=[(503, {"Retry-After": "1"})])
    server = start_hub(hub)
    root = tmp_path / "site"
    root.mkdir()
    hub_url = f"http://127.0.0.1:{server.server_address[1]}/"
    # Feeds "served" on a loopback port nobody listens on: the hub's fetches stay here.
    text = CONFIG.replace("https://news.example/feeds/", f"http://127.0.0.1:{free_port()}/")
    make_config(
        root, text.replace("  author: Test Newsroom", f"  author: Test Newsroom\n  hubs: ['{hub_url}']")
    )
    (root / "seeds" / "0000.txt").write_text(story(0), encoding="utf-8")
    running = Watch(root)
    try:
        # The start; the hubs told, and answering 503; told again when the Retry-After ended.
        running.wait_for_lines(3, timeout=20)
        # 503 to the first of three feeds (one a request), then all three a second later
        assert len(hub.requests) == 4
        assert 1.0 <= hub.requests[1].at - hub.requests[0].at < 3.0
        assert " hubs: " in running.lines[1][1] and "hubs told of 0 feeds, 3 waiting" in running.lines[1][1]
        assert " hubs: " in running.lines[2][1] and "hubs told of 3 feeds, 0 waiting" in running.lines[2][1]
    finally:
        assert running.stop() == 0
        server.shutdown()
        server.server_close()


def corpus(seeds: Path, numbers: range) -> None:
    for n in numbers:
        (seeds / f"{n:04}.txt").write_text(story(n), encoding="utf-8")


def quiet_for(watching: Watch, seconds: float) -> None:
    """Assert that the watch prints no line for `seconds`."""
    runs = len(watching.lines)
    time.sleep(seconds)
    assert watching.lines[runs:] == [], watching.error_lines


@pytest.mark.usefixtures("linux_proc")
def test_a_replaced_records_folder_is_watched_at_once(site: Path) -> None:
    """A deploy swaps the records folder for a new one: the watch runs at once, follows
    the new folder, and no longer hears the old one (the periodic check is 30 s away)."""
    seeds = site / "seeds"
    fresh = site / "seeds.new"
    shutil.copytree(seeds, fresh)
    (fresh / "0400.txt").write_text(story(400, "In the new folder"), encoding="utf-8")
    watching = Watch(site)
    runs = len(watching.lines)
    seeds.rename(site / "seeds.old")
    fresh.rename(seeds)
    watching.settle(runs, quiet=0.5, timeout=10)
    assert "In the new folder" in titles(site / "feeds", "energy.atom")

    runs = len(watching.lines)
    (seeds / "0405.txt").write_text(story(405, "Written after the swap"), encoding="utf-8")
    watching.settle(runs, quiet=0.5, timeout=10)
    assert "Written after the swap" in titles(site / "feeds", "energy.atom")

    (site / "seeds.old" / "0410.txt").write_text(story(410, "In the old folder"), encoding="utf-8")
    quiet_for(watching, 1.0)
    assert watching.stop() == 0
    assert "Traceback" not in watching.errors


def test_a_missing_records_folder_ends_the_watch_with_status_2(site: Path) -> None:
    config = site / "config.yaml"
    config.write_text(CONFIG.replace("records: seeds", "records: seedz"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "watch", "-c", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {site / 'seedz'}: records folder does not exist\n"
    assert result.stdout == ""


@pytest.mark.parametrize("broken", ["folder", "config"])
def test_watch_json_prints_a_line_when_the_watch_is_refused_at_its_start(site: Path, broken: str) -> None:
    config = site / "config.yaml"
    wrong = CONFIG.replace("records: seeds", "records: seedz") if broken == "folder" else BROKEN
    config.write_text(wrong, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "watch", "--json", "-c", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = json.loads(result.stdout)
    assert (line["reason"], line["status"]) == ("start", 2)
    assert [f"error: {e}\n" for e in line["errors"]] == result.stderr.splitlines(keepends=True)


@pytest.mark.usefixtures("linux_proc")
def test_a_records_folder_that_goes_away_is_reported_once_and_awaited(site: Path) -> None:
    seeds = site / "seeds"
    watching = Watch(site, "--json")
    runs = len(watching.lines)
    seeds.rename(site / "elsewhere")
    watching.settle(runs, quiet=0.5, timeout=10)
    gone = watching.json_lines()[runs:]
    assert [(line["reason"], line["status"]) for line in gone] == [("change", 2)], gone
    assert gone[0]["error"] == f"{seeds}: records folder does not exist"
    assert watching.error_lines == [f"error: {seeds}: records folder does not exist\n"]
    (site / "unrelated.txt").write_text("beside the records folder", encoding="utf-8")
    quiet_for(watching, 1.0)

    runs = len(watching.lines)
    (site / "elsewhere").rename(seeds)
    watching.settle(runs, quiet=0.5, timeout=10)
    back = watching.json_lines()[runs:]
    assert [(line["reason"], line["status"]) for line in back] == [("change", 0)], back
    runs = len(watching.lines)
    (seeds / "0500.txt").write_text(story(500, "After the return"), encoding="utf-8")
    watching.settle(runs, quiet=0.5, timeout=10)
    assert "After the return" in titles(site / "feeds", "energy.atom")
    assert watching.stop() == 0


@pytest.mark.usefixtures("linux_proc")
def test_a_watch_stopped_while_it_loads_ends_with_status_0_and_no_traceback(site: Path) -> None:
    """SIGTERM, once or twice in a row, from the moment the command takes it in hand
    (its package still loading) through its first run, with parse workers: always 0."""
    from .test_processes import wait_until_taken

    corpus(site / "seeds", range(1000, 2100))  # enough for the parse workers to start
    for delay, twice in [(0.0, False), (0.4, True)]:
        victim = Watch(site, "--jobs", "2", first_line=False)
        wait_until_taken(victim.process.pid)
        time.sleep(delay)
        victim.process.send_signal(signal.SIGTERM)
        if twice:
            time.sleep(0.005)
            with contextlib.suppress(ProcessLookupError):
                victim.process.send_signal(signal.SIGTERM)
        moment = f"{'two SIGTERMs' if twice else 'SIGTERM'} {delay} s in"
        assert victim.stop() == 0, f"{moment}: {victim.errors}"
        errors = without_pool_exit_race(victim.errors)
        assert "Traceback" not in errors and "Exception ignored" not in errors, f"{moment}: {errors}"


@pytest.mark.usefixtures("linux_proc")
def test_watch_json_prints_a_line_for_a_run_the_removal_guard_refuses(site: Path) -> None:
    corpus(site / "seeds", range(5, 15))
    watching = Watch(site, "--json")
    runs = len(watching.lines)
    for path in (site / "seeds").iterdir():
        path.unlink()
    watching.settle(runs, quiet=0.5, timeout=10)
    refused = watching.json_lines()[runs:]
    assert [(line["reason"], line["status"]) for line in refused] == [("change", 5)], refused
    assert "15 of the 15 records the feeds were built from are gone" in refused[0]["error"]
    assert "run build --allow-removals" in "".join(watching.error_lines)
    assert watching.stop() == 0


# Two problems: an unknown language, a limit that is not a number.
BROKEN = CONFIG.replace("language: en", "language: 7").replace("[Energy]", "[Energy]\n    limit: many")


@pytest.mark.usefixtures("linux_proc")
def test_sighup_reloads_the_configuration_and_keeps_the_last_good_one(site: Path) -> None:
    watching = Watch(site, "--json")
    config = site / "config.yaml"

    runs = len(watching.lines)
    config.write_text(BROKEN, encoding="utf-8")
    watching.process.send_signal(signal.SIGHUP)
    watching.settle(runs, quiet=0.5, timeout=10)
    refused = watching.json_lines()[runs:]
    assert [(line["reason"], line["status"]) for line in refused] == [("reload", 2)], refused
    problems = [line for line in watching.error_lines if line.startswith("error: ")]
    assert len(problems) == 2 and all("config.yaml" in p for p in problems), watching.error_lines
    # The last good configuration still holds: a new record is published.
    runs = len(watching.lines)
    (site / "seeds" / "0600.txt").write_text(story(600, "Under the old one"), encoding="utf-8")
    watching.settle(runs, quiet=0.5, timeout=10)
    assert watching.json_lines()[-1]["status"] == 0
    assert "Under the old one" in titles(site / "feeds", "energy.atom")

    # A good one takes effect at once, records folder and all.
    other = site / "other"
    shutil.copytree(site / "seeds", other)
    (other / "0605.txt").write_text(story(605, "In the other folder"), encoding="utf-8")
    text = CONFIG.replace("records: seeds", "records: other").replace("title: Energy", "title: Power")
    config.write_text(text, encoding="utf-8")
    runs = len(watching.lines)
    watching.process.send_signal(signal.SIGHUP)
    watching.settle(runs, quiet=0.5, timeout=10)
    reloaded = watching.json_lines()[runs:]
    assert [(line["reason"], line["status"]) for line in reloaded] == [("reload", 0)], reloaded
    feed = feedparser.parse((site / "feeds" / "energy.atom").read_bytes())
    assert feed.feed.title.endswith("Power") and "In the other folder" in {e.title for e in feed.entries}

    runs = len(watching.lines)
    (other / "0610.txt").write_text(story(610, "Watched in the other folder"), encoding="utf-8")
    watching.settle(runs, quiet=0.5, timeout=10)
    assert "Watched in the other folder" in titles(site / "feeds", "energy.atom")
    (site / "seeds" / "0615.txt").write_text(story(615, "Not watched any more"), encoding="utf-8")
    quiet_for(watching, 1.0)
    assert watching.stop() == 0
    assert "Traceback" not in watching.errors


@pytest.mark.usefixtures("linux_proc")
def test_records_a_producer_takes_back_do_not_trip_the_guard_under_watch(site: Path) -> None:
    """Twenty records added, then withdrawn a moment later, are most of the feeds' records
    but not a vanished folder: the watch lets them go. Emptying the folder is still refused."""
    corpus(site / "seeds", range(5, 12))  # 12 records, more than guard_min_removals
    watching = Watch(site, "--json")
    runs = len(watching.lines)
    corpus(site / "seeds", range(700, 720))
    watching.settle(runs, quiet=0.5, timeout=10)
    assert watching.json_lines()[-1]["records"] == 32

    runs = len(watching.lines)
    for n in range(700, 720):
        (site / "seeds" / f"{n:04}.txt").unlink()
    watching.settle(runs, quiet=0.5, timeout=10)
    taken_back = watching.json_lines()[runs:]
    assert [line["status"] for line in taken_back] == [0], taken_back
    assert taken_back[-1]["records"] == 12

    runs = len(watching.lines)
    for path in (site / "seeds").iterdir():
        path.unlink()
    watching.settle(runs, quiet=0.5, timeout=10)
    emptied = watching.json_lines()[runs:]
    assert [line["status"] for line in emptied] == [5], emptied
    assert watching.stop() == 0
