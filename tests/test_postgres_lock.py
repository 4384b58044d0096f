"""The run's lock in PostgreSQL (a session advisory lock), and the server going away
under a run: against a real server (tests/pgserver.py), through the installed command."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import psycopg
import pytest

from topicfeeds import build, load_config
from topicfeeds.store.opening import open_place
from topicfeeds.store.postgres.connection import lock_key

from .backends import Backend, stateless
from .conftest import record_fields, record_text
from .pgserver import PgServer, new_schema
from .test_postgres import COMMAND, NOW, site, topicfeeds

# -- the run's lock in the database


def test_a_store_closed_has_let_go_of_the_run_s_lock(postgresql: Backend) -> None:
    """`state copy` closes its stores inside their lock's block, and the server ends a
    closed session in its own time: a run started the moment close returns (the next
    build of a script, a test's next build) found the lock held by a session going."""
    assert postgresql.server is not None
    key = lock_key(postgresql.db, "run")
    with psycopg.connect(postgresql.server.url(), autocommit=True) as other:  # the next run's session
        for _ in range(20):
            with open_place(postgresql.db) as (store, _):
                store.close()
            taken = other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            assert taken == (True,), "the lock is still held by the session closed"
            other.execute("SELECT pg_advisory_unlock(%s)", (key,))


def test_two_builds_started_at_once_one_works_the_other_exits_3(tmp_path: Path, postgresql: Backend) -> None:
    """Two runners (on two machines, as far as the lock can tell: it is in the database)
    started at the same moment: exactly one builds; the other exits 3 at once, or with
    --wait builds after it."""
    config = site(tmp_path, postgresql, records=1000)
    command = [COMMAND, "build", "--json", "-j", "1", "-c", str(config), "--now", NOW]
    both = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"
    ]
    ended = [p.communicate(timeout=180) for p in both]
    statuses = sorted(p.returncode for p in both)
    assert statuses == [0, 3], ended
    refused = next(err for (_, err), p in zip(ended, both, strict=True) if p.returncode == 3)
    assert refused.strip().endswith("another topicfeeds run is in progress")
    (tmp_path / "seeds" / "00000.txt").write_text(
        record_text(record_fields(title="Edited")), encoding="utf-8"
    )
    waiting = [*command, "--wait", "120"]
    both = [
        subprocess.Popen(waiting, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"
    ]
    outs = [json.loads(p.communicate(timeout=180)[0]) for p in both]
    assert sorted(o["status"] for o in outs) == [0, 0]
    assert sorted(bool(o["written"]) for o in outs) == [
        False,
        True,
    ]  # one did the work, the other found it done


# -- the server going away mid-run


@pytest.fixture
def own_server(pg_server: PgServer) -> Iterator[PgServer]:
    """The session's server, for a test that stops it and starts it again: up again
    after the test whatever happened in it, for the tests that follow (a second server
    would cost a second initdb)."""
    try:
        yield pg_server
    finally:
        if not (pg_server.data / "postmaster.pid").exists():  # stopped, and not started again
            pg_server.start()


def wait_until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_server_going_away_mid_run_exits_4_and_the_next_run_finishes(
    tmp_path: Path, own_server: PgServer
) -> None:
    """The server stops while a cold build stores its records: the run exits 4 with
    nothing half written (no file torn, no temporary one left, the state as last
    committed), and once the server is back the next run finishes the work."""
    from topicfeeds.pipeline.refresh import KEEP_EVERY

    backend = Backend("postgresql", own_server, new_schema())
    config = site(tmp_path, backend, records=KEEP_EVERY + 300)
    time.sleep(2.1)  # older than the racy window: "read" counts only what was never stored
    run = subprocess.Popen([COMMAND, "build", "--json", "-j", "2", "-c", str(config), "--now", NOW],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_until(lambda: run.poll() is not None or backend.count("files") >= KEEP_EVERY)
    own_server.stop("fast")
    out, err = run.communicate(timeout=120)
    assert run.returncode == 4, err
    assert "cannot use the state: lost the database server" in err
    assert json.loads(out)["status"] == 4
    feeds = tmp_path / "feeds"
    assert not list(feeds.glob(".*")), "a temporary file was left behind"
    for path in feeds.glob("*.atom"):
        assert not feedparser.parse(path.read_bytes()).bozo, path
    own_server.start()
    kept = backend.count("files")
    assert KEEP_EVERY <= kept < KEEP_EVERY + 300
    again = topicfeeds("build", "--json", "-c", str(config), "--now", NOW)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["read"] == KEEP_EVERY + 300 - kept
    cold = tmp_path / "cold"
    cold.mkdir()
    build(stateless(load_config(config), cold), datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert contents(feeds) == contents(cold)


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_hubs_thread_lets_a_busy_row_wait_rather_than_the_run(
    postgresql: Backend, tmp_path: Path
) -> None:
    """Noting a delivered ping beside a run that holds the same row waits half a second
    (StateBusy), not for the whole run, as SQLite's `database is locked` does."""
    run = postgresql.store(tmp_path)
    beside = postgresql.store(tmp_path)
    try:
        with run:
            run.add_pings("https://hub.example/", ["https://f.example/a"])
        noted = beside.noted_pings()["https://hub.example/"]
        with run:
            run.add_pings(
                "https://hub.example/", ["https://f.example/a"]
            )  # the row is the run's until it ends
            beside.patience(0.5)
            started = time.monotonic()
            from topicfeeds.notify.websub import _quietly

            _quietly(lambda: beside.drop_pings("https://hub.example/", ["https://f.example/a"], noted))
            assert time.monotonic() - started < 5
        assert run.pings() == {"https://hub.example/": ["https://f.example/a"]}
    finally:
        run.close()
        beside.close()
