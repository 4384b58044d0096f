from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from topicfeeds.config import Config, Rules, Topic, is_slug, site_file_taken, topic_key, topic_slug
from topicfeeds.core.model import Provider
from topicfeeds.core.rules import exclusion
from topicfeeds.core.select import select
from topicfeeds.core.topics import plan_topics, topics_for

from .conftest import BASE_CONFIG, make_config, make_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def topic(**rules: object) -> Topic:
    return Topic("energy", "Energy", "Power.", ("energy",), Rules(**rules))  # type: ignore[arg-type]


def test_a_matching_record_is_admitted() -> None:
    assert exclusion(make_record(), topic(), NOW) is None


def test_topics_match_case_insensitively_and_star_matches_all() -> None:
    assert exclusion(make_record(topics=("ENERGY",)), topic(), NOW) is None
    other = make_record(topics=("Space",))
    assert exclusion(other, topic(), NOW) == "topics: Space not among energy"
    everything = Topic("all", "All", "All.", ("*",), Rules())
    assert exclusion(other, everything, NOW) is None


def test_each_rule_says_why_it_excludes() -> None:
    record = make_record(
        is_published=False,
        type="video",
        category="opinion",
        quality=20.0,
        provider=Provider("Spam Daily", "https://www.spam.example/"),
        title="Sponsored: buy batteries",
        published=NOW - timedelta(days=40),
    )
    cases = [
        ({}, "published: the record says published: false"),
        ({"published_only": False, "types": ("article",)}, "types: video is not one of article"),
        ({"published_only": False, "categories": ("news",)}, "categories: opinion is not one of news"),
        ({"published_only": False, "min_quality": 30}, "min_quality: quality 20 is below 30"),
        (
            {"published_only": False, "providers_include": ("gridwatch.example",)},
            "providers: Spam Daily is not among gridwatch.example",
        ),
        (
            {"published_only": False, "providers_exclude": ("spam.example",)},
            "providers: Spam Daily is excluded",
        ),
        (
            {"published_only": False, "providers_exclude": ("spam daily",)},
            "providers: Spam Daily is excluded",
        ),
        (
            {"published_only": False, "keywords_include": ("grid",)},
            "keywords: none of grid in title or excerpt",
        ),
        (
            {"published_only": False, "keywords_exclude": ("sponsored",)},
            "keywords: excluded word 'Sponsored' in title or excerpt",
        ),
        (
            {"published_only": False, "max_age_days": 30},
            "max_age_days: published 2026-10-19, more than 30 days before 2026-11-28",
        ),
    ]
    for rules, reason in cases:
        assert exclusion(record, topic(**rules), NOW) == reason
    assert exclusion(record, topic(published_only=False), NOW) is None


def test_records_without_quality_fail_a_quality_floor() -> None:
    reason = exclusion(make_record(quality=None), topic(min_quality=1), NOW)
    assert reason == "min_quality: the record gives no quality (needs 1)"


def test_keywords_match_whole_words_only() -> None:
    rules = topic(keywords_include=("ai", "c++"))
    assert exclusion(make_record(title="New AI rules"), rules, NOW) is None
    assert exclusion(make_record(title="Written in C++ today"), rules, NOW) is None
    assert exclusion(make_record(title="Said the chair", excerpt="Mail waits."), rules, NOW) is not None


def test_newest_first_ties_broken_by_id() -> None:
    a = make_record(id="https://n.example/a", key="a")
    b = make_record(id="https://n.example/b", key="b")
    c = make_record(id="https://n.example/c", key="c", published=NOW)
    entries = select([b, a, c], topic(), NOW).entries
    assert [e.id for e in entries] == ["https://n.example/c", "https://n.example/a", "https://n.example/b"]


def test_quality_and_heat_sorts_put_unknown_values_last() -> None:
    records = [
        make_record(id="https://n.example/low", quality=10.0, heat=None),
        make_record(id="https://n.example/none", quality=None, heat=5.0),
        make_record(id="https://n.example/high", quality=90.0, heat=1.0),
    ]
    by_quality = select(records, topic(sort="quality"), NOW).entries
    assert [e.id.rsplit("/", 1)[1] for e in by_quality] == ["high", "low", "none"]
    by_heat = select(records, topic(sort="heat"), NOW).entries
    assert [e.id.rsplit("/", 1)[1] for e in by_heat] == ["none", "high", "low"]


