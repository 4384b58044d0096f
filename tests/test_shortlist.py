"""Choosing from a stream of records with bounded memory chooses what holding them all
would: `core.shortlist.Shortlist` and `shortlisted` against `select` over every record, on
in-memory records, with few places so that copies, ties, holds and cuts crowd them."""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from topicfeeds import build
from topicfeeds.config import Rules, Topic
from topicfeeds.core.model import Record, Related
from topicfeeds.core.rules import exclusion, held_until
from topicfeeds.core.schedule import due_at, next_release
from topicfeeds.core.select import SortKey, order_key, select
from topicfeeds.core.shortlist import Shortlist, shortlisted
from topicfeeds.pipeline import refresh
from topicfeeds.records.codec import micros
from topicfeeds.records.reader import read_records

from .conftest import BASE_CONFIG, examples, make_config, make_record, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def topic(**rules: Any) -> Topic:
    return Topic("energy", "Energy", "Power.", ("energy",), replace(Rules(), **rules))


def copies_in(records: list[Record]) -> Any:
    return lambda ids: [r for r in records if r.id in ids]


@st.composite
def corpora(draw: st.DrawFn) -> list[Record]:
    """Records of a few articles, several copies each, on a few dates and values, some
    unpublished, some about another topic, some dated ahead of the run."""
    count = draw(st.integers(0, 30))
    records = []
    for n in range(count):
        article = draw(st.integers(0, 12))
        hours = draw(st.sampled_from([-48, -24, -3, -1, 0, 2, 30]))
        updated_hours = draw(st.sampled_from([0, 1, 5]))
        when = NOW + timedelta(hours=hours)
        records.append(
            make_record(
                key=f"{n:03d}.txt",
                id=f"https://n.example/{article}",
                title=draw(st.sampled_from(["A", "B"])),
                published=when,
                updated=when + timedelta(hours=updated_hours),
                quality=draw(st.sampled_from([None, 1.0, 5.0, 9.0])),
                heat=draw(st.sampled_from([None, 0.0, 3.0])),
                is_published=draw(st.booleans()) or draw(st.booleans()),
                topics=draw(st.sampled_from([("Energy",), ("Energy", "Grid"), ("Grid",)])),
                images=(),
                related=(),
            )
        )
    return records


rules_strategy = st.fixed_dictionaries(
    {
        "limit": st.integers(0, 6),
        "sort": st.sampled_from(["newest", "quality", "heat"]),
        "future": st.sampled_from(["hold", "publish"]),
        "max_age_days": st.sampled_from([None, None, 1.5]),
        "min_quality": st.sampled_from([None, None, 4.0]),
    }
)


@settings(max_examples=examples(100, 400), deadline=None)
@given(corpora(), rules_strategy, st.integers(0, 10), st.permutations(range(30)))
def test_a_shortlist_chooses_what_every_record_would(
    records: list[Record], rules: dict[str, Any], room: int, order: list[int]
) -> None:
    chosen_topic = topic(**rules)
    everything = select(records, chosen_topic, NOW)
    shortlist = Shortlist(chosen_topic, NOW, room=room)
    # Offered in any order, as the store's rows come.
    for index in sorted(range(len(records)), key=lambda i: order[i % len(order)] * 100 + i):
        if "energy" in {t.casefold() for t in records[index].topics}:
            shortlist.offer(records[index])
    if not shortlist.everything:
        assert len(shortlist.records) <= room
    chosen = shortlisted(shortlist, copies_in(records))
    event("undecided" if chosen is None else "decided, after a cut" if shortlist.cut else "decided")
    if chosen is None:
        assert shortlist.cut is not None  # only a cut can leave the answer open
        return
    selection, seen = chosen
    assert selection.entries == everything.entries
    matching = [r for r in records if "energy" in {t.casefold() for t in r.topics}]
    assert due_at(selection.admitted, seen, chosen_topic, NOW) == due_at(
        everything.admitted, matching, chosen_topic, NOW
    )


