"""Per-topic selection: records and a topic in, ordered entries out. Pure: no I/O, no clock."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Protocol

from ..config import MATCH_ALL, Config, Sort, Topic, topic_key, topic_slug
from .model import EMPTY_FEED_TIME, Entry, Record, entry_hash, entry_of, entry_of_related

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
        return _sort_key(sort, item.published.timestamp(), item.quality, item.heat, item.id)

    return key


def _sort_key(sort: Sort, timestamp: float, quality: float | None, heat: float | None, id_: str) -> SortKey:
    """Where an item ranks under `sort`, from its date (seconds since the epoch) and
    values: shared by `order_key` and `rank`, so the two always agree."""
    newest = -timestamp
    if sort == "newest":
        return (newest, 0.0, id_)
    value = quality if sort == "quality" else heat
    return (-value if value is not None else float("inf"), newest, id_)


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


# -- choosing from a stream of records without holding them all


def shortlist_room(topic: Topic) -> int:
    """How many admitted records a `Shortlist` keeps for `topic`: its limit and a
    margin for the copies of one article that take a place each."""
    return topic.rules.limit + topic.rules.limit // 4 + 8


class Candidate(Protocol):
    """A record as a `Shortlist` first sees it: what ranks it, and the whole record
    on demand (see `Shortlist.consider`: most records are never asked for it)."""

    @property
    def id(self) -> str: ...
    @property
    def published_micros(self) -> int: ...  # microseconds since the epoch
    @property
    def quality(self) -> float | None: ...
    @property
    def heat(self) -> float | None: ...
    def record(self) -> Record: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


class _Given:
    """A whole record as a `Candidate`."""

    __slots__ = ("_record", "heat", "id", "published_micros", "quality")

    def __init__(self, record: Record) -> None:
        self._record = record
        self.id = record.id
        self.published_micros = (record.published - _EPOCH) // _MICRO
        self.quality = record.quality
        self.heat = record.heat

    def record(self) -> Record:
        return self._record


def rank(candidate: Candidate, sort: Sort) -> SortKey:
    """`order_key(sort)` of the candidate's record, without making the record: the
    microseconds divided as `datetime.timestamp` divides them, to the same float."""
    c = candidate
    return _sort_key(sort, c.published_micros / 1_000_000, c.quality, c.heat, c.id)


class Shortlist:
    """What `select` needs of one topic's records, gathered from a stream of them
    (`offer` each record the topic can match) while holding only a bounded number:
    the admitted records that rank best, the best rank of any admitted record let go
    (`cut`), and the held record released first.

    Any article none of whose copies is kept ranks at or below `cut`, whichever copy
    wins. So choosing from the kept records and every copy of their articles gives
    `select`'s answer over all records when `holds` says so (see there). A topic with
    max_age_days (whose next change depends on every admitted record) or related
    articles as entries (which compete with the records for places) keeps every
    admitted record."""

    __slots__ = ("_floor", "_held_until", "_hold_future", "_key", "_now", "_seq", "_skew", "_sort",
                 "cut", "everything", "held", "kept", "now", "room", "topic")  # fmt: skip

    def __init__(self, topic: Topic, now: datetime, room: int | None = None) -> None:
        self.topic = topic
        self.now = now
        self.room = shortlist_room(topic) if room is None else room
        rules = topic.rules
        self.everything = rules.max_age_days is not None or rules.related == "entries"
        self._key = order_key(rules.sort)
        self._sort = rules.sort
        self._seq = 0
        self.kept: list[tuple[SortKey, int, Record]] = []  # best first
        self.cut: SortKey | None = None
        self.held: Record | None = None  # see next_release
        # The same instants as microseconds since the epoch, compared without datetimes.
        self._now = (now - _EPOCH) // _MICRO
        self._hold_future = rules.future != "publish"
        self._skew = timedelta(minutes=rules.clock_skew_minutes) // _MICRO  # as held_until subtracts it
        self._held_until: int | None = None  # held_until(self.held), in microseconds
        self._floor: SortKey | None = None  # see _settle

    def offer(self, record: Record) -> None:
        """Consider one record the topic may select."""
        self.consider(_Given(record))

    def consider(self, candidate: Candidate) -> None:
        """Consider one record the topic may select, given as a `Candidate`: the
        whole record is asked for only when the rules must look at it.

        Which records `offer` keeps, what it lets go (`cut`) and what it holds
        (`held`) are what running every rule on each record would give, by two cases
        that need no rule at all:

        - A record dated after `now` by more than the clock-skew tolerance, in a topic
          that holds such records, fails the `future` rule whatever the others say:
          it is never kept nor let go. It changes only `held`, and only when its
          release time comes before the held record's and the other rules admit it:
          the rules run for those alone.
        - Otherwise `future` admits it (it is not dated ahead, or not by more than
          the tolerance, or the topic publishes such records). When every place is
          taken (and the topic does not keep every admitted record), something was
          already let go (`cut` is set) and its sort key ranks at or below both the
          last kept record and `cut`, then were the rules to admit it, it would be let
          go and `cut` would stay as it is (the lower key of the two); were they to
          exclude it, it would be dropped. Either way nothing changes: it is skipped.
          (The higher of those two keys is kept as `_floor`; the first part of a sort
          key, one number, mostly settles the comparison without the rest.)
        """
        published = candidate.published_micros
        if self._hold_future and published > self._now:
            until = published - self._skew
            if until > self._now:
                if self._held_until is None or until < self._held_until:
                    record = candidate.record()
                    if all(rule(record, self.topic, self.now) is None for rule in _PRESENT_RULES):
                        self.held, self._held_until = record, until
                return
        floor = self._floor
        if floor is not None:
            # The first part of `rank` alone settles most: one number, no tuple.
            if self._sort == "newest":
                first = -(published / 1_000_000)
            else:
                value = candidate.quality if self._sort == "quality" else candidate.heat
                first = -value if value is not None else float("inf")
            if first > floor[0]:
                return
        key = rank(candidate, self._sort)
        if floor is not None and key >= floor:
            return
        record = candidate.record()
        if exclusion(record, self.topic, self.now) is not None:
            return
        kept = self.kept
        if not self.everything and len(kept) >= self.room:
            if not kept or key >= kept[-1][0]:
                self._let_go(key)
                return
            self._let_go(kept.pop()[0])
        self._seq += 1
        bisect.insort(kept, (key, self._seq, record))
        self._settle()

    def _let_go(self, key: SortKey) -> None:
        if self.cut is None or key < self.cut:
            self.cut = key
        self._settle()

    def _settle(self) -> None:
        # The key at or below which a record can change nothing (see `consider`):
        # set once every place is taken and something was let go.
        kept, cut = self.kept, self.cut
        if cut is None or self.everything or len(kept) < self.room:
            self._floor = None
        else:
            self._floor = max(cut, kept[-1][0]) if kept else cut

    @property
    def records(self) -> list[Record]:
        """The admitted records kept, best ranked first."""
        return [record for _, _, record in self.kept]

    @property
    def ids(self) -> set[str]:
        """The articles of the records kept."""
        return {record.id for _, _, record in self.kept}

    def holds(self, selection: Selection) -> bool:
        """Whether `selection`, chosen from the kept records and every copy of their
        articles, is what choosing from every record offered would give: yes when no
        admitted record was let go, or when the feed is full of entries that all rank
        above `cut` (an article with no copy kept ranks at or below it)."""
        if self.cut is None:
            return True
        if not selection.full:
            return False
        if not selection.entries:  # limit 0
            return True
        return self._key(selection.entries[-1]) < self.cut


def shortlisted(
    shortlist: Shortlist,
    copies: Callable[[set[str]], Sequence[Record]],
    *,
    content: Callable[[Record], str] = content_key,
    whole: Whole | None = None,
) -> tuple[Selection, list[Record]] | None:
    """`select` over `shortlist`'s records and every copy of their articles (`copies`
    gives every record of a set of ids), with the records `due_at` needs to see; None
    when that may not be what choosing from every record offered gives."""
    topic = shortlist.topic
    records = list(copies(shortlist.ids))
    selection = select(records, topic, shortlist.now, content=content, whole=whole)
    if not shortlist.holds(selection):
        return None
    held = [] if shortlist.held is None else [shortlist.held]
    return selection, [*records, *held]


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
    its records again. `changed` may leave out the articles none of whose records the
    topic's `match` takes now (see `changes_for`): the topic admits none of them.

    Every other article kept all its copies, so it is admitted as before and ranks
    where it did: below the last feed's floor when it was cut. Whether the answer holds
    is known only after choosing from these: see `update_holds`. In "entries" mode
    related articles, which no record id names, compete for places: choose again."""
    if last is None or topic.rules.related == "entries":
        return None
    return last.ids | frozenset(changed)


