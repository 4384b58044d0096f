"""The state file meets faults: read-only to the run's user, written by another process,
its disk full, a signal right after a periodic commit, damage. Driven through the
installed command. Only a file this version cannot read is set aside (moved, never
deleted); any other fault is reported and leaves the file as it was, with its history,
and the run after the fault clears publishes what it should."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from topicfeeds.cli import main

from .conftest import BASE_CONFIG, make_config, require_program, write_record

COMMAND = str(Path(sys.executable).with_name("topicfeeds"))  # the installed command
ATOM = "{http://www.w3.org/2005/Atom}"
EDITED = "https://news.example/0"
T0, T1, T2, T3 = (f"2026-11-28T0{h}:00:00Z" for h in range(4))
STAMP1, STAMP3 = "2026-11-28T01:00:00+00:00", "2026-11-28T03:00:00+00:00"
T1_MICROS = 1_795_827_600_000_000  # T1 as the state keeps it
AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")


def story(seeds: Path, n: int, title: str | None = None) -> None:
    write_record(
        seeds, f"{n:03}.txt", title=title or f"Story {n}", webUrl=f"https://news.example/{n}",
        originalUrl=..., publishedDateTime=f"2026-11-{10 + n % 18:02}T08:00:00Z", related=[],
    )  # fmt: skip


def command(
    config: Path, now: str, *extra: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, COMMAND, "build", "-q", "-c", str(config), "--now", now, *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def updated(root: Path) -> dict[str, str]:
    """Each entry's `updated` in the energy topic's Atom feed, by id."""
    feed = etree.parse(str(root / "feeds" / "energy.atom")).getroot()
    return {
        str(e.findtext(f"{ATOM}id")): str(e.findtext(f"{ATOM}updated")) for e in feed.iter(f"{ATOM}entry")
    }


def with_history(root: Path, count: int = 3, text: str = BASE_CONFIG) -> Path:
    """`count` stories built at T0, story 0 edited and built at T1: its entry's `updated`
    is T1 from then on, which only the state remembers."""
    make_config(root, text)
    for n in range(count):
        story(root / "seeds", n)
    config = root / "config.yaml"
    assert main(["build", "-q", "-c", str(config), "--now", T0]) == 0
    story(root / "seeds", 0, "Story 0, corrected")
    assert main(["build", "-q", "-c", str(config), "--now", T1]) == 0
    assert updated(root)[EDITED] == STAMP1
    return config


def stored(root: Path) -> tuple[int | None, int]:
    """When the state noted story 0's last change (microseconds), and how many record
    files it holds."""
    state = root / ".topicfeeds-state.sqlite"
    with contextlib.closing(sqlite3.connect(state)) as db:
        row = db.execute("SELECT changed FROM entries WHERE feed = 'energy' AND id = ?", (EDITED,)).fetchone()
        (files,) = db.execute("SELECT COUNT(*) FROM files").fetchone()
    return None if row is None else row[0], files


class Kept:
    """The state file as a fault found it: the run must leave it the same file, with the
    same bytes (when nothing of the run was kept), and move nothing aside."""

    def __init__(self, state: Path, *, same_bytes: bool = True) -> None:
        self.state, self.same_bytes = state, same_bytes
        self.stat, self.data = state.stat(), state.read_bytes()

    def check(self) -> None:
        now = self.state.stat()
        assert (now.st_ino, now.st_dev, now.st_uid, now.st_mode) == (
            self.stat.st_ino, self.stat.st_dev, self.stat.st_uid, self.stat.st_mode,
        )  # fmt: skip
        if self.same_bytes:
            assert self.state.read_bytes() == self.data
        assert not list(self.state.parent.glob("*unreadable*"))


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder the user nobody can reach (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="topicfeeds-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_a_state_read_only_to_the_run_s_user_exits_4_and_is_left_as_it_was(shared: Path) -> None:
    require_program("setpriv")
    config = with_history(shared)
    state = shared / ".topicfeeds-state.sqlite"
    for path in [shared, *shared.rglob("*")]:
        os.chown(path, 65534, 65534)  # the project is nobody's...
    os.chown(state, 0, 0)  # ...but for the state, another user's and read-only
    state.chmod(0o444)
    kept = Kept(state)
    story(shared / "seeds", 1, "Story 1, corrected")
    ran = command(config, T2, prefix=AS_NOBODY)
    assert ran.returncode == 4, ran.stderr
    assert f"{state}: cannot use the state file: {state.name} is not writable by this user" in ran.stderr
    assert "rebuilt" not in ran.stderr and "Traceback" not in ran.stderr
    kept.check()
    assert sorted(p.name for p in shared.iterdir() if p.name.startswith(".topicfeeds-state")) == [
        state.name, f"{state.name}.lock",
    ]  # fmt: skip
    os.chown(state, 65534, 65534)  # the fault clears
    state.chmod(0o644)
    ran = command(config, T3, prefix=AS_NOBODY)
    assert ran.returncode == 0, ran.stderr
    assert updated(shared)[EDITED] == STAMP1
    assert updated(shared)["https://news.example/1"] == STAMP3


def test_a_state_another_process_is_writing_exits_3_and_is_left_as_it_was(tmp_path: Path) -> None:
    """Waited for as a run waits for the lock (here the least, 5 s), then status 3."""
    config = with_history(tmp_path)
    state = tmp_path / ".topicfeeds-state.sqlite"
    kept = Kept(state)
    story(tmp_path / "seeds", 1, "Story 1, corrected")
    other = sqlite3.connect(state, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        ran = command(config, T2)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert ran.returncode == 3, ran.stderr
    assert f"{state}: another process is writing the state file (database is locked)" in ran.stderr
    assert "rebuilt" not in ran.stderr and "Traceback" not in ran.stderr
    kept.check()
    assert command(config, T3).returncode == 0
    assert updated(tmp_path)[EDITED] == STAMP1
    assert updated(tmp_path)["https://news.example/1"] == STAMP3


def test_a_full_disk_under_the_state_exits_4_and_the_state_is_left_as_it_was(tmp_path: Path) -> None:
    mount = require_program("mount")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run([mount, "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=False,
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs: {mounted.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        text = BASE_CONFIG.replace("output: feeds", "output: feeds\nstate: disk/state.sqlite")
        config = with_history(tmp_path, text=text)
        state = disk / "state.sqlite"
        kept = Kept(state)
        story(tmp_path / "seeds", 1, "Story 1, corrected")
        # Full, but for room for the log's index: the run fails as it writes its changes.
        free = os.statvfs(disk)
        (disk / "filler").write_bytes(bytes(free.f_bavail * free.f_frsize - 48 * 1024))
        ran = command(config, T2)
        assert ran.returncode == 4, ran.stderr
        assert f"{state}: cannot use the state file: database or disk is full" in ran.stderr
        assert "Traceback" not in ran.stderr
        kept.check()
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "state.sqlite", "state.sqlite.lock"]
        (disk / "filler").unlink()  # the fault clears
        ran = command(config, T3)
        assert ran.returncode == 0, ran.stderr
        assert updated(tmp_path)[EDITED] == STAMP1
        assert updated(tmp_path)["https://news.example/1"] == STAMP3
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# The command, but with a SIGTERM sent to it as the first periodic commit returns (the
# moment a signal that came during that commit is handled), and a commit every two
# records rather than every 2,000. Only the test sets these; the command is the same.
TERMINATED_AFTER_COMMIT = """
import os, signal, sqlite3, sys
from topicfeeds.pipeline import refresh
refresh.KEEP_EVERY = 2

