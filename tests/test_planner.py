"""An incremental run publishes exactly what a cold run publishes.

The decision to bring a feed up to date from its last one is pure
(`core.incremental.update_candidates` / `update_holds`) and tested here on in-memory
records; then a property test drives a records folder through random operations and
compares, after every step, each file of the incremental run with a run that chose
everything afresh from the same history (`build(full=True)`), byte for byte, and the
entries with a run that has no state at all.

TOPICFEEDS_EXAMPLES sets how many sequences the property test tries (default 10, and 40
with TOPICFEEDS_THOROUGH=1; the `slow` one tries half as many of up to 25 operations,
and 11 from a seeded generator; TOPICFEEDS_THOROUGH=1 three times as many, and all 60
seeded)."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from topicfeeds import build, load_config
from topicfeeds.config import Config, Rules, Topic
from topicfeeds.core.incremental import (
    LastFeed,
    changes_by_topic,
    changes_for,
    last_feed,
    update_candidates,
    update_holds,
)
from topicfeeds.core.model import Record
from topicfeeds.core.select import select
from topicfeeds.store.copy import copy_state

from .backends import Backend, stateless
from .conftest import (
    BASE_CONFIG,
    THOROUGH,
    examples,
    make_config,
    make_record,
    record_fields,
    record_text,
    write_record,
)
from .pgserver import new_schema
from .test_shortlist import corpora, rules_strategy

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
EXAMPLES = int(os.environ.get("TOPICFEEDS_EXAMPLES", str(examples(10, 40))))


def topic(**rules: Any) -> Topic:
    return Topic("energy", "Energy", "Power.", ("energy",), replace(Rules(), **rules))


# -- the pure decision


def test_a_new_copy_that_drops_an_article_below_another_means_choosing_again() -> None:
    """The defect: a new file becomes the copy that stands for an article of the feed,
    and ranks lower than an article the last feed cut."""
    rules = topic(sort="quality", limit=1)
    a = make_record(key="a.txt", id="https://n.example/A", quality=10.0)
    b = make_record(key="b.txt", id="https://n.example/B", quality=5.0)
    before = select([a, b], rules, NOW)
    assert [e.id for e in before.entries] == [a.id]
    last = last_feed(before)
    c = replace(a, key="c.txt", quality=1.0, updated=a.updated + timedelta(hours=1))
    ids = update_candidates(last, [c.id], rules)
    assert ids == {a.id}
    narrow = select([r for r in (a, b, c) if r.id in ids], rules, NOW)
    assert not update_holds(last, narrow)  # A fell below the floor: B must be considered
    assert [e.id for e in select([a, b, c], rules, NOW).entries] == [b.id]


def test_an_edit_that_keeps_its_place_needs_no_other_record() -> None:
    rules = topic(sort="quality", limit=1)
    a = make_record(key="a.txt", id="https://n.example/A", quality=10.0)
    b = make_record(key="b.txt", id="https://n.example/B", quality=5.0)
    last = last_feed(select([a, b], rules, NOW))
    edited = replace(a, title="A, corrected")
    narrow = select([edited], rules, NOW)
    assert update_holds(last, narrow)
    assert narrow.entries == select([edited, b], rules, NOW).entries


def test_a_feed_that_was_not_full_never_cut_anything() -> None:
    rules = topic(limit=5)
    a = make_record(key="a.txt", id="https://n.example/A")
    last = last_feed(select([a], rules, NOW))
    assert last.floor is None
    assert update_holds(last, select([], rules, NOW))


def test_a_removed_entry_opens_a_place_that_only_a_choice_from_all_can_fill() -> None:
    rules = topic(limit=1)
    a = make_record(key="a.txt", id="https://n.example/A")
    last = last_feed(select([a, make_record(key="b.txt", id="https://n.example/B")], rules, NOW))
    assert not update_holds(last, select([], rules, NOW))


def test_entries_mode_and_a_topic_never_built_choose_again() -> None:
    assert update_candidates(None, [], topic()) is None
    assert update_candidates(LastFeed(frozenset(), None), [], topic(related="entries")) is None


def test_limit_zero_is_always_empty() -> None:
    rules = topic(limit=0)
    last = last_feed(select([make_record()], rules, NOW))
    assert update_holds(last, select([make_record()], rules, NOW))


def test_a_topic_updates_from_the_changes_its_match_can_take() -> None:
    grid = make_record(key="g.txt", id="https://n.example/G", topics=("Grid",))
    moved = make_record(key="m.txt", id="https://n.example/M", topics=("Solar", "Energy"))
    loose = make_record(key="l.txt", id="https://n.example/L", topics=())
    by_topic = changes_by_topic([grid, moved, loose])
    changed = {grid.id, moved.id, loose.id, "https://n.example/gone"}
    assert changes_for(topic(), changed, by_topic) == {moved.id}
    every = Topic("all", "All", "", ("*",), Rules())
    assert changes_for(every, changed, by_topic) == changed  # records without topics too
    assert changes_for(topic(), set(), by_topic) == frozenset()


@settings(max_examples=examples(150, 300), deadline=None)
@given(
    corpora(),
    corpora(),
    st.sets(st.integers(0, 29)),
    rules_strategy,
    st.sampled_from([("energy",), ("*",), ("grid", "energy")]),
)
def test_updating_from_the_changes_a_topic_can_take_chooses_what_every_record_would(
    before: list[Record],
    edits: list[Record],
    removed: set[int],
    rules: dict[str, Any],
    match: tuple[str, ...],
) -> None:
    """Edits (new files, new versions, topic moves, removals) to a corpus the last feed
    was chosen from: when the update from the last feed and the changes the topic can
    take holds, it is what choosing from every record gives."""
    chosen = Topic("energy", "Energy", "Power.", match, replace(Rules(), **rules))
    old = {r.key: r for r in before}
    new = {**old, **{r.key: r for r in edits}}
    for n in removed:
        new.pop(f"{n:03d}.txt", None)
    changed = {r.id for k, r in old.items() if new.get(k) != r} | {
        r.id for k, r in new.items() if old.get(k) != r
    }
    last = last_feed(select(list(old.values()), chosen, NOW))
    by_topic = changes_by_topic(r for r in new.values() if r.id in changed)
    ids = update_candidates(last, changes_for(chosen, changed, by_topic), chosen)
    assert ids is not None
    narrow = select([r for r in new.values() if r.id in ids], chosen, NOW)
    holds = update_holds(last, narrow)
    event("holds" if holds else "chooses again")
    if holds:
        assert narrow.entries == select(list(new.values()), chosen, NOW).entries


# -- the defect, through the command's own entry point


def test_a_new_copy_with_a_later_edit_and_lower_quality_gives_the_cold_feed(tmp_path: Path) -> None:
    text = BASE_CONFIG + "    sort: quality\n    limit: 1\n"
    config = make_config(tmp_path, text)
    seeds = tmp_path / "seeds"
    write_record(seeds, "a.txt", title="A", webUrl="https://n.example/A", originalUrl=..., quality=10)
    write_record(seeds, "b.txt", title="B", webUrl="https://n.example/B", originalUrl=..., quality=5)
    build(config, NOW)
    assert titles(config.output_dir / "energy.atom") == ["A"]
    write_record(
        seeds, "c.txt", title="A", webUrl="https://n.example/A", originalUrl=..., quality=1,
        updatedDateTime="2026-11-21T08:00:00Z",
    )  # fmt: skip
    build(config, NOW)
    assert titles(config.output_dir / "energy.atom") == ["B"]
    assert build(config, NOW).no_changes


def titles(feed: Path) -> list[str]:
    return [e.title for e in feedparser.parse(feed.read_bytes()).entries]


# -- the law, on random sequences of operations

FILES = [f"f{n}.txt" for n in range(5)]
ARTICLES = [f"https://n.example/{n}" for n in range(3)]
RELATED = [*ARTICLES[:2], "https://r.example/x", "https://r.example/y"]  # some cite records
TOPIC_NAMES = ["Energy", "Grid", "Solar"]

# The values operations draw from, shared by the hypothesis strategies (which shrink a
# failure to its core) and by a seeded generator (which spreads its draws evenly and so
# meets rarer combinations; see the slow test at the end).
RULES = {
    "sort": ["newest", "quality", "heat"],
    "related": ["see-also", "enclosure", "entries", "none"],
    "limit": [1, 1, 2, 3, 0],
    "published": ["only", "any"],
    "max_age_days": [None, None, 3],
    "min_quality": [None, None, 3],
}
RELATED_FIELDS = {
    "title": ["Background", "Analysis"],
    "webUrl": RELATED,
    "publishedDateTime": [None, "2026-11-26T10:00:00Z", "2026-11-27T18:00:00Z"],
    "quality": [None, 2, 8],
}
FIELDS = {
    "title": ["Alpha", "Beta", "Gamma"],
    # None: the file's own article (files mostly hold different articles); else a shared one.
    "webUrl": [None, *ARTICLES],
    # Around the clock's start and the max_age_days boundaries it crosses as it moves.
    "hours_old": [5, 30, 60, 0, 80, 110],
    "updated_later": [None, 1, 30],
    # Hypothesis favours the first of each list: the usual value comes first.
    "quality": [5, 9, 1, 3, None],
    "heat": [4, 0, 7, None],
    "published": [True, True, True, False],
    # Most records reach the configured topics, so that their feeds fill and cut.
    "topics": [["Energy"], ["Energy", "Grid"], ["Solar", "Energy"], ["Grid"]],
}
# Writes (new records and edits) and second copies are most of what a newsroom does.
KINDS = ["write"] * 4 + ["copy"] * 2 + ["remove", "rename", "touch", "clock"]

rules_of = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in RULES.items()})
related_of = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in RELATED_FIELDS.items()})
fields_of = st.fixed_dictionaries(
    {**{k: st.sampled_from(v) for k, v in FIELDS.items()}, "related": st.lists(related_of, max_size=1)}
)
files = st.sampled_from(FILES)
operations = st.one_of(
    *(
        {
            "write": st.tuples(st.just("write"), files, fields_of),
            # A second copy of an article, as another desk files it: other fields may differ.
            "copy": st.tuples(st.just("copy"), files, files, fields_of),
            "remove": st.tuples(st.just("remove"), files),
            "rename": st.tuples(st.just("rename"), files, files),
            "touch": st.tuples(st.just("touch"), files),
            "clock": st.tuples(st.just("clock"), st.integers(1, 40)),  # hours
        }[kind]
        for kind in KINDS
    )
)


def random_sequence(rng: random.Random) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Two topics' rules and a sequence of operations, drawn evenly from the same values."""

    def fields() -> dict[str, Any]:
        related = [{k: rng.choice(v) for k, v in RELATED_FIELDS.items()} for _ in range(rng.randint(0, 1))]
        return {**{k: rng.choice(v) for k, v in FIELDS.items()}, "related": related}

    def operation() -> tuple[Any, ...]:
        kind = rng.choice(KINDS)
        if kind == "write":
            return (kind, rng.choice(FILES), fields())
        if kind == "copy":
            return (kind, rng.choice(FILES), rng.choice(FILES), fields())
        if kind == "rename":
            return (kind, rng.choice(FILES), rng.choice(FILES))
        if kind == "clock":
            return (kind, rng.randint(1, 40))
        return (kind, rng.choice(FILES))

    rules = [{k: rng.choice(v) for k, v in RULES.items()} for _ in range(2)]
    return rules, [operation() for _ in range(rng.randint(6, 14))]


