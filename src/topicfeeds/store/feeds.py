"""What the state knows of the feeds it wrote: settings (meta), each topic's last
feed and when its selection next changes with time alone (topics), the digest each
topic's files were made of, the output files as written (outputs), and the history
of every published entry (entries), so an edited record's `updated` moves while its
id stays."""

from __future__ import annotations

import json
import sqlite3

from ..core.history import History

SortKey = tuple[float, float, str]
"""The sort key of an entry (core.select.SortKey)."""


class Feeds:
    """The feeds' part of the state store (see StateStore)."""

    _db: sqlite3.Connection

    # -- meta

    def meta(self, key: str) -> str | None:
        """A stored setting, or None."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- published entries

    def history(self, feed: str) -> dict[str, History]:
        """The past of every entry feed `feed` published last time."""
        rows = self._db.execute("SELECT id, hash, first_seen, changed FROM entries WHERE feed = ?", (feed,))
        return {i: History(h, first, changed) for i, h, first, changed in rows}

    def set_history(self, feed: str, histories: dict[str, History]) -> None:
        """Replace feed `feed`'s entries with `histories` (entries that left the feed go)."""
        self._db.execute("DELETE FROM entries WHERE feed = ?", (feed,))
        self._db.executemany(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?)",
            [(feed, i, h.hash, h.first_seen, h.changed) for i, h in histories.items()],
        )

    # -- topics and their files

    def topic_valid_until(self) -> dict[str, int | None]:
        """For every topic last built, when its selection next changes with time alone."""
        return dict(self._db.execute("SELECT slug, valid_until FROM topics").fetchall())

    def set_topic(self, slug: str, valid_until: int | None, floor: SortKey | None) -> None:
        """Note that topic `slug` was built, until when it holds, and the sort key of the
        last entry of its feed if the feed was full."""
        floor_text = None if floor is None else json.dumps(floor)
        self._db.execute("INSERT OR REPLACE INTO topics VALUES (?, ?, ?)", (slug, valid_until, floor_text))

    def last_published(self, slug: str) -> tuple[frozenset[str], SortKey | None] | None:
        """The ids topic `slug`'s last build published, and the sort key of the last of
        them if its feed was full; None when the topic must be built anew."""
        row = self._db.execute("SELECT floor FROM topics WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            return None
        ids = frozenset(i for (i,) in self._db.execute("SELECT id FROM entries WHERE feed = ?", (slug,)))
        floor = None if row[0] is None else json.loads(row[0])
        return ids, None if floor is None else (float(floor[0]), float(floor[1]), str(floor[2]))

    def forget_topic(self, slug: str) -> None:
        """Note that topic `slug` must be built again."""
        self._db.execute("DELETE FROM topics WHERE slug = ?", (slug,))

    def outputs(self) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of every output file as last written or checked."""
        rows = self._db.execute("SELECT file, size, mtime_ns FROM outputs")
        return {f: (size, mtime) for f, size, mtime in rows}

    def set_output(self, file: str, size: int, mtime_ns: int) -> None:
        """Note an output file as it now is."""
        self._db.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", (file, size, mtime_ns))

    def forget_output(self, file: str) -> None:
        """Note that output file `file` is no longer this program's: removed, or gone."""
        self._db.execute("DELETE FROM outputs WHERE file = ?", (file,))