class Terminated(sqlite3.Connection):
    def execute(self, sql, *args):
        done = super().execute(sql, *args)
        if sql == "COMMIT" and sys._getframe(1).f_code.co_name == "keep_progress":
            os.kill(os.getpid(), signal.SIGTERM)
        return done

connect = sqlite3.connect
sqlite3.connect = lambda *args, **kwargs: connect(*args, factory=Terminated, **kwargs)
from topicfeeds.command import main
sys.exit(main())
"""


def hooked(config: Path, now: str, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = ["build", "-q", "-c", str(config), "--now", now, *extra]
    return subprocess.run([sys.executable, "-c", TERMINATED_AFTER_COMMIT, *argv],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_a_signal_right_after_a_periodic_commit_of_full_ends_the_run_with_143(tmp_path: Path) -> None:
    """`--full` (as a cold build) commits every 2,000 records: a SIGTERM that came during
    such a commit ends the run, as at any other moment, and the state keeps its history
    and what was committed."""
    config = with_history(tmp_path, count=7)
    state = tmp_path / ".topicfeeds-state.sqlite"
    kept = Kept(state, same_bytes=False)
    ran = hooked(config, T2, "--full")
    assert ran.returncode == 128 + signal.SIGTERM, ran.stderr
    assert ran.stderr == ""  # no "state unusable ...; rebuilt", no traceback
    kept.check()
    # Story 0's history is there, and the two records committed before the signal.
    assert stored(tmp_path) == (T1_MICROS, 2)
    ran = command(config, T3)
    assert ran.returncode == 0, ran.stderr
    assert updated(tmp_path)[EDITED] == STAMP1
    kept.check()


def test_a_signal_right_after_a_periodic_commit_of_a_cold_build_ends_it_with_143(tmp_path: Path) -> None:
    make_config(tmp_path)
    for n in range(7):
        story(tmp_path / "seeds", n)
    config = tmp_path / "config.yaml"
    ran = hooked(config, T0)
    assert ran.returncode == 128 + signal.SIGTERM, ran.stderr
    assert ran.stderr == ""
    assert stored(tmp_path) == (None, 2)
    kept = Kept(tmp_path / ".topicfeeds-state.sqlite", same_bytes=False)
    ran = command(config, T1)
    assert ran.returncode == 0, ran.stderr
    assert len(updated(tmp_path)) == 7
    kept.check()


# The command, but killed (SIGKILL: nothing of it runs after) as soon as the upgrade of
# a state of schema 4 has committed.
KILLED_AFTER_UPGRADE = """
import os, signal, sqlite3, sys