def config_text(topics: list[dict[str, Any]]) -> str:
    text = BASE_CONFIG.split("topics:")[0] + "auto: true\ndefaults:\n  limit: 2\ntopics:\n"
    # A third topic takes every record, with the first's rules.
    matches = [["Energy"], ["Energy", "Grid"], ["*"]]
    for n, (rules, match) in enumerate(zip([*topics, topics[0]], matches, strict=True)):
        text += f"  t{n}:\n    title: T{n}\n    match: {match}\n"
        text += "".join(f"    {k}: {v}\n" for k, v in rules.items() if v is not None)
    return text


class Folder:
    """A records folder driven by operations, with mtimes that always move forward
    (so that stat sees every change however fast the test writes)."""

    def __init__(self, root: Path) -> None:
        self.seeds = root / "seeds"
        self.tick = 1_700_000_000 * 10**9
        self.articles: dict[str, str] = {}  # file name: the article it was last written for

    def _stamp(self, path: Path) -> None:
        self.tick += 10**9
        os.utime(path, ns=(self.tick, self.tick))

    def apply(self, op: tuple[Any, ...], now: datetime) -> datetime:
        kind = op[0]
        if kind == "clock":
            return now + timedelta(hours=op[1])
        path = self.seeds / op[1]
        if kind == "write":
            self.write(path, op[2], now)
        elif not path.exists():
            return now
        elif kind == "remove":
            path.unlink()
        elif kind == "rename":
            target = self.seeds / op[2]
            if target != path:
                path.replace(target)
                self._stamp(target)
                self.articles[op[2]] = self.articles[op[1]]
        elif kind == "copy":
            self.write(self.seeds / op[2], {**op[3], "webUrl": self.articles[op[1]]}, now)
        elif kind == "touch":
            self._stamp(path)
        return now

    def write(self, path: Path, f: dict[str, Any], now: datetime) -> None:
        if f["webUrl"] is None:
            f = {**f, "webUrl": f"https://n.example/own/{path.stem}"}
        published = now - timedelta(hours=f["hours_old"])
        fields = record_fields(
            title=f["title"],
            webUrl=f["webUrl"],
            originalUrl=...,
            publishedDateTime=published.isoformat(),
            quality=f["quality"] if f["quality"] is not None else ...,
            heat=f["heat"] if f["heat"] is not None else ...,
            published=f["published"],
            topics=f["topics"],
            related=[{k: v for k, v in r.items() if v is not None} for r in f["related"]],
        )
        if f["updated_later"] is not None:
            fields["updatedDateTime"] = (published + timedelta(hours=f["updated_later"])).isoformat()
        path.write_text(record_text(fields), encoding="utf-8")
        self._stamp(path)
        self.articles[path.name] = f["webUrl"]


