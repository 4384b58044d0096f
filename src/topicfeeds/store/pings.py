"""WebSub: publish notices not yet delivered (pings), how long each hub asked to be
left alone (hubs, from its Retry-After), and the CDN purges the pings wait for (purges)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


class Pings:
    """The WebSub and CDN part of the state store (see StateStore)."""

    _db: sqlite3.Connection

    def add_pings(self, hub: str, urls: Iterable[str]) -> None:
        """Note that `hub` is to be told that the feeds at `urls` changed. A ping already
        waiting is noted anew, so one being sent meanwhile (pings go out after the run
        has let go of the lock) does not count for this change."""
        self._db.executemany(
            "INSERT INTO pings VALUES (?, ?, (SELECT COALESCE(MAX(noted), 0) + 1 FROM pings)) "
            "ON CONFLICT (hub, url) DO UPDATE SET noted = excluded.noted",
            ((hub, u) for u in urls),
        )

    def pings(self) -> dict[str, list[str]]:
        """The feed URLs each hub is still to be told about."""
        return {hub: list(urls) for hub, urls in self.noted_pings().items()}

    def noted_pings(self) -> dict[str, dict[str, int]]:
        """The feed URLs each hub is still to be told about, with when each was noted."""
        found: dict[str, dict[str, int]] = {}
        for hub, url, noted in self._db.execute("SELECT hub, url, noted FROM pings ORDER BY hub, url"):
            found.setdefault(hub, {})[url] = noted
        return found

    def drop_pings(
        self, hub: str, urls: Iterable[str] | None = None, noted: dict[str, int] | None = None
    ) -> None:
        """Forget pings of `hub`: delivered (`urls`), or all of them. With `noted`, only
        those not noted again since (a later run changed the feed once more)."""
        if urls is None:
            self._db.execute("DELETE FROM pings WHERE hub = ?", (hub,))
        elif noted is None:
            self._db.executemany("DELETE FROM pings WHERE hub = ? AND url = ?", ((hub, u) for u in urls))
        else:
            self._db.executemany(
                "DELETE FROM pings WHERE hub = ? AND url = ? AND noted = ?",
                ((hub, u, noted[u]) for u in urls),
            )

    def hub_not_before(self, hub: str) -> int:
        """Until when (microseconds) `hub` asked not to be sent anything; 0 if it did not."""
        row = self._db.execute("SELECT not_before FROM hubs WHERE url = ?", (hub,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_hub_not_before(self, hub: str, when: int) -> None:
        """Note that `hub` asked not to be sent anything before `when` (microseconds)."""
        self._db.execute("INSERT OR REPLACE INTO hubs VALUES (?, ?)", (hub, when))

    def add_purges(self, urls: Iterable[str], change: str) -> None:
        """Note that the CDN is to drop its copies of `urls`, for run `change`. A purge
        already waiting is noted anew, as a ping is (see add_pings): one made meanwhile
        was of the bytes before this change."""
        self._db.executemany(
            "INSERT INTO purges VALUES (?, (SELECT COALESCE(MAX(noted), 0) + 1 FROM purges), ?) "
            "ON CONFLICT (url) DO UPDATE SET noted = excluded.noted, change = excluded.change",
            ((u, change) for u in urls),
        )

    def noted_purges(self) -> dict[str, tuple[int, str]]:
        """The URLs the CDN is still to drop, each with when it was noted and by which run."""
        rows = self._db.execute("SELECT url, noted, change FROM purges ORDER BY url")
        return {url: (noted, change) for url, noted, change in rows}

    def drop_purges(self, noted: dict[str, int] | None = None) -> None:
        """Forget the purges in `noted` (URL: when noted) that were not noted again since
        (a later run changed the file once more); all of them without `noted`."""
        if noted is None:
            self._db.execute("DELETE FROM purges")
        else:
            self._db.executemany(
                "DELETE FROM purges WHERE url = ? AND noted = ?", ((u, n) for u, n in noted.items())
            )
