"""The rules a topic admits records by, in the order `explain` reports them.
Pure: no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from ..config import MATCH_ALL, Topic
from .model import Record

Rule = Callable[[Record, Topic, datetime], "str | None"]


def _names(values: Iterable[str]) -> str:
    return ", ".join(values) or "none"


def _match(record: Record, topic: Topic, now: datetime) -> str | None:
    if MATCH_ALL in topic.match or any(t.casefold() in topic.match for t in record.topics):
        return None
    return f"topics: {_names(record.topics)} not among {_names(topic.match)}"


def _published(record: Record, topic: Topic, now: datetime) -> str | None:
    if topic.rules.published_only and not record.is_published:
        return "published: the record says published: false"
    return None


def _types(record: Record, topic: Topic, now: datetime) -> str | None:
    wanted = topic.rules.types
    if wanted and (record.type or "").casefold() not in wanted:
        return f"types: {record.type or 'no type'!s} is not one of {_names(wanted)}"
    return None


def _categories(record: Record, topic: Topic, now: datetime) -> str | None:
    wanted = topic.rules.categories
    if wanted and (record.category or "").casefold() not in wanted:
        return f"categories: {record.category or 'no category'!s} is not one of {_names(wanted)}"
    return None


def _min_quality(record: Record, topic: Topic, now: datetime) -> str | None:
    floor = topic.rules.min_quality
    if floor is None:
        return None
    if record.quality is None:
        return f"min_quality: the record gives no quality (needs {floor:g})"
    if record.quality < floor:
        return f"min_quality: quality {record.quality:g} is below {floor:g}"
    return None


def _provider_keys(record: Record) -> set[str]:
    if record.provider is None:
        return set()
    keys = {record.provider.name.casefold()}
    if record.provider.url:
        host = record.provider.url.split("/")[2]
        keys |= {host, host.removeprefix("www.")}
    return keys


def _providers(record: Record, topic: Topic, now: datetime) -> str | None:
    rules = topic.rules
    if not rules.providers_include and not rules.providers_exclude:
        return None  # most topics: no provider's keys to make
    name = record.provider.name if record.provider else "no provider"
    keys = _provider_keys(record)
    if rules.providers_include and not keys & set(rules.providers_include):
        return f"providers: {name} is not among {_names(rules.providers_include)}"
    if keys & set(rules.providers_exclude):
        return f"providers: {name} is excluded"
    return None


@lru_cache(maxsize=256)
def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words, even for terms that start or end in punctuation ("c++").
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _keywords(record: Record, topic: Topic, now: datetime) -> str | None:
    rules = topic.rules
    if not rules.keywords_include and not rules.keywords_exclude:
        return None  # most topics: no text to join
    text = f"{record.title}\n{record.excerpt}"
    if rules.keywords_include and not _words(rules.keywords_include).search(text):
        return f"keywords: none of {_names(rules.keywords_include)} in title or excerpt"
    if rules.keywords_exclude:
        found = _words(rules.keywords_exclude).search(text)
        if found:
            return f"keywords: excluded word {found.group(0)!r} in title or excerpt"
    return None


def _max_age(record: Record, topic: Topic, now: datetime) -> str | None:
    days = topic.rules.max_age_days
    if days is not None and now - record.published > timedelta(days=days):
        return (
            f"max_age_days: published {record.published:%Y-%m-%d}, "
            f"more than {days:g} days before {now:%Y-%m-%d}"
        )
    return None


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def held_until(record: Record, topic: Topic) -> datetime | None:
    """When a record dated after the run's time may be published: its date less the
    tolerance for clock skew. None when the topic publishes such records at once."""
    if topic.rules.future == "publish":
        return None
    return record.published - timedelta(minutes=topic.rules.clock_skew_minutes)


def _future(record: Record, topic: Topic, now: datetime) -> str | None:
    if record.published <= now:  # nearly every record: no date arithmetic for them
        return None
    until = held_until(record, topic)
    if until is not None and until > now:
        return f"future: dated {_utc(record.published)}, held until {_utc(until)}"
    return None


# In the order `explain` reports them: the first rule that fails is the reason.
RULES: tuple[Rule, ...] = (
    _match,
    _published,
    _types,
    _categories,
    _min_quality,
    _providers,
    _keywords,
    _max_age,
    _future,
)
_PRESENT_RULES = tuple(rule for rule in RULES if rule is not _future)


def exclusion(record: Record, topic: Topic, now: datetime) -> str | None:
    """Why `topic`'s rules exclude `record`, or None when they admit it."""
    for rule in RULES:
        reason = rule(record, topic, now)
        if reason is not None:
            return reason
    return None


def exclusion_but_future(record: Record, topic: Topic, now: datetime) -> str | None:
    """Why every rule but `future` excludes `record`: whether a record held for its
    date would be taken at all."""
    for rule in _PRESENT_RULES:
        reason = rule(record, topic, now)
        if reason is not None:
            return reason
    return None
