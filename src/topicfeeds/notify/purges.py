"""The CDN purges a run notes, and that a delivery makes before any hub is told.

A run notes the URL of every file whose bytes it changed or that it removed, in the
state, with its pings and in the same transaction (`note_purges`), so that a run that
dies after publishing leaves them to the next one. A delivery (pipeline/run.py,
`tell_hubs`) first asks the CDN to drop them all by the settings' timeout
(`purge_pending`) and forgets those it dropped; the hubs are then told of no feed whose
purge is still noted (websub.deliver): a hub told of a feed whose old copy the CDN may
still hold fetches that copy and tells no one.
What was not purged stays noted, with the run that noted it, so a later delivery asks
again for the same purge (CloudFront: the same invalidation, waited for again).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import Site
from ..store import StateStore
from .cdn import Failure, Purger, PurgeResult

INDEX = "index.html"  # served under its folder's URL too (deploy/nginx.conf: `index index.html`)
# After a purge that failed, a watch tries again this long after, doubled each time it
# fails again up to the longest (a run that changes files wakes it sooner).
RETRY_FIRST = 2.0
RETRY_LONGEST = 300.0


@dataclass(frozen=True, slots=True)
class Purged:
    """What asking the CDN to drop the noted URLs came to."""

    purged: int  # URLs the CDN dropped (or held no copy of)
    waiting: int  # URLs it may still hold (not purged, or noted again meanwhile): their pings wait
    problems: tuple[str, ...]  # one line per reason a URL was not purged, naming it
    in_time: bool  # False when the timeout came before every URL was settled


def purge_urls(site: Site, names: Iterable[str]) -> list[str]:
    """The URLs the CDN is to drop when the files `names` changed or went: each under
    `base_url`, and an index page's folder too, which serves the same bytes."""
    urls = set()
    for name in names:
        urls.add(f"{site.base_url}{name}")
        if name == INDEX or name.endswith(f"/{INDEX}"):
            urls.add(f"{site.base_url}{name[: -len(INDEX)]}")
    return sorted(urls)


def note_purges(store: StateStore, urls: Iterable[str], change: str) -> None:
    """Note that the CDN is to drop `urls`, changed by run `change`."""
    store.add_purges(urls, change)


def purge_pending(store: StateStore, purger: Purger, timeout: float) -> Purged:
    """Ask the CDN to drop every URL noted, within `timeout` seconds all told; forget
    those it dropped. Each run's URLs go together, under that run's name, oldest first:
    a purge asked for again is the same request (see Purger.purge)."""
    noted = store.noted_purges()
    if not noted:
        return Purged(0, 0, (), True)
    deadline = time.monotonic() + timeout
    runs: dict[str, list[str]] = {}
    for url, (_, change) in sorted(noted.items(), key=lambda item: item[1][0]):
        runs.setdefault(change, []).append(url)
    purged: list[str] = []
    failed: list[Failure] = []
    in_time = True
    for change, urls in runs.items():
        result = purger.purge(urls, deadline, change=change)
        purged += result.purged
        failed += result.failed
        in_time = in_time and result.in_time
    done = {url: noted[url][0] for url in purged}
    # Outside the run's lock: a run writing the state right now keeps them noted, to be
    # purged again, which is better than waiting for it.
    with contextlib.suppress(sqlite3.OperationalError):
        store.drop_purges(done)
    # Read again: a run may have noted some anew since, and those wait for their own purge.
    waiting = len(store.noted_purges())
    problems = PurgeResult(tuple(purged), tuple(failed), in_time).problems()
    return Purged(len(done), waiting, problems, in_time)


def forget_purges(store: StateStore) -> None:
    """Forget the purges noted while a CDN was configured: none is now, and the pings
    they hold may go."""
    if store.noted_purges():
        with contextlib.suppress(sqlite3.OperationalError):
            store.drop_purges()


class Backoff:
    """When a watch tries a purge again that left URLs waiting: soon, then less often
    while the CDN keeps failing, so a CDN that is down is not asked every second."""

    def __init__(self) -> None:
        self.wait = RETRY_FIRST  # seconds before the next try, should this one fail

    def after(self, waiting: int) -> float | None:
        """When (monotonic) to try again, after a round that left `waiting` URLs not
        purged; None when none waits."""
        if not waiting:
            self.wait = RETRY_FIRST
            return None
        at = time.monotonic() + self.wait
        self.wait = min(self.wait * 2, RETRY_LONGEST)
        return at
