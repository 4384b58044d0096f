"""Which topics a run publishes: the configured ones and, with `auto`, one per record
topic no configured topic matches. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..config import Config, Topic, topic_key, topic_slug
from .model import Record


def topics_for(config: Config, records: Iterable[Record]) -> tuple[Topic, ...]:
    """The configured topics, then with `auto` one per record topic that no configured
    topic matches, each with the defaults; slugs stay unique."""
    return plan_topics(config, record_topic_names(records, config.auto_max_topics_per_record)).topics


def record_topic_names(records: Iterable[Record], per_record: int) -> dict[str, tuple[str, int]]:
    """Every record topic among the first `per_record` of some record, casefolded, with
    one spelling of it (the same whatever the order) and how many records name it there."""
    names: dict[str, tuple[str, int]] = {}
    for record in records:
        for name in record.topics[:per_record]:
            key = name.casefold()
            spelling, count = names.get(key, (name, 0))
            names[key] = (min(spelling, name), count + 1)
    return names


def too_many_topics(topics: Sequence[str], per_record: int) -> str | None:
    """Why only some of a record's topics can make automatic topics, or None."""
    if len(topics) <= per_record:
        return None
    return (
        f"{len(topics)} topics; only the first {per_record} can make automatic topics "
        "(auto_max_topics_per_record)"
    )


@dataclass(frozen=True, slots=True)
class TopicPlan:
    """The topics a run publishes, and the automatic ones the ceiling left out."""

    topics: tuple[Topic, ...]
    wanted: int  # record topics that want an automatic feed
    left_out: tuple[str, ...]  # their spellings, in name order


def plan_topics(config: Config, names: Mapping[str, tuple[str, int]]) -> TopicPlan:
    """The configured topics, then with `auto` one per record topic that no configured
    topic matches (`names`: casefolded topic -> (spelling, records)), each with the
    defaults; slugs stay unique. Past `auto_max_topics`, the topics fewest records
    name are left out, ties by name; retired slugs are never made."""
    topics = list(config.topics)
    if not config.auto:
        return TopicPlan(tuple(topics), 0, ())
    matched = {name for topic in topics for name in topic.match}
    # Record topics that are spellings of one (topic_key: "covid-19", "covid 19") make
    # one topic, which takes every spelling not matched by a configured topic.
    groups: dict[str, list[str]] = {}
    for name in sorted(names.keys() - matched):
        groups.setdefault(topic_key(name), []).append(name)
    # A topic's slug is made from its name (and the configured slugs) alone: which other
    # topics there are, which the ceiling leaves out or which are retired, never changes
    # it, so a slug never passes from one topic to another.
    slugs: dict[str, str] = {}
    configured = {topic.slug for topic in topics}
    taken = set(configured)
    for key in sorted(groups):
        base = topic_slug(key, configured)
        slug, n = base, 2
        while slug in taken:  # two names with one digest: not met in practice, but never one file
            slug, n = f"{base[:60]}-{n}", n + 1
        taken.add(slug)
        slugs[key] = slug
    counts = {key: sum(names[n][1] for n in group) for key, group in groups.items()}
    spelling = {key: min(names[n][0] for n in group) for key, group in groups.items()}
    wanted = [key for key, slug in slugs.items() if slug not in config.retire]
    kept = set(sorted(wanted, key=lambda k: (-counts[k], k))[: config.auto_max_topics])
    for key in wanted:
        if key in kept:
            name = spelling[key]
            title = f"{config.site.title}: {name}"
            match = tuple(groups[key])
            topics.append(Topic(slugs[key], name, title, match, config.defaults, automatic=True))
    left_out = tuple(spelling[k] for k in wanted if k not in kept)
    return TopicPlan(tuple(topics), len(wanted), left_out)
