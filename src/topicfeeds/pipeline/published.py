"""What the last build published, read from the state store without changing it: the
topics, their files' URLs, how many entries each holds and when the newest was
published. For `topicfeeds topics`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..config import Config, Format
from ..core.topics import plan_topics
from ..errors import Problem, StateError, TopicfeedsError, display_path
from ..formats import topic_files
from ..store import Store
from ..store.opening import attach_store, state_exists, state_name
from .listing import decode_counts
from .run import fingerprint

CHANGED = "the configuration or the program changed since the last build; its counts are shown"


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """One topic as the last build published it."""

    slug: str
    title: str
    entries: int | None  # entries its feeds hold; None when no build has made it yet
    newest: datetime | None  # when the newest of them was published; None without any
    files: tuple[tuple[Format, str], ...]  # (format, URL) of each file it gets, in its formats' order


@dataclass(frozen=True, slots=True)
class Published:
    """Every topic there is, as the last build left it."""

    topics: tuple[TopicSummary, ...]
    warnings: tuple[Problem, ...]  # that build ran with another configuration or version


def published(config: Config) -> Published:
    """The topics the configuration gives (with `auto`, one per record topic the last
    build stored), each with its files' URLs, and the number of entries and the newest
    one the last build published. Read without the lock: a run under way is not waited
    for, and shows once it has finished. Raises TopicfeedsError when no build has
    finished yet."""
    state = state_name(config) if config.kept_state else None
    never = f"{state or 'state'}: no build has finished yet; run topicfeeds build first"
    if state is None or not state_exists(config):
        raise TopicfeedsError(never)
    try:
        store = attach_store(config, read_only=True)
        try:
            counts_text = store.meta("topic_counts")
            current = store.meta("fingerprint") == fingerprint(config)
            # As the build counts them, from the record topics it stored.
            names = store.topic_names(config.auto_max_topics_per_record) if config.auto else {}
            purges, pings = waiting(store)
        finally:
            store.close()
    except (sqlite3.DatabaseError, StateError) as exc:
        raise TopicfeedsError(f"{state}: cannot read the state ({exc}); run topicfeeds build") from exc
    if counts_text is None:  # made by a first build that did not finish
        raise TopicfeedsError(never)
    counts = decode_counts(counts_text)
    base = config.site.base_url
    topics = []
    for topic in plan_topics(config, names).topics:
        entries, newest = counts.get(topic.slug, (None, None))
        files = zip(topic.rules.formats, topic_files(topic), strict=True)
        urls = tuple((fmt, base + name) for fmt, name in files)
        topics.append(TopicSummary(topic.slug, topic.title, entries, newest, urls))
    shown = display_path(config.path)
    notes = [] if current else [Problem(shown, None, None, CHANGED)]
    if purges:
        notes.append(
            Problem(shown, None, "cdn", f"{purges} URLs not yet purged; their pings wait for the next run")
        )
    if pings:
        notes.append(Problem(shown, None, "site.hubs", f"{pings} pings wait for the next run"))
    return Published(tuple(topics), tuple(notes))


def waiting(store: Store) -> tuple[int, int]:
    """How many URLs the CDN is still to drop, and how many pings the hubs are still to
    get (a feed counted once per hub), as the last run left them."""
    try:
        purges = len(store.noted_purges())
        pings = sum(len(urls) for urls in store.noted_pings().values())
    except (sqlite3.OperationalError, StateError):  # an older schema's state: the next build upgrades it
        return 0, 0
    return purges, pings
