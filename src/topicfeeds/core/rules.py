"""The rules a topic admits records by, each declaring the record fields it reads.
Pure: no I/O, no clock.

`RULES` holds them in the order `exclusion` checks them: the first that fails is the
reason `explain` reports, and every reason starts with the rule's name ("types: ...").
A rule declares the `Record` fields it reads (`reads`) and whether a topic's settings
turn it on (`applies`), so `fields_read` and `needs_whole` tell the build which topics
must see whole records: a light record (see records/codec.py) has every field but
`images` and `related` (`LIGHT_FIELDS`).

Adding a rule touches exactly these files:

- here: its check, a function `(record, topic, now) -> str | None` giving why it
  excludes `record` ("<name>: ...") or None, and its `Rule(name, reads, check, applies)`
  in `RULES`, where `explain` should report it;
- config: its setting, a field of `Rules` whose default leaves the rule off, and the
  key the config checker reads into it;

and nothing else in the code: exclusion, explain, the Shortlist, next_release, the
incremental proofs and the build's choice of whole records read `RULES`, and the
state's fingerprint covers every field of `Rules`. (Its tests: a topic that turns it on
in tests/test_rules.py, which then checks that it reads no field it does not declare;
its setting's documentation for users.) A check answers from the record and the
topic's settings alone, never from `now`: the incremental proofs take an unchanged
record to be admitted as before, and only the two rules that change with time,
`max_age_days` and `future`, are known to schedule.py (`due_at`) and the Shortlist.

A rule can also be added while the program runs, as a test does:
`with RULES.registered(rule): ...`, or `RULES.register(rule)` and `RULES.remove(name)`.
The registry is not locked: change it before records are selected, not during.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from ..config import MATCH_ALL, Topic
from .model import Record

Check = Callable[[Record, Topic, datetime], "str | None"]
"""Why a rule excludes a record from a topic at the run's time, or None when it admits it."""

# The extra part of a stored record (records/codec.py): read only for records that
# reach a feed, or for topics whose rules read them.
_EXTRA_FIELDS = frozenset({"images", "related"})
_RECORD_FIELDS = frozenset(f.name for f in fields(Record))

LIGHT_FIELDS: frozenset[str] = _RECORD_FIELDS - _EXTRA_FIELDS
"""The `Record` fields a light record has: every field but `images` and `related`."""


def _always(topic: Topic) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: what it is called, what it reads, how it decides."""

    name: str  # as explain reports it: each reason starts "<name>: "
    reads: frozenset[str]  # the `Record` fields `check` looks at
    check: Check
    # Whether a topic's settings turn the rule on. When not, `check` must admit every
    # record by itself: `exclusion` does not ask, to spare the hot path a call per rule.
    applies: Callable[[Topic], bool] = _always


FUTURE = "future"  # the rule the Shortlist and next_release reason about apart (see held_until)


class RuleRegistry:
    """The rules in the order they are checked, and their checks as the hot path runs
    them (kept as tuples, made again only when a rule is added or removed)."""

    __slots__ = ("_rules", "checks", "present")

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._set(tuple(rules))

    def _set(self, rules: tuple[Rule, ...]) -> None:
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ValueError(f"two rules share a name among {', '.join(names)}")
        for rule in rules:
            unknown = rule.reads - _RECORD_FIELDS
            if unknown:  # a misspelt field would make needs_whole answer wrongly
                raise ValueError(f"rule {rule.name!r} reads {', '.join(sorted(unknown))}: not a Record field")
        self._rules = rules
        self.checks: tuple[Check, ...] = tuple(rule.check for rule in rules)  # what exclusion runs
        # What a record held for its date must pass to be taken: see exclusion_but_future.
        self.present: tuple[Check, ...] = tuple(rule.check for rule in rules if rule.name != FUTURE)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    @property
    def names(self) -> tuple[str, ...]:
        """The rules' names, in order."""
        return tuple(rule.name for rule in self._rules)

    def register(self, rule: Rule, *, before: str | None = None) -> None:
        """Add `rule`, last or just before the rule named `before`."""
        rules = list(self._rules)
        if rule.name in self.names:
            raise ValueError(f"a rule named {rule.name!r} is already registered")
        if before is None:
            rules.append(rule)
        elif before in self.names:
            rules.insert(self.names.index(before), rule)
        else:
            raise ValueError(f"no rule named {before!r} to register {rule.name!r} before")
        self._set(tuple(rules))

    def remove(self, name: str) -> Rule:
        """Remove the rule named `name`, and give it back."""
        for rule in self._rules:
            if rule.name == name:
                self._set(tuple(r for r in self._rules if r is not rule))
                return rule
        raise ValueError(f"no rule named {name!r} to remove")

    @contextmanager
    def registered(self, rule: Rule, *, before: str | None = None) -> Iterator[Rule]:
        """`rule` registered for the length of a `with` block."""
        self.register(rule, before=before)
        try:
            yield rule
        finally:
            self.remove(rule.name)


def fields_read(topic: Topic) -> frozenset[str]:
    """The `Record` fields `topic`'s rules read: those of the rules its settings turn on."""
    return frozenset().union(*(rule.reads for rule in RULES if rule.applies(topic)))


def needs_whole(topic: Topic) -> bool:
    """Whether `topic`'s rules read a field light records lack (images, related)."""
    return not fields_read(topic) <= LIGHT_FIELDS


def exclusion(record: Record, topic: Topic, now: datetime) -> str | None:
    """Why `topic`'s rules exclude `record`, or None when they admit it."""
    # Hot path: runs for every record a topic may take.
    for check in RULES.checks:
        reason = check(record, topic, now)
        if reason is not None:
            return reason
    return None


def exclusion_but_future(record: Record, topic: Topic, now: datetime) -> str | None:
    """Why every rule but `future` excludes `record`: whether a record held for its
    date would be taken at all."""
    for check in RULES.present:
        reason = check(record, topic, now)
        if reason is not None:
            return reason
    return None


# -- the rules


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
RULES = RuleRegistry(
    (
        Rule("topics", frozenset({"topics"}), _match, lambda t: MATCH_ALL not in t.match),
        Rule("published", frozenset({"is_published"}), _published, lambda t: t.rules.published_only),
        Rule("types", frozenset({"type"}), _types, lambda t: bool(t.rules.types)),
        Rule("categories", frozenset({"category"}), _categories, lambda t: bool(t.rules.categories)),
        Rule("min_quality", frozenset({"quality"}), _min_quality, lambda t: t.rules.min_quality is not None),
        Rule(
            "providers",
            frozenset({"provider"}),
            _providers,
            lambda t: bool(t.rules.providers_include or t.rules.providers_exclude),
        ),
        Rule(
            "keywords",
            frozenset({"title", "excerpt"}),
            _keywords,
            lambda t: bool(t.rules.keywords_include or t.rules.keywords_exclude),
        ),
        Rule("max_age_days", frozenset({"published"}), _max_age, lambda t: t.rules.max_age_days is not None),
        Rule(FUTURE, frozenset({"published"}), _future, lambda t: t.rules.future != "publish"),
    )
)
