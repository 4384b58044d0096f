"""Due times: when time alone next changes what a topic publishes, and how a feed
built at a given time shows its entries. Pure: the run's time is given, never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from ..config import Topic
from .model import EMPTY_FEED_TIME, Entry, Record
from .rules import exclusion_but_future, held_until


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
        if exclusion_but_future(record, topic, now) is None:
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
