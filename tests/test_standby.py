"""Two `topicfeeds watch` against one state in PostgreSQL, as on two machines: one
publishes, the other stands by. Killed at random moments while records arrive, the
publishing one is replaced by the one standing by, which publishes every record (those
that came while nobody published too), and the feeds end as a clean build makes them:
no file torn, no entry twice."""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import feedparser
from lxml import etree

from topicfeeds import build, load_config

from .backends import Backend, stateless
from .test_watch import CONFIG, Watch, no_watch_left_behind, story  # noqa: F401 - a fixture

KILLS = 3  # the publishing watch is killed this many times, each at a moment of its own
SEED = 11


def started(watch: Watch, after: int) -> float | None:
    """When (monotonic) `watch` printed its first run line after its `after`-th line."""
    for when, line in watch.lines[after:]:
        if '"reason": "start"' in line:
            return when
    return None


def test_a_standby_watch_takes_over_from_a_killed_one_and_publishes_every_record(
    tmp_path: Path, postgresql: Backend
) -> None:
    root = tmp_path / "site"
    (root / "seeds").mkdir(parents=True)
    (root / "feeds").mkdir()
    (root / "config.yaml").write_text(postgresql.text(CONFIG), encoding="utf-8")
    seeds = root / "seeds"
    n = 0

    def arrive() -> None:
        nonlocal n
        (seeds / f"{n:04}.txt").write_text(story(n), encoding="utf-8")
        n += 1

    for _ in range(5):
        arrive()
    active = Watch(root, "--json")
    assert '"reason": "start"' in active.lines[0][1]
    standby = Watch(root, "--json")
    assert '"reason": "standby"' in standby.lines[0][1]

    rng = random.Random(SEED)
    takeovers = []
    for _ in range(KILLS):
        for _ in range(rng.randint(1, 4)):  # records arrive, some while a run is under way
            arrive()
            time.sleep(rng.uniform(0.0, 0.3))
        time.sleep(rng.uniform(0.0, 0.8))  # a moment: settling, running, or idle
        seen = len(standby.lines)
        os.killpg(active.process.pid, signal.SIGKILL)
        killed = time.monotonic()
        active.process.wait()
        arrive()  # while nobody publishes
        deadline = killed + 30
        while (took := started(standby, seen)) is None:
            assert standby.process.poll() is None, standby.error_lines
            assert time.monotonic() < deadline, "the standby never took over"
            time.sleep(0.02)
        takeovers.append(took - killed)
        active, standby = standby, Watch(root, "--json")
        assert '"reason": "standby"' in standby.lines[0][1]

    runs = len(active.lines)
    arrive()
    active.settle(runs, quiet=1.0)
    assert active.stop() == 0 and standby.stop() == 0
    assert "Traceback" not in active.errors + standby.errors
    assert all(t < 15 for t in takeovers), takeovers

    feeds = root / "feeds"
    assert not list(feeds.glob(".*")), "a temporary file was left behind"
    published: set[str] = set()
    for path in feeds.glob("*.atom"):
        etree.fromstring(path.read_bytes())  # whole: it parses
        ids = [e.id for e in feedparser.parse(path.read_bytes()).entries]
        assert len(ids) == len(set(ids)), f"an entry twice in {path.name}"
        published.update(ids)
    assert published == {f"https://news.example/{k}" for k in range(n)}
    clean = tmp_path / "clean"
    clean.mkdir()
    build(stateless(load_config(root / "config.yaml"), clean), datetime.now(timezone.utc))
    assert {p.name: p.read_bytes() for p in sorted(feeds.iterdir())} == {
        p.name: p.read_bytes() for p in sorted(clean.iterdir())
    }
