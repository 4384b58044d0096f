"""Tell WebSub hubs which feeds changed, so subscribers' readers fetch them at once.

A run notes, in the state store, every feed URL whose bytes it changed, for every
hub; then each hub is sent a form-encoded `hub.mode=publish` request naming them.
What a hub confirms (any 2xx) is forgotten; what it does not (down, slow, an error)
waits in the state for the next run. A hub that answers 503 with `Retry-After` is
left alone until then. Requests have a timeout, and a failure is never the run's
failure: the feeds are in place whatever the hubs do.
"""

from __future__ import annotations

import contextlib
import email.utils
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from . import __version__
from .archive import is_archive
from .codec import from_micros, micros
from .config import Hub, Site
from .state import StateStore

FEED_SUFFIXES = (".atom", ".rss", ".json")
# A hub that gives no usable Retry-After with its 503 is left alone this long.
DEFAULT_RETRY_SECONDS = 60.0

Outcome = Literal["sent", "failed", "later"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a hub made of one publish request."""

    outcome: Outcome
    retry_after: float | None = None  # seconds the hub asked to wait (503)
    detail: str = ""  # why it failed, for the warning


@dataclass(frozen=True, slots=True)
class Delivery:
    """What telling the hubs came to."""

    sent: int  # feed URLs hubs confirmed, counted once per hub
    waiting: int  # feed URLs still to be told, counted once per hub
    problems: tuple[str, ...]  # one line per hub that failed


def changed_feeds(site: Site, written: Iterable[str]) -> list[str]:
    """The URLs of the feeds among the files `written`, named as in the output (pages
    and site files are not feeds: no reader subscribes to them; nor to an archive page,
    which is new when written and never changes, and which the Atom feed it left links)."""
    return sorted(
        f"{site.base_url}{name}"
        for name in written
        if "/" not in name and name.endswith(FEED_SUFFIXES) and not is_archive(name)
    )


def publish_body(hub: Hub, urls: Sequence[str]) -> bytes:
    """The form-encoded publish request naming `urls`."""
    name = "hub.topic" if hub.param == "topic" else "hub.url"
    return urllib.parse.urlencode([("hub.mode", "publish"), *((name, u) for u in urls)]).encode("ascii")


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait (a number or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def ping(hub: Hub, urls: Sequence[str], now: datetime) -> Answer:
    """Send one publish request to `hub`."""
    # Here, not at the top: most runs tell no hub, and the HTTP client costs every
    # run its import time.
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        hub.url,
        data=publish_body(hub, urls),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": f"topicfeeds/{__version__}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=hub.timeout) as response:
            response.read()
            return Answer("sent")
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 503:
                wait = retry_after(exc.headers.get("Retry-After"), now)
                return Answer("later", DEFAULT_RETRY_SECONDS if wait is None else wait, "503")
            return Answer("failed", None, f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:  # refused, unreachable, timed out, a bad answer
        reason = getattr(exc, "reason", exc)
        return Answer("failed", None, str(reason) or type(exc).__name__)


def note_changes(store: StateStore, site: Site, urls: Sequence[str]) -> None:
    """Note, for every hub, that the feeds at `urls` changed."""
    for hub in site.hubs:
        store.add_pings(hub.url, urls)


def deliver(store: StateStore, site: Site, now: datetime) -> Delivery:
    """Tell every hub what is waiting for it, as far as it lets; commit as it goes.

    Called after the run has let go of the lock, so a slow hub holds up no other run.
    Another run may note the same feeds meanwhile: only the pings noted before this
    one was sent are forgotten; should the store be too busy to forget them, they are
    sent again later (a hub told twice only fetches twice)."""
    configured = {hub.url: hub for hub in site.hubs}
    sent, waiting, problems = 0, 0, []
    for hub_url, noted in store.noted_pings().items():
        hub = configured.get(hub_url)
        if hub is None:  # no longer configured: nobody to tell
            _quietly(lambda: store.drop_pings(hub_url, noted, noted))  # noqa: B023 - called at once
            continue
        if store.hub_not_before(hub_url) > micros(now):
            waiting += len(noted)
            continue
        left = list(noted)
        while left:
            batch = left[: hub.per_request]
            answer = ping(hub, batch, now)
            if answer.outcome != "sent":
                if answer.outcome == "later":
                    until = micros(now) + round((answer.retry_after or 0) * 1e6)
                    _quietly(lambda: store.set_hub_not_before(hub_url, until))  # noqa: B023
                problems.append(f"{hub_url}: {answer.detail}; {len(left)} feeds wait for the next run")
                break
            _quietly(lambda: store.drop_pings(hub_url, batch, noted))  # noqa: B023
            sent += len(batch)
            left = left[len(batch) :]
        waiting += len(left)
    return Delivery(sent, waiting, tuple(problems))


def next_attempt(store: StateStore, site: Site, now: datetime) -> datetime | None:
    """The soonest time after `now` at which a hub that answered 503 lets its waiting
    pings go out (its `Retry-After`); None when no ping waits for such a time."""
    configured = {hub.url for hub in site.hubs}
    times = [store.hub_not_before(hub) for hub in store.noted_pings() if hub in configured]
    later = [t for t in times if t > micros(now)]
    return from_micros(min(later)) if later else None


def _quietly(change: Callable[[], None]) -> None:
    """Make a change in the store unless a run is writing to it right now: the pings
    stay noted (and are sent again), which is better than waiting for that run."""
    with contextlib.suppress(sqlite3.OperationalError):  # "database is locked": a run is writing
        change()
