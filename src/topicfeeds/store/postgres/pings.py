"""WebSub in PostgreSQL: publish notices not yet delivered (pings), how long each hub
asked to be left alone (hubs), and the CDN purges the pings wait for (purges). As
store/pings.py, whose protocol this keeps."""

from __future__ import annotations

from collections.abc import Iterable

from .connection import Database


class Pings:
    """The WebSub and CDN part of the state store (see PostgresStore)."""

    _db: Database

    def add_pings(self, hub: str, urls: Iterable[str]) -> None:
        """Note that `hub` is to be told that the feeds at `urls` changed. A ping already
        waiting is noted anew, so one being sent meanwhile does not count for this change."""
        urls = list(urls)
        if not urls:
            return
        # One noting for all of them, as SQLite's statement gives each the same number
        # while it sees its own rows only after the statement.
        self._db.execute(
            "INSERT INTO pings (hub, url, noted) "
            "SELECT %s, u, (SELECT COALESCE(MAX(noted), 0) + 1 FROM pings) FROM unnest(%s::text[]) AS u "
            "ON CONFLICT (hub, url) DO UPDATE SET noted = excluded.noted",
            (hub, sorted(set(urls))),
        )

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
            self._db.execute("DELETE FROM pings WHERE hub = %s", (hub,))
        elif noted is None:
            self._db.execute("DELETE FROM pings WHERE hub = %s AND url = ANY(%s)", (hub, list(urls)))
        else:
            pairs = [(u, noted[u]) for u in urls]
            self._db.execute(
                "DELETE FROM pings p USING unnest(%s::text[], %s::bigint[]) AS d(url, noted) "
                "WHERE p.hub = %s AND p.url = d.url AND p.noted = d.noted",
                ([u for u, _ in pairs], [n for _, n in pairs], hub),
            )

    def hub_not_before(self, hub: str) -> int:
        """Until when (microseconds) `hub` asked not to be sent anything; 0 if it did not."""
        row = self._db.execute("SELECT not_before FROM hubs WHERE url = %s", (hub,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_hub_not_before(self, hub: str, when: int) -> None:
        """Note that `hub` asked not to be sent anything before `when` (microseconds)."""
        self._db.execute(
            "INSERT INTO hubs VALUES (%s, %s) "
            "ON CONFLICT (url) DO UPDATE SET not_before = excluded.not_before",
            (hub, when),
        )

    def add_purges(self, urls: Iterable[str], change: str) -> None:
        """Note that the CDN is to drop its copies of `urls`, for run `change`. A purge
        already waiting is noted anew, as a ping is: one made meanwhile was of the bytes
        before this change. One number per URL, as SQLite's statement per URL gives."""
        self._db.executemany(
            "INSERT INTO purges VALUES (%s, (SELECT COALESCE(MAX(noted), 0) + 1 FROM purges), %s) "
            "ON CONFLICT (url) DO UPDATE SET noted = excluded.noted, change = excluded.change",
            [(u, change) for u in urls],
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
            return
        self._db.execute(
            "DELETE FROM purges p USING unnest(%s::text[], %s::bigint[]) AS d(url, noted) "
            "WHERE p.url = d.url AND p.noted = d.noted",
            (list(noted), list(noted.values())),
        )
