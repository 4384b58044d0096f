"""The choosing stage: which topics a run publishes, and for each what it publishes.

A topic whose last feed is known and whose records changed little is brought up to
date from that feed and the changed articles alone (see selector.update_candidates);
otherwise it chooses from all its records, through a shortlist. Its entries then get
their history (an edited entry's `updated` moves), and its due time is found: when
time alone changes what it selects.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime

from ..config import Config, Topic
from ..core.history import with_history
from ..core.incremental import LastFeed, changes_by_topic, changes_for, update_candidates, update_holds
from ..core.model import Entry, Record
from ..core.schedule import as_of, due_at, next_change
from ..core.select import Selection
from ..core.shortlist import Shortlist
from ..core.topics import plan_topics, record_topic_names
from ..errors import Problem, display_path
from ..records.codec import micros
from ..store import Store
from .view import RecordView


@dataclass(frozen=True, slots=True)
class Plan:
    """How a topic's new feed is chosen."""

    last: LastFeed | None  # what its last feed published; None: chosen afresh
    ids: frozenset[str] | None  # the articles it is chosen from; None: from all its records


@dataclass(frozen=True, slots=True)
class Choice:
    """What one topic selected, and from what."""

    selection: Selection
    records: Sequence[Record]  # those its due time is found from
    narrow: bool  # chosen from only some of its records


@dataclass(frozen=True, slots=True)
class Feed:
    """What one topic's files are made of."""

    topic: Topic
    entries: tuple[Entry, ...]  # as the feed shows them, with their history
    updated: datetime  # the feed's own time
    prev_archive: str | None  # the URL of its newest archive page, if it is archived


def run_topics(
    config: Config, store: Store, extra: Sequence[Record] = ()
) -> tuple[list[Topic], tuple[Problem, ...]]:
    """Every topic there is (with `auto`, one per record topic the store holds, within
    the bounds), counting the records' topics of `extra` too; and a warning when the
    ceiling of automatic topics left some out."""
    names = dict(store.topic_names(config.auto_max_topics_per_record)) if config.auto else {}
    for key, (spelling, count) in record_topic_names(extra, config.auto_max_topics_per_record).items():
        known, known_count = names.get(key, (spelling, 0))
        names[key] = (min(known, spelling), known_count + count)
    plan = plan_topics(config, names)
    notes = (_ceiling_warning(config, plan.wanted, plan.left_out),) if plan.left_out else ()
    return list(plan.topics), notes


def plans(
    view: RecordView,
    store: Store,
    topics: Sequence[Topic],
    *,
    full: bool,
    expired: Set[str],
    changed: Set[str],
) -> dict[str, Plan]:
    """How each of `topics` is chosen: from its last feed and the `changed` articles
    it can match, unless the run is `full`, the topic `expired`, or it has no last feed."""
    lasts = {t.slug: None if full or t.slug in expired else store.last_feed(t.slug) for t in topics}
    # The changed articles by record topic, once for every topic (see selector.changes_for).
    by_topic = changes_by_topic(view.copies(changed)) if any(lasts.values()) else {}
    found = {}
    for topic in topics:
        last = lasts[topic.slug]
        if last is None:
            found[topic.slug] = Plan(None, None)
        else:
            found[topic.slug] = Plan(
                last, update_candidates(last, changes_for(topic, changed, by_topic), topic)
            )
    return found


def choose(view: RecordView, topic: Topic, plan: Plan, shortlists: dict[str, Shortlist]) -> Choice:
    """`topic`'s selection: from its last feed and the changed articles when that
    holds, else from all its records, through its shortlist (taken from `shortlists`,
    or filled for it alone)."""
    last, ids = plan.last, plan.ids
    if last is not None and ids is not None:
        records = view.copies_for(topic, ids)
        selection = view.select(topic, records)
        if update_holds(last, selection):
            return Choice(selection, records, narrow=True)
        # else a place opened that only the others can fill
    shortlist = shortlists.pop(topic.slug, None) or view.shortlists([topic], {})[topic.slug]
    selection, seen = view.choose_all(topic, shortlist)
    return Choice(selection, seen, narrow=False)


def shown_at(topic: Topic, now: datetime) -> datetime | None:
    """The time `topic`'s entries are shown as of: times still to come are shown when
    they come, unless the topic publishes future-dated records as they are (`future:
    publish`)."""
    return None if topic.rules.future == "publish" else now


def entries_of(store: Store, topic: Topic, selection: Selection, now: datetime) -> list[Entry]:
    """The entries `topic` shows of `selection`, with their history, which the state
    keeps from now on."""
    entries, present = with_history(
        as_of(selection.entries, shown_at(topic, now)), store.history(topic.slug), now
    )
    store.set_history(topic.slug, present)
    return entries


def due(topic: Topic, choice: Choice, now: datetime, before: int | None) -> int | None:
    """When the topic must be chosen again with nothing else changed: a record ages
    past max_age_days, a held record's time comes, or an entry's time still to come
    arrives. Chosen from only some records, it keeps the last run's time (`before`)
    too: a record held for a future date may be among those left out."""
    selection = choice.selection
    changes = None if topic.rules.future == "publish" else next_change(selection.entries, now)
    times = (due_at(selection.admitted, choice.records, topic, now), changes)
    found = min((micros(t) for t in times if t is not None), default=None)
    kept = before if choice.narrow else None
    return min((t for t in (found, kept) if t is not None), default=None)


def _ceiling_warning(config: Config, wanted: int, left_out: Sequence[str]) -> Problem:
    shown = ", ".join(left_out[:20]) + (f" and {len(left_out) - 20} more" if len(left_out) > 20 else "")
    return Problem(
        display_path(config.path),
        None,
        "auto_max_topics",
        f"{wanted} record topics want an automatic feed, more than {config.auto_max_topics}; "
        f"left out: {shown}",
    )