def test_limit_cuts_and_reports_what_it_cut() -> None:
    records = [make_record(id=f"https://n.example/{i}", published=NOW - timedelta(hours=i)) for i in range(5)]
    selection = select(records, topic(limit=2), NOW)
    assert [e.id for e in selection.entries] == ["https://n.example/0", "https://n.example/1"]
    assert len(selection.admitted) == 5 and selection.full
    assert select(records, topic(limit=0), NOW).entries == ()


def test_duplicates_keep_the_latest_edit_whatever_the_file_order() -> None:
    old = make_record(key="1.txt", title="Old title")
    new = make_record(key="2.txt", title="New title", updated=NOW)
    for records in ([old, new], [new, old]):
        selection = select(records, topic(), NOW)
        assert [e.title for e in selection.entries] == ["New title"]
        assert selection.duplicates == ((old, new),)


def test_entries_mode_adds_related_articles_once() -> None:
    record = make_record()
    also = make_record(key="b.txt", id="https://n.example/other", title="Other")
    entries = select([record, also], topic(related="entries"), NOW).entries
    related = [e for e in entries if e.via is not None]
    assert [(e.id, e.via) for e in related] == [("https://other.example/b", record.link)]
    assert related[0].title == "Related reading"


def test_entries_mode_prefers_the_record_over_a_related_copy() -> None:
    cited = make_record(key="b.txt", id="https://other.example/b", title="The record itself")
    entries = select([make_record(), cited], topic(related="entries"), NOW).entries
    assert [(e.title, e.via) for e in entries if e.id == "https://other.example/b"] == [
        ("The record itself", None)
    ]


def test_auto_topics_get_unique_safe_slugs(tmp_path: Path) -> None:
    text = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true")
    config = make_config(tmp_path, text)
    records = [
        make_record(topics=("Energy", "Space", "../etc", "SPACE")),
        make_record(topics=("space", "Energy Policy", "CON", "人工知能")),
        make_record(topics=("Energy-Policy",)),
    ]
    topics = topics_for(config, records)
    assert [t.slug for t in topics][:1] == ["energy"]
    auto = {t.title: t.slug for t in topics if t not in config.topics}
    assert re.fullmatch("etc-[0-9a-f]{8}", auto["../etc"])
    assert re.fullmatch("con-[0-9a-f]{8}", auto["CON"])
    assert auto["SPACE"] == "space"  # one spelling, chosen whatever the order
    assert auto["Energy Policy"] == "energy-policy"  # and "Energy-Policy": one topic
    assert "Energy-Policy" not in auto
    assert auto["人工知能"].startswith("topic-")
    assert len({t.slug for t in topics}) == len(topics)
    assert [t.automatic for t in topics] == [t not in config.topics for t in topics]
    assert topics_for(config, list(reversed(records))) == topics


# Record topics: symbols, separators, case, letters beyond ASCII, scripts without case.
topic_names = st.text(st.sampled_from("aAbBc C+#&@-._éÉßẞ人0"), max_size=10) | st.text(max_size=10)


@given(topic_names, topic_names)
def test_distinct_names_never_share_a_slug(a: str, b: str) -> None:
    assume(topic_key(a) != topic_key(b))
    assert topic_slug(a) != topic_slug(b)


@pytest.mark.parametrize(("a", "b"), [("COVID-19", "covid 19"), ("Energy-policy", "energy policy")])
def test_names_that_differ_by_a_hyphen_for_a_space_are_one_topic(auto_config: Config, a: str, b: str) -> None:
    assert topic_key(a) == topic_key(b) and topic_slug(a) == topic_slug(b)
    plan = plan_topics(auto_config, {a.casefold(): (a, 2), b.casefold(): (b, 1)})
    made = [t for t in plan.topics if t.automatic]
    assert len(made) == 1 and made[0].slug == a.casefold().replace(" ", "-")
    assert set(made[0].match) == {a.casefold(), b.casefold()}


