"""Choosing from a stream of records without holding them all: a `Shortlist` keeps
the admitted records that can reach a topic's feed, and says when what it kept gives
the feed choosing from every record gives. Pure: no I/O, no clock.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Protocol

from ..config import Sort, Topic
from .model import Record
from .rules import exclusion, exclusion_but_future
from .select import Selection, SortKey, Whole, content_key, order_key, select, sort_key


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
    return sort_key(sort, c.published_micros / 1_000_000, c.quality, c.heat, c.id)


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
                    if exclusion_but_future(record, self.topic, self.now) is None:
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
