"""Subscribers counted from hits, per day and feed, then per topic. Pure: hits in,
counts out; no file, no clock.

- An aggregator or hub reports how many people it fetches for in each fetch. Each
  distinct feed-id it gives counts once a day, with the count of its latest fetch
  (a day's many fetches are never added up); one that gives no feed-id counts once
  per feed a day. A service whose fetches of a feed that day carry no count at all
  counts as one subscriber: it fetches for somebody.
- A direct reader is a distinct address and User-Agent that fetched the feed that
  day, among the agents that are no aggregator, hub, browser or bot.
- A fetch is a GET or HEAD answered 2xx or 304; the share answered 304 tells how many
  were conditional requests that cost nothing but headers.

Memory grows with days, feeds and distinct readers, never with lines: a reader is
kept as an 8-byte hash of its address and agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..config import Format
from ..formats.common import FEED_FORMATS
from .agents import ServiceKind, classify
from .logs import Hit
from .paths import Feed, FeedPaths

FETCH_METHODS = frozenset({"GET", "HEAD"})
NOT_MODIFIED = 304


@dataclass(frozen=True, slots=True)
class ServiceCount:
    """What one aggregator or hub reported for a feed on a day."""

    kind: ServiceKind
    name: str
    subscribers: int  # the latest count of each feed-id it gave, added up
    feed_ids: int  # distinct feed-ids it gave (0 when it gives none)


@dataclass(frozen=True, slots=True)
class FeedDay:
    """One feed on one day (UTC)."""

    day: date
    services: tuple[ServiceCount, ...]  # most subscribers first
    readers: int  # distinct direct readers
    requests: int  # fetches, by anyone
    not_modified: int  # fetches answered 304

    @property
    def aggregators(self) -> int:
        """Subscribers reported by aggregators."""
        return sum(s.subscribers for s in self.services if s.kind == "aggregator")

    @property
    def hubs(self) -> int:
        """Subscribers reported by hubs."""
        return sum(s.subscribers for s in self.services if s.kind == "hub")

    @property
    def subscribers(self) -> int:
        """Everyone: reported by services, and direct readers."""
        return sum(s.subscribers for s in self.services) + self.readers


@dataclass(frozen=True, slots=True)
class FeedCounts:
    """One feed over the days of the logs."""

    feed: Feed
    days: tuple[FeedDay, ...]  # one per day of the logs, in order (zeros where nobody fetched it)

    @property
    def fetched(self) -> bool:
        """Whether anyone fetched it on any day of the logs."""
        return any(d.requests for d in self.days)


@dataclass(frozen=True, slots=True)
class TopicDay:
    """A topic's feeds added up on one day."""

    day: date
    aggregators: int
    hubs: int
    readers: int
    requests: int
    not_modified: int

    @property
    def subscribers(self) -> int:
        """Everyone subscribed to one of the topic's feeds."""
        return self.aggregators + self.hubs + self.readers


@dataclass(frozen=True, slots=True)
class TopicCounts:
    """A topic over the days of the logs."""

    topic: str  # its slug
    configured: bool  # in the configuration (otherwise an automatic topic, or one gone)
    feeds: tuple[FeedCounts, ...]  # Atom, RSS, JSON Feed, those it has
    days: tuple[TopicDay, ...]  # one per day of the logs, in order

    @property
    def latest(self) -> TopicDay | None:
        """The last day of the logs (None when the logs have no day)."""
        return self.days[-1] if self.days else None

    @property
    def fetched(self) -> bool:
        """Whether anyone fetched one of its feeds on any day of the logs."""
        return any(f.fetched for f in self.feeds)

    @property
    def change(self) -> int:
        """Subscribers on the last day less those on the first."""
        return self.days[-1].subscribers - self.days[0].subscribers if self.days else 0


@dataclass(frozen=True, slots=True)
class Counts:
    """Subscribers to every topic, over the days the logs cover."""

    days: tuple[date, ...]  # every day (UTC) of a line of the logs, in order
    topics: tuple[TopicCounts, ...]  # most subscribers on the last day first
    lines: int  # requests read
    fetches: int  # of those, fetches of a feed


def share(part: int, whole: int) -> float | None:
    """`part` of `whole`, None when there is no whole."""
    return part / whole if whole else None