@given(topic_names)
def test_a_slug_is_usable_and_made_from_the_casefolded_name_alone(name: str) -> None:
    slug = topic_slug(name)
    assert is_slug(slug) and site_file_taken(slug) is None
    assert topic_slug(name.casefold()) == slug
    other = name.swapcase()
    if other.casefold() == name.casefold():  # another spelling of the same topic
        assert topic_slug(other) == slug


@pytest.mark.parametrize(
    ("name", "taken", "base"),
    [
        ("C++", (), "c-plus-plus"),
        ("C#", (), "c-sharp"),
        ("AT&T", (), "at-and-t"),
        ("COVID--19", (), "covid-19"),  # two hyphens: "covid 19" is spelt covid-19
        ("-covid", (), "covid"),
        ("Zürich", (), "zurich"),
        ("CON", (), "con"),
        ("Index", (), "index"),  # index.html is the site's
        ("Space", ("space",), "space"),  # a configured topic's
        ("report deadbeef", (), "report-deadbeef"),  # would look like a digest
    ],
)
def test_a_name_its_slug_cannot_spell_exactly_gets_a_digest(
    name: str, taken: tuple[str, ...], base: str
) -> None:
    assert re.fullmatch(f"{base}-[0-9a-f]{{8}}", topic_slug(name, taken))
    assert topic_slug("C") == "c" and topic_slug("Climate Change") == "climate-change"
    assert topic_slug("COVID-19") == "covid-19"


@given(st.from_regex(r"[A-Za-z0-9]{1,8}([ -][A-Za-z0-9]{1,8}){0,4}", fullmatch=True))
def test_plain_names_keep_the_slugs_they_always_had(name: str) -> None:
    """ASCII words between single spaces or hyphens, as automatic topics were named
    before a digest was given to the others."""
    slug = name.lower().replace(" ", "-")
    assume(slug not in {"con", "prn", "aux", "nul", "index"} and not re.fullmatch(r"(com|lpt)[0-9]", slug))
    assume(not re.fullmatch(r".+-[0-9a-f]{8}|topic-[0-9a-f]{10}", slug))  # these look like digests
    assert topic_slug(name) == slug


@pytest.fixture(scope="module")
def auto_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    text = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true")
    return make_config(tmp_path_factory.mktemp("auto"), text)


@given(st.lists(topic_names, min_size=1, max_size=5), st.lists(topic_names, max_size=5))
def test_a_topic_s_slug_never_depends_on_which_other_topics_there_are(
    auto_config: Config, mine: list[str], others: list[str]
) -> None:
    def slugs(names: list[str]) -> dict[str, str]:
        plan = plan_topics(auto_config, {n.casefold(): (n, 1) for n in names})
        return {m: t.slug for t in plan.topics if t not in auto_config.topics for m in t.match}

    alone = slugs(mine)
    together = slugs(mine + others)
    assert {key: together[key] for key in alone} == alone
    assert len(set(together.values())) == len(together)


record_ids = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),  # repeats make duplicates
        st.integers(0, 5),  # hours old
        st.integers(0, 100),  # quality
    ),
    max_size=12,
)


@given(record_ids, st.randoms(use_true_random=False), st.sampled_from(["newest", "quality", "heat"]))
def test_selection_does_not_depend_on_file_order(rows, rnd, sort) -> None:  # type: ignore[no-untyped-def]
    records = [
        make_record(
            key=f"{n}.txt",
            id=f"https://n.example/{key}",
            published=NOW - timedelta(hours=hours),
            quality=float(quality),
            heat=float(quality % 7),
        )
        for n, (key, hours, quality) in enumerate(rows)
    ]
    shuffled = list(records)
    rnd.shuffle(shuffled)
    rules = topic(sort=sort, limit=3)
    assert select(records, rules, NOW).entries == select(shuffled, rules, NOW).entries


def test_selection_ignores_records_it_does_not_match() -> None:
    keep = make_record()
    skip = replace(keep, id="https://n.example/x", topics=("Space",))
    assert [e.id for e in select([keep, skip], topic(), NOW).entries] == [keep.id]