ChangesByTopic = Mapping[str, frozenset[str]]
"""Changed articles (ids) by the casefolded record topics of their records now."""


def changes_by_topic(records: Iterable[Record]) -> ChangesByTopic:
    """The articles of `records` (every copy there is now of the changed articles)
    under each record topic a copy names: made once a run for every topic's
    `changes_for`, so that a topic looks only at the changes its `match` can take."""
    found: dict[str, set[str]] = {}
    for record in records:
        for name in record.topics:
            found.setdefault(name.casefold(), set()).add(record.id)
    return {name: frozenset(ids) for name, ids in found.items()}


def changes_for(topic: Topic, changed: Iterable[str], by_topic: ChangesByTopic) -> frozenset[str]:
    """Of the articles `changed`, those with a record `topic`'s `match` takes now (all
    of them for "*", which takes records without topics too). The others have no copy
    the topic can admit: leaving them out changes nothing it selects."""
    if MATCH_ALL in topic.match:
        return frozenset(changed)
    taken: set[str] = set()
    for name in topic.match:
        taken |= by_topic.get(name, frozenset())
    return frozenset(taken.intersection(changed))


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


def next_release(records: Iterable[Record], topic: Topic, now: datetime) -> datetime | None:
    """When the first record `topic` holds for its future date, and would otherwise
    take, may be published; None when it holds none."""
    if topic.rules.future == "publish":
        return None
    first: datetime | None = None
    for record in records:
        if record.published <= now:
            continue
        until = held_until(record, topic)
        if until is None or until <= now or (first is not None and until >= first):
            continue
        if all(rule(record, topic, now) is None for rule in _PRESENT_RULES):
            first = until
    return first


