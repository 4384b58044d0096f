"""`topicfeeds state copy`: a publication moves from its SQLite file to PostgreSQL and
back without a cold build, and without losing what only the state knows: the entries'
history (an edited entry keeps its `updated`), the archives (entries that left the feed
but fill no page yet), and the pings waiting for a hub that was down."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from topicfeeds import build as run
from topicfeeds import load_config

from .backends import Backend
from .conftest import BASE_CONFIG, make_config, write_record
from .s3server import free_port

COMMAND = str(Path(sys.executable).with_name("topicfeeds"))
TABLES = ("meta", "files", "file_topics", "entries", "topics", "outputs", "pings", "hubs", "archive",
          "archive_pages")  # fmt: skip


def topicfeeds(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command; the clock fixed, as in every run of these tests."""
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, timeout=120, check=False)


def build(config: Path, now: str) -> dict[str, Any]:
    ran = topicfeeds("build", "--json", "-c", str(config), "--now", now)
    assert ran.returncode == 0, ran.stderr
    out: dict[str, Any] = json.loads(ran.stdout)
    return out


def story(seeds: Path, n: int, title: str | None = None) -> None:
    """Story n, published n hours after the first: each new one is the newest."""
    when = datetime(2026, 11, 20, tzinfo=timezone.utc) + timedelta(hours=n)
    write_record(
        seeds, f"{n:03}.txt", title=title or f"Story {n}", webUrl=f"https://www.gridwatch.example/{n}",
        originalUrl=..., publishedDateTime=when.strftime("%Y-%m-%dT%H:%M:%SZ"), related=[],
    )  # fmt: skip
    os.utime(seeds / f"{n:03}.txt", (1_700_000_000 + n, 1_700_000_000 + n))  # older than the racy window


def rows(state: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(state)) as db:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def feeds(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "feeds").iterdir())}


@pytest.mark.usefixtures("pg_server")
def test_a_round_trip_to_postgresql_and_back_keeps_every_row_and_the_next_build_is_incremental(
    tmp_path: Path, postgresql: Backend
) -> None:
    # A site with an archived topic, an edited entry, and a hub that is down.
    hub = f"http://127.0.0.1:{free_port()}/hub"
    text = BASE_CONFIG.replace("  language: en", f"  language: en\n  hubs: [{hub}]") + "    limit: 3\n"
    text += "    archive: true\n"
    site = tmp_path / "site"
    site.mkdir()
    config = make_config(site, text).path
    seeds = site / "seeds"
    for n in range(8):  # one a run: those that leave the feed fill the archive's pages
        story(seeds, n)
        run(load_config(config), datetime(2026, 11, 28, tzinfo=timezone.utc))
    story(seeds, 7, "Story 7, corrected")
    time.sleep(2.1)  # no file is left racy: "read" counts what was never stored
    edited = build(config, "2026-11-28T06:00:00Z")
    assert edited["pings"]["waiting"] > 0  # nobody listens at the hub
    state = site / ".topicfeeds-state.sqlite"
    before = rows(state)
    assert before["archive"] and before["archive_pages"] and before["pings"]
    assert any(changed is not None for _, _, _, _, changed in before["entries"])

    # Into PostgreSQL, and back into another file: the same rows.
    assert postgresql.server is not None and postgresql.schema is not None
    url, schema = postgresql.server.url(), postgresql.schema
    into = topicfeeds("state", "copy", str(state), url, "--schema", schema)
    assert into.returncode == 0, into.stderr
    shown = f"{url} (schema {schema})"
    assert into.stdout.startswith(f"topicfeeds: copied the state from {state} to {shown}: 8 record files")
    back = tmp_path / "back.sqlite"
    out = topicfeeds("state", "copy", "-c", str(config), url, str(back), "--schema", schema)
    assert out.returncode == 0, out.stderr
    assert rows(back) == before
    again = topicfeeds("state", "copy", str(state), url, "--schema", schema)
    assert again.returncode == 2 and "holds a state already; --replace copies over it" in again.stderr

    # The site on PostgreSQL: nothing to read again, the pings still waiting.
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(site, elsewhere)  # the site as it was, on its file
    config.write_text(text + postgresql.lines, encoding="utf-8")
    moved = build(config, "2026-11-28T07:00:00Z")
    assert moved["read"] == 0 and moved["no_changes"] is True
    assert moved["pings"] == edited["pings"]

    # Back into the site's file, over what it held: incremental there too.
    copied = topicfeeds("state", "copy", "-c", str(config), str(state), "--replace")
    assert copied.returncode == 0, copied.stderr
    config.write_text(text, encoding="utf-8")
    assert build(config, "2026-11-28T07:00:00Z")["no_changes"] is True

    # A new story on PostgreSQL gives what the site as it was, on its file, gives.
    config.write_text(text + postgresql.lines, encoding="utf-8")
    for root in (site, elsewhere):
        story(root / "seeds", 8)
        build(root / "config.yaml", "2026-11-28T08:00:00Z")
    assert feeds(site) == feeds(elsewhere)
