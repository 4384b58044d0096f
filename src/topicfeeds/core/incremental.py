"""Bringing a feed up to date from the last one: which articles may change a topic's
feed when only some records changed, and whether the feed chosen from those alone is
what choosing from every record gives. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..config import MATCH_ALL, Topic
from .model import Record
from .select import Selection, SortKey, order_key


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
