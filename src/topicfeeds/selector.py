"""Per-topic selection: records and a topic in, ordered entries out. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

from .config import MATCH_ALL, Config, Sort, Topic, slugify
from .model import Entry, Record, entry_hash, entry_of, entry_of_related

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
)


def exclusion(record: Record, topic: Topic, now: datetime) -> str | None:
    """Why `topic`'s rules exclude `record`, or None when they admit it."""
    for rule in RULES:
        reason = rule(record, topic, now)
        if reason is not None:
            return reason
    return None


def _copy_preference(record: Record) -> tuple[float, float]:
    # Of several records of one article: the latest edit, then the best.
    quality = record.quality if record.quality is not None else float("-inf")
    return (-record.updated.timestamp(), -quality)


def content_key(record: Record) -> str:
    """A digest of what a record publishes: the tie-break between equal copies."""
    return entry_hash(entry_of(record))


def _best_copy(copies: list[Record], content: Callable[[Record], str]) -> Record:
    # On a tie what the copies publish decides, and the file name only between copies
    # that publish the same: renaming files never changes what subscribers see.
    return min(copies, key=lambda r: (_copy_preference(r), content(r), r.key))


class _Sortable(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def quality(self) -> float | None: ...
    @property
    def heat(self) -> float | None: ...


SortKey = tuple[float, float, str]
"""Where an entry ranks under a topic's `sort` rule: lower ranks first; unique per id."""


def order_key(sort: Sort) -> Callable[[_Sortable], SortKey]:
    """The sort key of a topic's `sort` rule, for records and entries alike."""

    def key(item: _Sortable) -> SortKey:
        newest = -item.published.timestamp()
        if sort == "newest":
            return (newest, 0.0, item.id)
        value = item.quality if sort == "quality" else item.heat
        return (-value if value is not None else float("inf"), newest, item.id)

    return key


@dataclass(frozen=True, slots=True)
class Selection:
    """What one topic publishes, and what it left out and why."""

    topic: Topic
    entries: tuple[Entry, ...]  # in feed order
    admitted: tuple[Record, ...]  # one copy per article, as given (whole or light)
    duplicates: tuple[tuple[Record, Record], ...]  # (dropped copy, kept copy)

    @property
    def full(self) -> bool:
        """Whether the feed is full: entries it could not take were cut."""
        return len(self.entries) >= self.topic.rules.limit


def admit(
    records: Iterable[Record], topic: Topic, now: datetime, content: Callable[[Record], str] = content_key
) -> tuple[list[Record], list[tuple[Record, Record]]]:
    """The records `topic`'s rules admit, one copy per article, and the (dropped, kept)
    pairs of duplicate copies; `content` gives a copy's `content_key`."""
    copies: dict[str, list[Record]] = {}
    for record in records:
        if exclusion(record, topic, now) is None:
            copies.setdefault(record.id, []).append(record)
    kept: list[Record] = []
    duplicates: list[tuple[Record, Record]] = []
    for group in copies.values():
        best = group[0] if len(group) == 1 else _best_copy(group, content)
        kept.append(best)
        duplicates.extend((other, best) for other in group if other is not best)
    return kept, duplicates


def arrange(kept: Iterable[Record], topic: Topic) -> tuple[Entry, ...]:
    """The entries admitted records make, in feed order, up to the limit. In "entries"
    mode related articles join them."""
    entries = {record.id: entry_of(record) for record in kept}
    if topic.rules.related == "entries":
        for record in sorted(kept, key=lambda r: (_copy_preference(r), r.id)):
            for related in record.related:
                entry = entry_of_related(related, record)
                if entry is not None:
                    entries.setdefault(entry.id, entry)
    ordered = sorted(entries.values(), key=order_key(topic.rules.sort))
    return tuple(ordered[: topic.rules.limit])


Whole = Callable[[Sequence[Record]], Sequence[Record]]
"""Given records without their images and related articles, the same records whole."""


def select(
    records: Iterable[Record],
    topic: Topic,
    now: datetime,
    *,
    content: Callable[[Record], str] = content_key,
    whole: Whole | None = None,
) -> Selection:
    """The entries `topic` publishes from `records`, in feed order.

    A caller holding light records (what a topic needs to choose, without images and
    related articles) passes `content`, the stored content key of a copy, and `whole`,
    which fetches whole records: only those that can reach the feed are fetched (the
    first `limit` in feed order, or in "entries" mode, where related articles compete
    for places, every admitted one)."""
    kept, duplicates = admit(records, topic, now, content)
    needed: Sequence[Record] = kept
    if whole is not None:
        if topic.rules.related != "entries":
            needed = sorted(kept, key=order_key(topic.rules.sort))[: topic.rules.limit]
        needed = whole(needed)
    return Selection(topic, arrange(needed, topic), tuple(kept), tuple(duplicates))


# -- bringing a feed up to date from the last one


@dataclass(frozen=True, slots=True)
class LastFeed:
    """What a topic's last build published, as far as updating it needs."""

    ids: frozenset[str]  # its entries
    floor: SortKey | None  # its last entry's sort key when it was full; None when not


def last_feed(selection: Selection) -> LastFeed:
    """What to remember of a selection for the next run's `update_candidates`."""
    key = order_key(selection.topic.rules.sort)
    floor = key(selection.entries[-1]) if selection.full and selection.entries else None
    return LastFeed(frozenset(e.id for e in selection.entries), floor)


def update_candidates(last: LastFeed | None, changed: Iterable[str], topic: Topic) -> frozenset[str] | None:
    """The articles (ids) whose records may make `topic`'s new feed when only the
    records of articles `changed` (ids of every added, edited or removed record, before
    and after) differ from the last build; None when the topic must choose from all
    its records again.

    Every other article kept all its copies, so it is admitted as before and ranks
    where it did: below the last feed's floor when it was cut. Whether the answer holds
    is known only after choosing from these: see `update_holds`. In "entries" mode
    related articles, which no record id names, compete for places: choose again."""
    if last is None or topic.rules.related == "entries":
        return None
    return last.ids | frozenset(changed)


def update_holds(last: LastFeed, selection: Selection) -> bool:
    """Whether `selection`, chosen from `update_candidates`' articles alone, is what
    choosing from every record would give. Articles left out were either never
    admitted or cut below the last feed's floor, so the answer is yes when nothing was
    cut last time, or when the new feed is full again with entries that all rank at or
    above that floor (an article that left or fell opens a place that only a choice
    from every record can fill)."""
    if last.floor is None:
        return True
    if not selection.full:
        return False
    if not selection.entries:  # limit 0: always empty
        return True
    return order_key(selection.topic.rules.sort)(selection.entries[-1]) <= last.floor


def verdict(record: Record, selection: Selection, now: datetime,
            shown: Callable[[str], str] = str) -> str:  # fmt: skip
    """Whether `selection` (chosen from records including `record`) publishes it, and if
    not, why; `shown` names a record file by its key."""
    reason = exclusion(record, selection.topic, now)
    if reason is not None:
        return f"excluded by {reason}"
    for dropped, kept in selection.duplicates:
        if dropped.key == record.key:
            return f"not used: the same article as {shown(kept.key)}, which is kept"
    for position, entry in enumerate(selection.entries, 1):
        if entry.id == record.id:
            return f"selected: entry {position} of {len(selection.entries)}"
    return f"cut: {selection.topic.rules.limit} entries ranked higher fill the limit"


def valid_until(kept: Iterable[Record], topic: Topic) -> datetime | None:
    """When time alone next changes what `topic` selects from these admitted records:
    the first moment one of them grows older than max_age_days. None without that rule."""
    days = topic.rules.max_age_days
    if days is None:
        return None
    return min((r.published + timedelta(days=days) for r in kept), default=None)


def index_by_topic(records: Iterable[Record]) -> dict[str, list[Record]]:
    """Records by casefolded topic name, each list in input order."""
    index: dict[str, list[Record]] = {}
    for record in records:
        for name in record.topics:
            index.setdefault(name.casefold(), []).append(record)
    return index


def candidates(records: Sequence[Record], index: dict[str, list[Record]], topic: Topic) -> Sequence[Record]:
    """The records `topic` can match, found through the index instead of testing
    every record against every topic."""
    if MATCH_ALL in topic.match:
        return records
    if len(topic.match) == 1:
        return index.get(topic.match[0], [])
    found: dict[int, Record] = {}
    for name in topic.match:
        for record in index.get(name, []):
            found.setdefault(id(record), record)
    return list(found.values())


def topics_for(config: Config, records: Iterable[Record]) -> tuple[Topic, ...]:
    """The configured topics, then with `auto` one per record topic that no configured
    topic matches, each with the defaults; slugs stay unique."""
    spellings: dict[str, str] = {}
    for record in records:
        for name in record.topics:
            key = name.casefold()
            spellings[key] = min(spellings.get(key, name), name)  # one spelling, whatever the order
    return topics_from_names(config, spellings)


def topics_from_names(config: Config, spellings: dict[str, str]) -> tuple[Topic, ...]:
    """`topics_for`, given every record topic (casefolded) with its spelling."""
    topics = list(config.topics)
    if not config.auto:
        return tuple(topics)
    matched = {name for topic in topics for name in topic.match}
    taken = {topic.slug for topic in topics}
    for key in sorted(spellings.keys() - matched):
        name = spellings[key]
        base = slugify(name)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base[:60]}-{n}", n + 1
        taken.add(slug)
        topics.append(Topic(slug, name, f"{config.site.title}: {name}", (key,), config.defaults))
    return tuple(topics)
