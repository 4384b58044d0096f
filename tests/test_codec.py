from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from topicfeeds.core.model import Image, Provider, Related
from topicfeeds.core.select import order_key
from topicfeeds.core.shortlist import rank
from topicfeeds.errors import Problem
from topicfeeds.records.codec import (
    Light,
    LightCandidate,
    decode_light,
    decode_problems,
    encode_light_and_extra,
    encode_problems,
    with_extra,
)

from .conftest import make_record

times = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
)
texts = st.text(max_size=20)
numbers = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))
providers = st.one_of(st.none(), st.builds(Provider, texts, st.one_of(st.none(), texts)))
images = st.builds(
    Image,
    texts,
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.one_of(st.none(), texts),
)
related = st.builds(
    Related,
    texts,
    texts,
    texts,
    texts,
    st.one_of(st.none(), times),
    providers,
    numbers,
    st.one_of(st.none(), images),
)


@given(
    times,
    times,
    texts,
    numbers,
    numbers,
    st.booleans(),
    providers,
    st.lists(texts, max_size=3),
    st.lists(images, max_size=2),
    st.lists(related, max_size=2),
)
def test_records_survive_the_round_trip(  # type: ignore[no-untyped-def]
    published, updated, title, quality, heat, flag, provider, topics, imgs, rel
) -> None:
    record = make_record(
        published=published,
        updated=updated,
        title=title,
        quality=quality,
        heat=heat,
        is_published=flag,
        provider=provider,
        topics=tuple(topics),
        images=tuple(imgs),
        related=tuple(rel),
    )
    light, extra = encode_light_and_extra(record)
    assert with_extra(decode_light(Light(record.key, record.id, light)), extra) == record


@given(times, times, numbers, numbers, providers, st.lists(texts, max_size=3))
def test_a_light_candidate_ranks_and_decodes_as_its_record(  # type: ignore[no-untyped-def]
    published, updated, quality, heat, provider, topics
) -> None:
    """What a shortlist reads of a stored record before deciding whether to make it
    ranks it as the record made from the same text does, to the same float."""
    record = make_record(published=published, updated=updated, quality=quality, heat=heat, provider=provider,
                         topics=tuple(topics), images=(), related=())  # fmt: skip
    light = Light(record.key, record.id, encode_light_and_extra(record)[0])
    candidate = LightCandidate(light)
    assert candidate.topics == list(record.topics)
    for sort in ("newest", "quality", "heat"):
        assert rank(candidate, sort) == order_key(sort)(record)
    assert candidate.record() == decode_light(light) == record
    assert candidate.record() is candidate.record()  # made once


def test_the_light_part_holds_neither_name_nor_id_nor_a_link_equal_to_the_id() -> None:
    record = make_record(key="a-file-name.txt", id="https://news.example/a", link="https://news.example/a")
    light, _ = encode_light_and_extra(record)
    assert "a-file-name" not in light
    assert "news.example/a" not in light
    back = decode_light(Light(record.key, record.id, light))
    assert back.link == record.id
    assert back.images == back.related == ()
    other = make_record(link="https://news.example/a?page=1")
    light, _ = encode_light_and_extra(other)
    assert decode_light(Light(other.key, other.id, light)).link == other.link


def test_times_keep_microseconds_and_stay_utc() -> None:
    when = datetime(2026, 11, 20, 8, 0, 0, 123456, tzinfo=timezone.utc) + timedelta(microseconds=1)
    record = make_record(published=when)
    light, _ = encode_light_and_extra(record)
    back = decode_light(Light(record.key, record.id, light))
    assert back.published == when
    assert back.published.utcoffset() == timedelta(0)


def test_problems_round_trip() -> None:
    problems = [Problem("seeds/a.txt", 3, "images[0].url", "bad"), Problem("seeds/b.txt", None, None, "x")]
    assert decode_problems(encode_problems(problems)) == problems


@given(
    st.text(st.characters(blacklist_categories=()), max_size=8),  # lone surrogates too
    st.integers(0, 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_text_and_numbers_the_quick_json_writer_refuses_still_round_trip(  # type: ignore[no-untyped-def]
    text, size, number
) -> None:
    """Parts with lone surrogates or integers beyond 64 bits go through the json
    module, and every float reads back as itself whichever writer wrote it."""
    item = Related("https://x.example/r", text, "https://x.example/r", text, None, None, number, None)
    image = Image("https://x.example/i.png", size, size, text)
    record = make_record(title=text or "t", excerpt=text, quality=number, topics=(text,), images=(image,),
                         related=(item,))  # fmt: skip
    light, extra = encode_light_and_extra(record)
    assert with_extra(decode_light(Light(record.key, record.id, light)), extra) == record