def due_at(kept: Iterable[Record], records: Iterable[Record], topic: Topic, now: datetime) -> datetime | None:
    """When time alone next changes what `topic` selects from `records`, of which it
    admitted `kept`: a record ages past max_age_days or a held record's time comes."""
    times = [t for t in (valid_until(kept, topic), next_release(records, topic, now)) if t is not None]
    return min(times, default=None)


def as_of(entries: Iterable[Entry], now: datetime | None) -> tuple[Entry, ...]:
    """Entries as a feed built at `now` shows them: an `updated` time still to come
    (a record's updatedDateTime ahead of the clock) is not shown yet, the entry keeps
    its publication time until then (`next_change` makes the topic due at that time).
    A value that does not depend on the run's exact time keeps the feed byte-stable.
    With `now` None, entries are shown as they are."""
    if now is None:
        return tuple(entries)
    return tuple(e if e.updated <= now else replace(e, updated=e.published) for e in entries)


def next_change(entries: Iterable[Entry], now: datetime) -> datetime | None:
    """The first time after `now` at which `as_of` or `feed_updated` would show these
    entries differently."""
    return min((t for e in entries for t in (e.published, e.updated) if t > now), default=None)


def feed_updated(entries: Iterable[Entry], now: datetime | None) -> datetime:
    """A feed's own time: its newest entry's that is not later than the run's (an entry
    dated within the clock-skew tolerance ahead counts from its time on); with `now`
    None, its newest entry's."""
    return max((e.updated for e in entries if now is None or e.updated <= now), default=EMPTY_FEED_TIME)


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