@settings(max_examples=examples(100, 200), deadline=None)
@given(corpora(), rules_strategy)
def test_the_default_room_decides_when_copies_are_few(records: list[Record], rules: dict[str, Any]) -> None:
    """With one copy an article, a shortlist of the default room always decides."""
    unique = list({r.id: r for r in records}.values())
    chosen_topic = topic(**rules)
    shortlist = Shortlist(chosen_topic, NOW)
    for record in unique:
        if "energy" in {t.casefold() for t in record.topics}:
            shortlist.offer(record)
    chosen = shortlisted(shortlist, copies_in(unique))
    assert chosen is not None
    assert chosen[0].entries == select(unique, chosen_topic, NOW).entries


def test_a_cut_copy_that_stands_for_its_article_leaves_the_answer_open() -> None:
    """A's kept copy ranks first, but A's preferred copy (the later edit) ranks last:
    B, let go, must take the place, so the shortlist cannot decide alone."""
    rules = topic(sort="quality", limit=1)
    a_high = make_record(key="a1.txt", id="https://n.example/A", quality=10.0)
    a_low = replace(a_high, key="a2.txt", quality=1.0, updated=a_high.updated + timedelta(hours=1))
    b = make_record(key="b.txt", id="https://n.example/B", quality=5.0)
    shortlist = Shortlist(rules, NOW, room=1)
    for record in (a_high, b):
        shortlist.offer(record)
    assert shortlist.records == [a_high]
    assert shortlisted(shortlist, copies_in([a_high, a_low, b])) is None
    assert [e.id for e in select([a_high, a_low, b], rules, NOW).entries] == [b.id]


class RuledShortlist:
    """The shortlist as it was before `Shortlist.consider` skipped rules: every rule
    run on every record offered. Its kept records, cut and held record are the law."""

    def __init__(self, chosen: Topic, now: datetime, room: int) -> None:
        self.topic, self.now, self.room = chosen, now, room
        rules = chosen.rules
        self.everything = rules.max_age_days is not None or rules.related == "entries"
        self.key = order_key(rules.sort)
        self.seq = 0
        self.kept: list[tuple[SortKey, int, Record]] = []
        self.cut: SortKey | None = None
        self.held: Record | None = None

    def offer(self, record: Record) -> None:
        if exclusion(record, self.topic, self.now) is not None:
            if record.published > self.now:
                first = None if self.held is None else held_until(self.held, self.topic)
                if next_release((record,), self.topic, self.now) is not None:
                    until = held_until(record, self.topic)
                    if first is None or (until is not None and until < first):
                        self.held = record
            return
        key = self.key(record)
        if not self.everything and len(self.kept) >= self.room:
            if not self.kept or key >= self.kept[-1][0]:
                self.let_go(key)
                return
            self.let_go(self.kept.pop()[0])
        self.seq += 1
        bisect.insort(self.kept, (key, self.seq, record))

    def let_go(self, key: SortKey) -> None:
        if self.cut is None or key < self.cut:
            self.cut = key


class Counted:
    """A record as a `Candidate` that counts how often the whole record is asked for."""

    def __init__(self, record: Record) -> None:
        self.whole = record
        self.id = record.id
        self.published_micros = micros(record.published)
        self.quality = record.quality
        self.heat = record.heat
        self.asked = 0

    def record(self) -> Record:
        self.asked += 1
        return self.whole


# Around the run's time to the minute, so that dates within the clock-skew tolerance
# (a few minutes ahead), just past it and far ahead all come up.
MINUTES = [-3000, -90, -1, 0, 1, 3, 4, 5, 6, 7, 30, 240, 2000]


def cite(article: int, when: datetime) -> Related:
    url = f"https://r.example/{article}"
    return Related(url, "Cited", url, "", when - timedelta(hours=article), None, None, None)


