"""Tell WebSub hubs which feeds changed, so subscribers' readers fetch them at once.

A run notes, in the state store, every feed URL whose bytes it changed, for every
hub; then each hub is sent a form-encoded `hub.mode=publish` request naming them.
What a hub confirms (any 2xx) is forgotten; what it does not (down, slow, an error,
a redirect) waits in the state for the next run. A hub that answers 503 with
`Retry-After` is left alone until then (a day at most). A request is over by its
hub's `timeout` whatever the hub does (a socket timeout alone would let a hub that
trickles a byte a second hold it for ever), a run's requests to one hub share
BUDGET_TIMEOUTS times that, and only the head of an answer is read. A failure is
never the run's failure: the feeds are in place whatever the hubs do. With a CDN in
front of the feeds, a feed's pings wait until the CDN has dropped its old copy
(purges.py): a hub would fetch that copy and tell no subscriber.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from .. import __version__
from ..config import Hub, Site
from ..core.archive import is_archive
from ..errors import printable
from ..formats.spec import websub_suffixes
from ..records.clean import redact_url
from ..records.codec import from_micros, micros
from ..store import StateStore

# A hub that gives no usable Retry-After with its 503 is left alone this long.
DEFAULT_RETRY_SECONDS = 60.0
# The longest Retry-After honoured: a larger one is a hub's mistake, and pings that
# wait for ever are lost.
RETRY_LIMIT = 86400.0
# All of a run's requests to one hub share this many times its `timeout` (none starts
# unless its timeout fits in what is left); what is not sent waits for the next run. A
# hub that answers, but slowly, then delays a run by seconds, not a second a feed.
BUDGET_TIMEOUTS = 3
# The most of an answer read: the status line and the headers that count (Location,
# Retry-After) come first, and nothing after them tells a publisher anything.
ANSWER_LIMIT = 8192

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
    """The URLs of the feeds among the files `written`, named as in the output: the
    files of the formats hubs are told of (FormatSpec.websub). Pages and site files are
    not feeds: no reader subscribes to them; nor to an archive page, which is new when
    written and never changes, and which the Atom feed it left links."""
    told = websub_suffixes()
    return sorted(
        f"{site.base_url}{name}"
        for name in written
        if "/" not in name and name.endswith(told) and not is_archive(name)
    )


def publish_body(hub: Hub, urls: Sequence[str]) -> bytes:
    """The form-encoded publish request naming `urls`."""
    name = "hub.topic" if hub.param == "topic" else "hub.url"
    return urllib.parse.urlencode([("hub.mode", "publish"), *((name, u) for u in urls)]).encode("ascii")


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait (a number or an HTTP date), at most
    RETRY_LIMIT; None when it says nothing usable."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+", value):  # str.isdigit would take "²", which float() refuses
        return RETRY_LIMIT if len(value) > 9 else min(float(value), RETRY_LIMIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max(0.0, (when - now).total_seconds()), RETRY_LIMIT)


def ping(hub: Hub, urls: Sequence[str]) -> Answer:
    """Send one publish request to `hub`; whatever the hub does, it is over within the
    hub's `timeout`.

    Plain HTTP/1.1 over a socket rather than urllib: urllib follows a redirect (as a
    GET without the body, to any host), reads the whole answer, and has only a socket
    timeout, which a hub that trickles a byte now and then never meets. Here every
    wait is cut to the time left, only the answer's head is read, and a redirect is a
    failure to report. (A slow name lookup is the resolver's to bound.)"""
    # Here, not at the top: most runs tell no hub, and TLS costs every run its import time.
    import socket
    import ssl

    deadline = time.monotonic() + hub.timeout
    parts = urllib.parse.urlsplit(hub.url)  # checked by the config: http(s), a host, no userinfo
    https = parts.scheme == "https"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = publish_body(hub, urls)
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: topicfeeds/{__version__}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")

    def time_left() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    try:
        address = (parts.hostname or "", parts.port or (443 if https else 80))
        with socket.create_connection(address, timeout=time_left()) as raw:
            sock = raw
            if https:
                raw.settimeout(time_left())  # the handshake, all told
                sock = ssl.create_default_context().wrap_socket(raw, server_hostname=parts.hostname)
            with sock:
                sock.settimeout(time_left())  # sendall: the whole request
                sock.sendall(head + body)
                status, headers = _answer_head(sock, time_left)
    except TimeoutError:
        return Answer("failed", None, f"no answer within {hub.timeout:g} s")
    except (OSError, ValueError) as exc:  # refused, unreachable, TLS refused, not HTTP
        return Answer("failed", None, str(exc) or type(exc).__name__)
    if 200 <= status < 300:
        return Answer("sent")
    if status == 503:
        wait = retry_after(headers.get("retry-after"), datetime.now(timezone.utc))
        return Answer("later", DEFAULT_RETRY_SECONDS if wait is None else wait, "503")
    if 300 <= status < 400 and "location" in headers:
        where = printable(redact_url(headers["location"]))
        return Answer("failed", None, f"hub answered {status} (redirect to {where}); not followed")
    return Answer("failed", None, f"HTTP {status}")


def _answer_head(sock: Any, time_left: Callable[[], float]) -> tuple[int, dict[str, str]]:
    """The status and headers (names in lower case) of the answer on `sock`, reading
    no more than ANSWER_LIMIT bytes of it; interim (1xx) answers are passed over."""
    data, received = b"", 0
    while True:
        end = re.search(rb"\r?\n\r?\n", data)
        if end is None and received < ANSWER_LIMIT:
            sock.settimeout(time_left())
            chunk = sock.recv(ANSWER_LIMIT - received)
            received += len(chunk)
            data += chunk
            if chunk:
                continue
        # The whole head, or as much of it as the hub sent before it closed the
        # connection or the limit came: the status and the headers read so far.
        lines = (data if end is None else data[: end.start()]).decode("latin-1").splitlines()
        found = re.match(r"HTTP/\d(?:\.\d)? ([0-9]{3})(?: |$)", lines[0] if lines else "")
        if found is None:
            raise ValueError(
                "the hub's answer is not HTTP" if data else "the hub closed the connection unanswered"
            )
        status = int(found.group(1))
        if 100 <= status < 200 and end is not None:
            data = data[end.end() :]
            continue
        complete = lines if end is not None else lines[:-1]  # a cut head's last line may be cut too
        fields = (line.partition(":") for line in complete[1:])
        return status, {name.strip().lower(): value.strip() for name, colon, value in fields if colon}


def note_changes(store: StateStore, site: Site, urls: Sequence[str]) -> None:
    """Note, for every hub, that the feeds at `urls` changed."""
    for hub in site.hubs:
        store.add_pings(hub.url, urls)


def deliver(store: StateStore, site: Site, now: datetime, *, purging: bool = False) -> Delivery:
    """Tell every hub what is waiting for it, as far as it lets; commit as it goes.
    With `purging` (a CDN is configured), the pings of the feeds whose purge is still
    noted (the CDN may hold their old copies) stay noted, and count as waiting.

    Called after the run has let go of the lock, so a slow hub holds up no other run.
    Another run may note the same feeds meanwhile: only the pings noted before this
    one was sent are forgotten; should the store be too busy to forget them, they are
    sent again later (a hub told twice only fetches twice)."""
    configured = {hub.url: hub for hub in site.hubs}
    sent, waiting, problems = 0, 0, []
    pings = store.noted_pings()
    # Read after the pings: a run notes a feed's ping and purge at once, so a ping read
    # here has its purge read too, unless that purge was made.
    held = frozenset(store.noted_purges()) if purging else frozenset()
    for hub_url, noted in pings.items():
        hub = configured.get(hub_url)
        if hub is None:  # no longer configured: nobody to tell
            _quietly(lambda: store.drop_pings(hub_url, noted, noted))  # noqa: B023 - called at once
            continue
        if store.hub_not_before(hub_url) > micros(now):
            waiting += len(noted)
            continue
        left = [url for url in noted if url not in held]
        waiting += len(noted) - len(left)
        shown = redact_url(hub_url)  # the real URL is sent to; a token in it is not printed
        budget = BUDGET_TIMEOUTS * hub.timeout
        spent = time.monotonic() + budget
        while left:
            # A request starts only while its whole timeout fits in what is left.
            if time.monotonic() + hub.timeout > spent:
                problems.append(
                    f"{shown}: {budget:g} s ({BUDGET_TIMEOUTS} times its timeout) did not do for every feed; "
                    f"{len(left)} feeds wait for the next run"
                )
                break
            batch = left[: hub.per_request]
            answer = ping(hub, batch)
            if answer.outcome != "sent":
                if answer.outcome == "later":
                    # From when the hub answered, not from when the round began.
                    until = micros(datetime.now(timezone.utc)) + round((answer.retry_after or 0) * 1e6)
                    _quietly(lambda: store.set_hub_not_before(hub_url, until))  # noqa: B023
                problems.append(f"{shown}: {answer.detail}; {len(left)} feeds wait for the next run")
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
