"""Choosing from a stream of records with bounded memory chooses what holding them all
would: `selector.Shortlist` and `shortlisted` against `select` over every record, on
in-memory records, with few places so that copies, ties, holds and cuts crowd them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from topicfeeds.config import Rules, Topic
from topicfeeds.model import Record
from topicfeeds.selector import Shortlist, due_at, select, shortlisted

from .conftest import make_record

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


@settings(max_examples=400, deadline=None)
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


@settings(max_examples=200, deadline=None)
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
