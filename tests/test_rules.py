"""The rules registry: the order rules are checked in, the record fields each declares
(checked against what its check reads), whether a topic must see whole records, and
registering a rule."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import pytest

from topicfeeds.config import Rules, Topic
from topicfeeds.core.model import Image, Provider, Record
from topicfeeds.core.rules import LIGHT_FIELDS, RULES, Rule, exclusion, fields_read, needs_whole
from topicfeeds.core.schedule import next_release
from topicfeeds.core.select import select, verdict
from topicfeeds.core.shortlist import Shortlist
from topicfeeds.records.codec import Light, decode_light, encode_light_and_extra

from .conftest import make_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
RECORD_FIELDS = frozenset(f.name for f in fields(Record))


def topic(match: tuple[str, ...] = ("energy",), slug: str = "energy", **rules: Any) -> Topic:
    return Topic(slug, "Energy", "Power.", match, replace(Rules(), **rules))


# Topics that turn each rule on, and off; a new rule needs a topic here that turns it on.
TOPICS = [
    topic(),
    topic(match=("*",)),
    topic(published_only=False, future="publish"),
    topic(types=("article",)),
    topic(categories=("news",)),
    topic(min_quality=30.0),
    topic(providers_include=("grid watch", "news.example")),
    topic(providers_exclude=("spam.example",)),
    topic(keywords_include=("grid",)),
    topic(keywords_exclude=("sponsored",)),
    topic(max_age_days=30.0),
    topic(clock_skew_minutes=0.0),
    topic(
        match=("energy", "space"), types=("article", "video"), categories=("news",), min_quality=10.0,
        providers_include=("news.example",), providers_exclude=("spam daily",), keywords_include=("grid",),
        keywords_exclude=("buy",), max_age_days=7.0,
    ),
]  # fmt: skip


def corpus(count: int = 250, seed: int = 5) -> list[Record]:
    """Records whose every field varies independently over values the rules tell apart."""
    rng = random.Random(seed)
    choices: dict[str, list[Any]] = {
        "key": ["a.txt", "b.txt"],
        "id": ["https://news.example/a", "https://news.example/b"],
        "title": ["Grid news", "Sponsored: buy batteries", "Solar"],
        "link": ["https://news.example/a", "https://news.example/page"],
        "excerpt": ["About the grid.", "Nothing here.", ""],
        "published": [NOW - timedelta(days=d) for d in (40, 1 / 24, -1 / 1440, -3 / 24)],
        "updated": [NOW - timedelta(days=50), NOW + timedelta(days=1)],
        "type": ["article", "Video", None],
        "category": ["news", "opinion", None],
        "quality": [None, 20.0, 50.0],
        "heat": [None, 3.0],
        "is_published": [True, False],
        "provider": [
            None,
            Provider("Spam Daily", "https://www.spam.example/"),
            Provider("Grid Watch", None),
            Provider("News", "https://news.example/"),
        ],
        "topics": [("Energy",), ("Space", "energy"), (), ("Grid",)],
        "images": [(), (Image("https://news.example/a.jpg", 640, 360, "image/jpeg"),)],
        "related": [(), make_record().related],
    }
    assert set(choices) == RECORD_FIELDS
    return [Record(**{name: rng.choice(values) for name, values in choices.items()}) for _ in range(count)]


RECORDS = corpus()


class Spy:
    """A record that notes which of its fields are read."""

    __slots__ = ("_record", "seen")

    def __init__(self, record: Record) -> None:
        self._record = record
        self.seen: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.seen.add(name)
        return getattr(self._record, name)


def test_rules_are_checked_in_the_order_explain_reports_them() -> None:
    assert RULES.names == (
        "topics", "published", "types", "categories", "min_quality", "providers", "keywords", "max_age_days",
        "future",
    )  # fmt: skip
    record = make_record(type="video", quality=1.0, topics=("Space",))
    strict = topic(types=("article",), min_quality=30.0)
    assert exclusion(record, strict, NOW) == "topics: Space not among energy"
    assert exclusion(replace(record, topics=("Energy",)), strict, NOW) == "types: video is not one of article"


def test_the_first_rule_that_fails_is_the_reason_and_it_starts_with_the_rules_name() -> None:
    for t in TOPICS:
        for record in RECORDS:
            reasons = [(rule.name, rule.check(record, t, NOW)) for rule in RULES]
            failed = [(name, reason) for name, reason in reasons if reason is not None]
            assert exclusion(record, t, NOW) == (failed[0][1] if failed else None)
            for name, reason in failed:
                assert reason.startswith(f"{name}: ")


def test_each_rule_reads_exactly_the_fields_it_declares() -> None:
    for rule in RULES:
        assert rule.reads <= RECORD_FIELDS, rule.name
        read: set[str] = set()
        for t in TOPICS:
            if not rule.applies(t):
                continue
            for record in RECORDS:
                spy = Spy(record)
                rule.check(cast(Record, spy), t, NOW)
                read |= spy.seen
        assert read == rule.reads, f"{rule.name} reads {sorted(read)}, declares {sorted(rule.reads)}"


def test_records_differing_only_in_fields_a_rule_does_not_read_get_the_same_answer() -> None:
    rng = random.Random(11)
    for rule in RULES:
        others = sorted(RECORD_FIELDS - rule.reads)
        for record in RECORDS:
            donor = rng.choice(RECORDS)
            twin = replace(record, **{name: getattr(donor, name) for name in others})
            for t in TOPICS:
                assert rule.check(twin, t, NOW) == rule.check(record, t, NOW), (rule.name, record, twin)


def test_a_rule_a_topic_does_not_turn_on_admits_every_record_and_every_rule_is_turned_on_somewhere() -> None:
    for rule in RULES:
        assert any(rule.applies(t) for t in TOPICS), f"add a topic that turns {rule.name} on to TOPICS"
        for t in TOPICS:
            if not rule.applies(t):
                assert all(rule.check(r, t, NOW) is None for r in RECORDS), (rule.name, t)


def test_fields_read_follow_the_topics_settings_and_no_builtin_rule_needs_whole_records() -> None:
    assert fields_read(topic()) == {"topics", "is_published", "published"}
    assert fields_read(topic(match=("*",), published_only=False, future="publish")) == set()
    assert fields_read(topic(keywords_exclude=("buy",), min_quality=1.0)) == {
        "topics", "is_published", "published", "title", "excerpt", "quality",
    }  # fmt: skip
    assert not any(needs_whole(t) for t in TOPICS)


def test_light_fields_are_what_a_light_record_keeps() -> None:
    record = make_record(link="https://news.example/page", type="video", quality=2.5, heat=None)
    assert record.images and record.related
    text, _ = encode_light_and_extra(record)
    light = decode_light(Light(record.key, record.id, text))
    assert RECORD_FIELDS - {"images", "related"} == LIGHT_FIELDS
    for name in RECORD_FIELDS:
        if name in LIGHT_FIELDS:
            assert getattr(light, name) == getattr(record, name), name
        else:
            assert getattr(light, name) == () != getattr(record, name), name


def _wants_pictures(topic: Topic) -> bool:
    return topic.slug == "pictures"  # a setting of its own, in a rule that ships


def _needs_images(record: Record, topic: Topic, now: datetime) -> str | None:
    if not _wants_pictures(topic) or record.images:
        return None
    return "images: the record has none"


PICTURES = Rule("images", frozenset({"images"}), _needs_images, _wants_pictures)


@pytest.fixture
def pictures_rule() -> Iterator[Rule]:
    with RULES.registered(PICTURES) as rule:
        yield rule


def test_a_registered_rule_is_checked_last_and_its_topics_need_whole_records(pictures_rule: Rule) -> None:
    assert RULES.names[-2:] == ("future", "images")
    pictures, plain = topic(slug="pictures"), topic()
    assert needs_whole(pictures) and not needs_whole(plain)
    assert "images" in fields_read(pictures) and "images" not in fields_read(plain)
    bare = make_record(key="bare.txt", id="https://news.example/bare", images=())
    shown = make_record(key="shown.txt", id="https://news.example/shown")
    assert exclusion(bare, pictures, NOW) == "images: the record has none"
    assert exclusion(bare, plain, NOW) is None
    selection = select([bare, shown], pictures, NOW)
    assert [e.id for e in selection.entries] == [shown.id]
    assert verdict(bare, selection, NOW) == "excluded by images: the record has none"
    shortlist = Shortlist(pictures, NOW)
    shortlist.offer(bare)
    shortlist.offer(shown)
    assert shortlist.ids == {shown.id}
    # A record held for its date is released only if the other rules take it.
    ahead = NOW + timedelta(hours=3)
    assert next_release([replace(bare, published=ahead)], pictures, NOW) is None
    assert next_release([replace(shown, published=ahead)], pictures, NOW) == ahead - timedelta(minutes=5)
    held = Shortlist(pictures, NOW)
    held.offer(replace(bare, published=ahead))
    assert held.held is None
    held.offer(replace(shown, published=ahead))
    assert held.held is not None and held.held.id == shown.id


def test_a_rule_can_be_registered_before_another_and_is_gone_after_its_block() -> None:
    names = RULES.names
    with RULES.registered(PICTURES, before="published"):
        assert RULES.names == ("topics", "images", *names[1:])
        record = make_record(images=(), is_published=False)
        assert exclusion(record, topic(slug="pictures"), NOW) == "images: the record has none"
    assert RULES.names == names
    assert exclusion(make_record(images=()), topic(slug="pictures"), NOW) is None
    assert not needs_whole(topic(slug="pictures"))


def test_registering_refuses_a_taken_name_or_an_unknown_place_and_removing_an_unknown_rule() -> None:
    names = RULES.names
    with pytest.raises(ValueError, match="'types' is already registered"):
        RULES.register(replace(PICTURES, name="types"))
    with pytest.raises(ValueError, match="no rule named 'colour' to register 'images' before"):
        RULES.register(PICTURES, before="colour")
    with pytest.raises(ValueError, match="rule 'images' reads image: not a Record field"):
        RULES.register(replace(PICTURES, reads=frozenset({"image"})))
    with pytest.raises(ValueError, match="no rule named 'colour' to remove"):
        RULES.remove("colour")
    assert RULES.names == names
    removed = RULES.remove("keywords")
    try:
        assert "keywords" not in RULES.names
        assert exclusion(make_record(title="Sponsored"), topic(keywords_exclude=("sponsored",)), NOW) is None
    finally:
        RULES.register(removed, before="max_age_days")
    assert RULES.names == names