class _Cell:
    """What one feed's fetches on one day add up to so far."""

    __slots__ = ("not_modified", "readers", "requests", "services")

    def __init__(self) -> None:
        self.requests = 0
        self.not_modified = 0
        self.readers: set[int] = set()
        # (kind, name, feed-id): (time of the latest fetch, its count; None when it gave none)
        self.services: dict[tuple[ServiceKind, str, str | None], tuple[datetime, int | None]] = {}


class Tally:
    """Adds hits up, one at a time."""

    def __init__(self, paths: FeedPaths) -> None:
        self.paths = paths
        self._days: set[date] = set()
        self._cells: dict[tuple[date, Feed], _Cell] = {}
        self._time: datetime | None = None
        self._day = date.min
        self.lines = 0
        self.fetches = 0

    def add(self, hit: Hit) -> None:
        """Count `hit`."""
        self.lines += 1
        time = hit.time
        if time is not self._time:  # a parser hands out one object per distinct stamp
            self._time, self._day = time, time.date()
            self._days.add(self._day)
        status = hit.status
        if not (200 <= status < 300 or status == NOT_MODIFIED) or hit.method not in FETCH_METHODS:
            return
        feed = self.paths.feed(hit.path)
        if feed is None:
            return
        self.fetches += 1
        key = (self._day, feed)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = _Cell()
        cell.requests += 1
        if status == NOT_MODIFIED:
            cell.not_modified += 1
        agent = classify(hit.agent)
        if agent.kind == "reader":
            cell.readers.add(hash((hit.address, hit.agent)))
        elif agent.kind == "aggregator" or agent.kind == "hub":
            service = (agent.kind, agent.name, agent.feed_id)
            seen = cell.services.get(service)
            count = agent.subscribers
            # The latest count wins; a fetch without one never replaces one.
            if seen is None or (count is not None and (seen[1] is None or time >= seen[0])):
                cell.services[service] = (time, count)

    def counts(self) -> Counts:
        """Everything counted so far."""
        days = tuple(sorted(self._days))
        formats: dict[str, set[Format]] = {slug: set(f) for slug, f in self.paths.configured.items() if f}
        for _, feed in self._cells:
            formats.setdefault(feed.topic, set()).add(feed.format)
        topics = [self._topic(slug, fmts, days) for slug, fmts in formats.items()]
        topics.sort(key=lambda t: (-(t.latest.subscribers if t.latest else 0), t.topic))
        return Counts(days, tuple(topics), self.lines, self.fetches)

    def _topic(self, slug: str, formats: set[Format], days: tuple[date, ...]) -> TopicCounts:
        feeds = tuple(
            FeedCounts(feed, tuple(self._feed_day(day, feed) for day in days))
            for feed in (Feed(slug, f) for f in FEED_FORMATS if f in formats)
        )
        totals = tuple(
            TopicDay(
                day,
                aggregators=sum(f.days[i].aggregators for f in feeds),
                hubs=sum(f.days[i].hubs for f in feeds),
                readers=sum(f.days[i].readers for f in feeds),
                requests=sum(f.days[i].requests for f in feeds),
                not_modified=sum(f.days[i].not_modified for f in feeds),
            )
            for i, day in enumerate(days)
        )
        return TopicCounts(slug, slug in self.paths.configured, feeds, totals)

    def _feed_day(self, day: date, feed: Feed) -> FeedDay:
        cell = self._cells.get((day, feed))
        if cell is None:
            return FeedDay(day, (), 0, 0, 0)
        return FeedDay(day, _services(cell), len(cell.readers), cell.requests, cell.not_modified)


def _services(cell: _Cell) -> tuple[ServiceCount, ...]:
    totals: dict[tuple[ServiceKind, str], list[int]] = {}  # subscribers, feed-ids, counted fetches
    for (kind, name, feed_id), (_, count) in cell.services.items():
        slot = totals.setdefault((kind, name), [0, 0, 0])
        if count is not None:
            slot[0] += count
            slot[1] += feed_id is not None
            slot[2] += 1
    found = [
        ServiceCount(kind, name, subscribers if counted else 1, feed_ids)
        for (kind, name), (subscribers, feed_ids, counted) in totals.items()
    ]
    return tuple(sorted(found, key=lambda s: (-s.subscribers, s.name)))