class Killed(sqlite3.Connection):
    def executescript(self, script):
        done = super().executescript(script)
        if "ALTER TABLE pings" in script:
            os.kill(os.getpid(), signal.SIGKILL)
        return done

connect = sqlite3.connect
sqlite3.connect = lambda *args, **kwargs: connect(*args, factory=Killed, **kwargs)
from topicfeeds.command import main
sys.exit(main())
"""


def test_a_run_killed_right_after_upgrading_a_state_leaves_one_the_next_run_uses(tmp_path: Path) -> None:
    """The upgrade's steps and the schema they bring land in one transaction: the
    state is never left with the new tables under the old schema's number, which the
    next run would try to upgrade again (and fail: exit 4 on every run)."""
    config = with_history(tmp_path)
    state = tmp_path / ".topicfeeds-state.sqlite"
    with contextlib.closing(sqlite3.connect(state)) as db:  # as schema 4 left it
        db.executescript(
            "DROP TABLE archive; DROP TABLE archive_pages; DROP TABLE pings;"
            "CREATE TABLE pings (hub TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (hub, url));"
            "UPDATE meta SET value = '4' WHERE key = 'schema';"
        )
    argv = ["build", "-q", "-c", str(config), "--now", T2]
    ran = subprocess.run([sys.executable, "-c", KILLED_AFTER_UPGRADE, *argv],
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert ran.returncode == -signal.SIGKILL, ran.stderr
    ran = command(config, T3)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    assert updated(tmp_path)[EDITED] == STAMP1  # the history kept


def test_a_state_that_is_not_a_database_is_moved_aside_and_named(tmp_path: Path) -> None:
    config = with_history(tmp_path)
    state = tmp_path / ".topicfeeds-state.sqlite"
    state.write_bytes(b"overwritten by a careless copy\n" * 100)
    ran = command(config, T2, "--dry-run")  # a dry run changes nothing anywhere
    assert ran.returncode == 0 and "read as if there were none" in ran.stderr, ran.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".topicfeeds-state")) == [
        state.name, f"{state.name}.lock",
    ]  # fmt: skip
    ran = command(config, T2)
    assert ran.returncode == 0, ran.stderr
    aside = tmp_path / ".topicfeeds-state.sqlite.unreadable-1"
    why = "state file unreadable (file is not a database)"
    assert ran.stderr == f"warning: {state}: {why}; moved to {aside.name} and rebuilt\n"
    assert aside.read_bytes() == b"overwritten by a careless copy\n" * 100
    assert command(config, T3).returncode == 0 and not (tmp_path / f"{aside.name}-2").exists()


def test_a_state_found_damaged_during_a_run_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    config = with_history(tmp_path)
    state = tmp_path / ".topicfeeds-state.sqlite"
    with contextlib.closing(sqlite3.connect(state)) as db:
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'files'").fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
    with state.open("r+b") as file:  # the records' table garbled; the schema reads well
        file.seek((root - 1) * size)
        file.write(b"\xff" * size)
    damaged = state.read_bytes()
    ran = command(config, T2)
    assert ran.returncode == 0, ran.stderr
    aside = tmp_path / ".topicfeeds-state.sqlite.unreadable-1"
    why = "state unusable (database disk image is malformed)"
    assert ran.stderr == f"warning: {state}: {why}; moved to {aside.name} and rebuilt\n"
    assert aside.read_bytes() == damaged