FEED_SUFFIXES = {".atom", ".rss", ".json"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def entries(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Each feed's entries as a subscriber reads them. Only the feeds: feedparser finds
    no entries in pages, styles or the OPML list, and reading them took half the time."""
    return {
        p.name: [(e.id, e.title) for e in feedparser.parse(p.read_bytes()).entries]
        for p in sorted(folder.iterdir())
        if p.suffix in FEED_SUFFIXES
    }


def check_sequence(
    topics: list[dict[str, Any]], ops: list[tuple[Any, ...]], postgresql: Backend | None = None
) -> None:
    """With `postgresql`, the state is kept there (a schema for each sequence) and the
    fresh choice starts from a copy of it in a file."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        on = Backend("sqlite") if postgresql is None else replace(postgresql, schema=new_schema())
        make_config(root, on.text(config_text(topics)))
        config = load_config(root / "config.yaml")
        folder = Folder(root)
        now = NOW
        build(config, now)
        for op in ops:
            before = root / "before.sqlite"
            if config.state_db is None:
                shutil.copy(config.state_path, before)  # type: ignore[arg-type]
            else:
                copy_state(config.state_db, before)
            now = folder.apply(op, now)
            build(config, now)
            # The same history, everything chosen afresh: every file byte for byte.
            fresh = root / "fresh"
            shutil.rmtree(fresh, ignore_errors=True)
            fresh.mkdir()
            build(replace(config, output_dir=fresh, state_path=before, state_db=None), now, full=True)
            incremental, afresh = snapshot(config.output_dir), snapshot(fresh)
            # Feeds of automatic topics that lost their last record stay as they were.
            assert afresh.keys() <= incremental.keys()
            for name, data in afresh.items():
                assert incremental[name] == data, f"{name} after {op}"
            # No state at all: the same entries, in the same order.
            cold = root / "cold"
            shutil.rmtree(cold, ignore_errors=True)
            cold.mkdir()
            build(stateless(config, cold), now)
            assert entries(cold).items() <= entries(config.output_dir).items()
            before.unlink()


@pytest.fixture(autouse=True)
def trust_stat(monkeypatch: pytest.MonkeyPatch, no_racy_window: None) -> None:
    """Folder gives every write its own mtime, so stat is trusted at once. Files are
    not synced to disk: these tests are about what is chosen, the publisher's own
    tests about durability, and syncing took a sixth of their time."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


# The defect the planner once had: a new copy of an article of a full feed becomes the
# copy that stands for it and ranks below an article the feed had cut.
_RULES = {"sort": "quality", "related": "see-also", "limit": 1, "published": "only",
          "max_age_days": None, "min_quality": None}  # fmt: skip
_A = {"title": "Alpha", "webUrl": ARTICLES[0], "hours_old": 5, "updated_later": None, "quality": 9,
      "heat": None, "published": True, "topics": ["Energy"], "related": []}  # fmt: skip
DEFECT = (
    [_RULES, _RULES],
    [
        ("write", "f0.txt", _A),
        ("write", "f1.txt", {**_A, "title": "Beta", "webUrl": ARTICLES[1], "quality": 5}),
        ("copy", "f0.txt", "f2.txt", {**_A, "quality": 1, "updated_later": 1}),
    ],
)


def property_settings(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )


@property_settings(EXAMPLES)
@given(st.lists(rules_of, min_size=2, max_size=2), st.lists(operations, min_size=6, max_size=14))
@example(*DEFECT)
def test_incremental_runs_publish_what_a_fresh_choice_publishes(
    topics: list[dict[str, Any]], ops: list[tuple[Any, ...]]
) -> None:
    check_sequence(topics, ops)


# A twelfth as many with the state in PostgreSQL: the law is the same, the store another
# (each example costs five times a file's: a schema made, a round trip per statement).
@property_settings(max(3, EXAMPLES // 12))
@given(st.lists(rules_of, min_size=2, max_size=2), st.lists(operations, min_size=6, max_size=14))
@example(*DEFECT)
def test_incremental_runs_publish_what_a_fresh_choice_publishes_with_the_state_in_postgresql(
    postgresql: Backend, topics: list[dict[str, Any]], ops: list[tuple[Any, ...]]
) -> None:
    check_sequence(topics, ops, postgresql)


@pytest.mark.slow
@property_settings(examples(EXAMPLES // 2, EXAMPLES * 3))
@given(st.lists(rules_of, min_size=2, max_size=2), st.lists(operations, min_size=1, max_size=25))
def test_incremental_runs_publish_what_a_fresh_choice_publishes_thoroughly(
    topics: list[dict[str, Any]], ops: list[tuple[Any, ...]]
) -> None:
    check_sequence(topics, ops)


def test_config_of_the_property_test_is_valid(tmp_path: Path) -> None:
    topics = [{"sort": "heat", "related": "entries", "limit": 0, "published": "any", "max_age_days": 3,
               "min_quality": 3}] * 2  # fmt: skip
    config: Config = make_config(tmp_path, config_text(topics))
    assert [t.rules.sort for t in config.topics] == ["heat", "heat", "heat"]
    assert config.topics[2].match == ("*",)


@pytest.mark.slow
def test_incremental_runs_publish_what_a_fresh_choice_publishes_over_seeded_sequences() -> None:
    """Sequences from a seeded generator; a failure names its seed. (Before the planner
    was fixed, seed 44 showed its defect.) Each builds three topics, one of them taking
    every record. The suite tries seed 44 and every twelfth seed; TOPICFEEDS_THOROUGH=1
    tries all 60."""
    for seed in range(60) if THOROUGH else sorted({44, *range(0, 60, 12)}):
        rules, ops = random_sequence(random.Random(seed))
        try:
            check_sequence(rules, ops)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}: rules {rules}, operations {ops}") from exc
