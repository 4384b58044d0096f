"""Scheduled publishing: a record dated after the run's time waits for its time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from topicfeeds import build, load_config
from topicfeeds.cli import main
from topicfeeds.config import Rules, Topic
from topicfeeds.core.rules import exclusion
from topicfeeds.core.schedule import as_of, feed_updated, next_change, next_release
from topicfeeds.core.select import select
from topicfeeds.errors import ConfigError

from .conftest import BASE_CONFIG, make_config, make_record, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
LATER = datetime(2099, 1, 1, tzinfo=timezone.utc)


pytestmark = pytest.mark.usefixtures("no_racy_window")


def topic(**rules: object) -> Topic:
    return Topic("energy", "Energy", "Power.", ("energy",), Rules(**rules))  # type: ignore[arg-type]


def test_a_record_dated_after_the_run_is_held_until_its_time() -> None:
    future = make_record(published=LATER)
    assert exclusion(future, topic(), NOW) == (
        "future: dated 2099-01-01T00:00:00Z, held until 2098-12-31T23:55:00Z"
    )
    assert exclusion(future, topic(), LATER - timedelta(minutes=5)) is None
    assert select([future], topic(), NOW).entries == ()


def test_clock_skew_within_the_tolerance_is_published_at_once() -> None:
    assert exclusion(make_record(published=NOW + timedelta(minutes=4)), topic(), NOW) is None
    soon = make_record(published=NOW + timedelta(minutes=4))
    assert exclusion(soon, topic(clock_skew_minutes=1), NOW) is not None
    assert exclusion(soon, topic(clock_skew_minutes=0), NOW) is not None


def test_future_publish_keeps_publishing_at_once() -> None:
    assert exclusion(make_record(published=LATER), topic(future="publish"), NOW) is None


def test_next_release_is_the_earliest_held_record_the_rules_would_take() -> None:
    records = [
        make_record(id="https://n.example/1", published=NOW + timedelta(days=2)),
        make_record(id="https://n.example/2", published=NOW + timedelta(days=1)),
        make_record(id="https://n.example/3", published=NOW + timedelta(hours=1), quality=1.0),
        make_record(id="https://n.example/4", published=NOW - timedelta(days=1)),
    ]
    assert next_release(records, topic(min_quality=10), NOW) == NOW + timedelta(days=1, minutes=-5)
    assert next_release(records, topic(), NOW) == NOW + timedelta(hours=1, minutes=-5)
    assert next_release(records, topic(future="publish"), NOW) is None
    assert next_release(records[3:], topic(), NOW) is None


def test_a_feed_is_never_dated_after_the_run() -> None:
    entries = select([make_record(published=NOW - timedelta(days=1), updated=LATER)], topic(), NOW).entries
    shown = as_of(entries, NOW)
    # An update still to come is not shown yet, whatever the run's exact time: the feed
    # stays byte-stable, and the topic is due when the time comes.
    assert [(e.published, e.updated) for e in shown] == [(NOW - timedelta(days=1), NOW - timedelta(days=1))]
    assert feed_updated(shown, NOW) == NOW - timedelta(days=1)
    assert as_of(entries, NOW + timedelta(hours=1)) == shown
    assert next_change(entries, NOW) == LATER
    assert feed_updated(as_of(entries, LATER), LATER) == LATER
    assert feed_updated((), NOW) == datetime(2000, 1, 1, tzinfo=timezone.utc)
    soon = select([make_record(published=NOW + timedelta(minutes=2))], topic(), NOW).entries
    assert [e.updated for e in as_of(soon, NOW)] == [NOW + timedelta(minutes=2)]  # never before published
    assert feed_updated(as_of(soon, NOW), NOW) == datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert next_change(soon, NOW) == NOW + timedelta(minutes=2)


def updated_and_titles(project: Path) -> tuple[str, list[str]]:
    parsed = feedparser.parse((project / "feeds" / "energy.atom").read_bytes())
    return parsed.feed.updated, sorted(e.title for e in parsed.entries)


def test_a_held_record_appears_at_its_time_with_no_other_change(project: Path) -> None:
    seeds = project / "seeds"
    write_record(seeds, "now.txt", title="Now", publishedDateTime="2026-11-27T00:00:00Z")
    write_record(
        seeds,
        "embargo.txt",
        title="Embargoed",
        webUrl="https://n.example/embargo",
        originalUrl=...,
        publishedDateTime="2026-12-01T09:00:00Z",
        updatedDateTime="2099-01-01T00:00:00Z",
    )
    config = load_config(project / "config.yaml")

    build(config, NOW)
    assert updated_and_titles(project) == ("2026-11-27T00:00:00+00:00", ["Now"])
    assert build(config, datetime(2026, 12, 1, 8, 54, tzinfo=timezone.utc)).no_changes
    report = build(config, datetime(2026, 12, 1, 8, 55, tzinfo=timezone.utc))
    assert report.parsed == 0 and report.written == 5  # the topic's four files, and the index
    # Published within the clock-skew tolerance, dated 09:00: the feed's own time counts
    # it from then on, and its `updated` (2099) is not shown before it comes.
    assert updated_and_titles(project) == ("2026-11-27T00:00:00+00:00", ["Embargoed", "Now"])
    report = build(config, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    assert report.parsed == 0 and report.written == 2  # the feeds' own time: Atom and RSS
    assert updated_and_titles(project) == ("2026-12-01T09:00:00+00:00", ["Embargoed", "Now"])


def test_explain_says_until_when_a_record_is_held(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_record(project / "seeds", "soon.txt", publishedDateTime="2099-01-01T00:00:00Z")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        assert main(["explain", "--now", "2026-11-28T00:00:00Z", "seeds/soon.txt"]) == 0
    out = capsys.readouterr().out
    assert "energy  excluded by future: dated 2099-01-01T00:00:00Z, held until 2098-12-31T23:55:00Z" in out


def test_future_publish_setting_is_validated_and_honoured(project: Path) -> None:
    write_record(project / "seeds", "soon.txt", title="Soon", publishedDateTime="2099-01-01T00:00:00Z")
    text = BASE_CONFIG + "defaults:\n  future: publish\n"
    config = make_config(project, text)
    build(config, NOW)
    # The record is published as it is, dated 2099, and so is the feed: what the
    # setting asks for (a feed's own time must not depend on when the run happened).
    assert updated_and_titles(project) == ("2099-01-01T00:00:00+00:00", ["Soon"])
    with pytest.raises(ConfigError) as caught:
        make_config(project, BASE_CONFIG + "defaults:\n  future: later\n  clock_skew_minutes: -1\n")
    messages = [str(p) for p in caught.value.problems]
    assert any("defaults.future: 'later' is not one of hold, publish" in m for m in messages)
    assert any("defaults.clock_skew_minutes: expected a number of at least 0" in m for m in messages)


def entry_ids(folder: Path) -> dict[str, list[str]]:
    return {
        p.name: [e.id for e in feedparser.parse(p.read_bytes()).entries] for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize("seed", range(6))
def test_held_records_appear_in_incremental_runs_as_in_cold_ones(tmp_path: Path, seed: int) -> None:
    """As time passes and records change, each run publishes what a cold run at the same
    time does: a held record appears on time even when its topic was last rebuilt from
    only some of its records."""
    import random
    import shutil
    from dataclasses import replace

    rng = random.Random(seed)
    text = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true\ndefaults:\n  limit: 4")
    config = make_config(tmp_path, text)

    def write(n: int) -> None:
        write_record(
            tmp_path / "seeds",
            f"{n:03}.txt",
            title=f"Story {n} v{rng.randint(0, 9)}",
            webUrl=f"https://n.example/{n % 20}",
            originalUrl=...,
            publishedDateTime=f"2026-{rng.choice(['11-2', '11-2', '12-0'])}{rng.randint(1, 7)}T"
            f"{rng.randint(0, 23):02}:00:00Z",
            quality=rng.randint(0, 100),
            topics=rng.sample(["Energy", "Grid", "Solar"], rng.randint(1, 2)),
        )

    for n in range(25):
        write(n)
    now = NOW
    build(config, now)
    for _ in range(6):
        now += timedelta(hours=rng.choice([0, 7, 20, 49]))
        for n in rng.sample(range(30), rng.choice([0, 1, 3])):
            path = tmp_path / "seeds" / f"{n:03}.txt"
            if path.exists() and rng.random() < 0.3:
                path.unlink()
            else:
                write(n)
        build(config, now)
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        (cold / "feeds").mkdir(parents=True)
        build(replace(config, output_dir=cold / "feeds", state_path=None), now)
        assert entry_ids(cold / "feeds").items() <= entry_ids(config.output_dir).items()