@st.composite
def crowded_corpora(draw: st.DrawFn) -> list[Record]:
    """Records of few articles (several copies each) and few distinct values, so that
    ties, copies, holds and cuts crowd a shortlist; some cite related articles."""
    count = draw(st.integers(0, 40))
    records = []
    for n in range(count):
        article = draw(st.integers(0, 15))
        when = NOW + timedelta(
            minutes=draw(st.sampled_from(MINUTES)), microseconds=draw(st.sampled_from([0, 1]))
        )
        cited = draw(st.sampled_from([(), (article + 1,), (article, 3)]))
        records.append(
            make_record(
                key=f"{n:03d}.txt",
                id=f"https://n.example/{article}",
                title=draw(st.sampled_from(["Power cut", "Grid news", "Wind"])),
                published=when,
                updated=when + timedelta(hours=draw(st.sampled_from([0, 1]))),
                quality=draw(st.sampled_from([None, 1.0, 5.0, 9.0])),
                heat=draw(st.sampled_from([None, 0.0, 3.0])),
                is_published=draw(st.booleans()) or draw(st.booleans()),
                type=draw(st.sampled_from(["article", "video"])),
                topics=draw(st.sampled_from([("Energy",), ("Energy", "Grid"), ("Grid", "energy")])),
                images=(),
                related=tuple(cite(c, when) for c in cited),
            )
        )
    return records


crowded_rules = st.fixed_dictionaries(
    {
        "limit": st.integers(0, 5),
        "sort": st.sampled_from(["newest", "quality", "heat"]),
        "future": st.sampled_from(["hold", "hold", "publish"]),
        "clock_skew_minutes": st.sampled_from([0.0, 5.0, 5.5, 300.0]),
        "max_age_days": st.sampled_from([None, None, None, 1.5]),
        "min_quality": st.sampled_from([None, None, 4.0]),
        "types": st.sampled_from([(), (), ("article",)]),
        "keywords_exclude": st.sampled_from([(), (), ("wind",)]),
        "related": st.sampled_from(["none", "none", "entries"]),
    }
)


@settings(max_examples=examples(80, 600), deadline=None)
@given(crowded_corpora(), crowded_rules, st.integers(0, 8), st.randoms(use_true_random=False))
def test_skipping_rules_keeps_cuts_and_holds_what_running_them_all_would(
    records: list[Record], rules: dict[str, Any], room: int, rnd: Any
) -> None:
    """`Shortlist.consider` skips the rules for a record that cannot enter a full
    shortlist, and for one dated past the tolerance that cannot be released before
    the held one: after every record, what it kept, cut and held is what running
    every rule on every record gives, and it asked for no record it skipped."""
    rnd.shuffle(records)
    chosen_topic = topic(**rules)
    fast = Shortlist(chosen_topic, NOW, room=room)
    ruled = RuledShortlist(chosen_topic, NOW, room)
    skipped = 0
    for record in records:
        candidate = Counted(record)
        fast.consider(candidate)
        ruled.offer(record)
        skipped += candidate.asked == 0
        assert candidate.asked <= 1
        assert (fast.kept, fast.cut, fast.held) == (ruled.kept, ruled.cut, ruled.held)
    event("some records skipped" if skipped else "no record skipped")
    event("held one" if fast.held else "held none")
    assert [order_key(rules["sort"])(r) for r in fast.records] == [k for k, _, _ in fast.kept]


@settings(max_examples=examples(80, 300), deadline=None)
@given(crowded_corpora(), crowded_rules, st.integers(0, 8), st.randoms(use_true_random=False))
def test_a_shortlist_decides_as_select_on_crowded_corpora(
    records: list[Record], rules: dict[str, Any], room: int, rnd: Any
) -> None:
    """Ties, copies, dates about the tolerance and related articles: whenever a
    shortlist decides, it decides as `select` over every record, due time included."""
    rnd.shuffle(records)
    chosen_topic = topic(**rules)
    shortlist = Shortlist(chosen_topic, NOW, room=room)
    for record in records:
        shortlist.offer(record)
    chosen = shortlisted(shortlist, copies_in(records))
    event("undecided" if chosen is None else "decided")
    if chosen is None:
        assert shortlist.cut is not None
        return
    selection, seen = chosen
    everything = select(records, chosen_topic, NOW)
    assert selection.entries == everything.entries
    assert due_at(selection.admitted, seen, chosen_topic, NOW) == due_at(
        everything.admitted, records, chosen_topic, NOW
    )


# -- through the build: one pass over the stored records fills every shortlist

CHOOSING_TOPICS = [
    ("all", "['*']", "limit: 3"),
    ("energy-grid", "[Energy, Grid]", "limit: 2"),
    ("energy", "[Energy]", "sort: quality\n    limit: 2"),
    ("grid", "[Grid]", "sort: heat\n    limit: 1"),
    ("solar", "[Solar]", "limit: 2\n    future: publish"),
    ("recent", "[Energy]", "limit: 2\n    max_age_days: 1"),
    ("cited", "[Grid]", "limit: 3\n    related: entries"),
    ("skewed", "[Solar, Grid]", "limit: 2\n    clock_skew_minutes: 90"),
    *((f"spare-{n}", f"[Spare {n}]", "limit: 1") for n in range(4)),  # past ten topics: one pass
]


@pytest.mark.parametrize("stored", [False, True], ids=["as-rows-are-stored", "from-the-store"])
def test_a_build_fills_every_shortlist_as_choosing_from_every_record_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored: bool
) -> None:
    """Records dated about the run's time and ahead of it, copies of one article,
    records naming several topics (two of them matched by one topic), a topic taking
    every record: each topic's feed holds what `select` over every record gives. A
    cold build fills the shortlists as it stores the records; a full run over records
    already stored (here: the configuration changed) reads them back from the store."""

    def topics_text(chosen: Sequence[tuple[str, str, str]]) -> str:
        blocks = (
            f"  {slug}:\n    title: {slug}\n    match: {match}\n    {rules}\n"
            for slug, match, rules in chosen
        )
        return BASE_CONFIG.split("topics:\n")[0] + "topics:\n" + "".join(blocks)

    config = make_config(tmp_path, topics_text(CHOOSING_TOPICS))
    rnd = random.Random(11)
    names = ["Energy", "Grid", "Solar", "energy", "Spare 1"]
    for n in range(200):
        when = NOW + timedelta(minutes=rnd.choice([-3000, -600, -30, 0, 3, 40, 200, 5000]))
        article = f"https://n.example/{rnd.randrange(100)}"
        write_record(
            tmp_path / "seeds", f"{n:03d}.txt", title=f"Story {n}", webUrl=article, originalUrl=...,
            publishedDateTime=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            quality=rnd.choice([10, 50, 90]), heat=rnd.choice([1, 5]), published=rnd.random() > 0.1,
            topics=rnd.sample(names, rnd.randrange(0, 4)),
        )  # fmt: skip
    if stored:
        build(make_config(tmp_path, topics_text(CHOOSING_TOPICS[:-1])), NOW)
        config = make_config(tmp_path, topics_text(CHOOSING_TOPICS))
    streamed: list[bool] = []
    offers = refresh._offers

    def spy(*args: Any) -> Any:
        given = offers(*args)
        streamed.append(given is not None)
        return given

    monkeypatch.setattr(refresh, "_offers", spy)
    build(config, NOW)
    assert streamed == [not stored]
    records = read_records(tmp_path / "seeds").records
    shown = {}
    for chosen in config.topics:
        feed = feedparser.parse((tmp_path / "feeds" / f"{chosen.slug}.atom").read_bytes())
        expected = [e.id for e in select(records, chosen, NOW).entries]
        assert [e.id for e in feed.entries] == expected, chosen.slug
        shown[chosen.slug] = len(expected)
    assert all(shown[slug] for slug, _, _ in CHOOSING_TOPICS[:8])  # none of them empty
