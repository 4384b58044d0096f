"""RFC 5005 archives: every entry an archived topic published and where it stands
(archive), and the pages as written once (archive_pages)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ArchiveRow:
    """One entry of an archived topic, where it stands (see the archive table)."""

    id: str
    page: int  # -1: selected in the subscription feed; 0: left it, unsealed; n: in page n
    pos: int
    entry: str | None  # JSON (codec.encode_entry) as last shown; None once sealed


class Archive:
    """The archives' part of the state store (see StateStore)."""

    _db: sqlite3.Connection

    def archive_entries(self, feed: str) -> list[ArchiveRow]:
        """Every entry archived topic `feed` published, by place (see the archive table)."""
        rows = self._db.execute(
            "SELECT id, page, pos, entry FROM archive WHERE feed = ? ORDER BY page, pos", (feed,)
        )
        return [ArchiveRow(i, page, pos, entry) for i, page, pos, entry in rows]

    def set_archive_entries(self, feed: str, rows: Iterable[ArchiveRow]) -> None:
        """Store `rows` of feed `feed`, replacing those of the same ids (an id is never dropped)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO archive VALUES (?, ?, ?, ?, ?)",
            [(feed, r.id, r.page, r.pos, r.entry) for r in rows],
        )

    def archive_pages(self, feed: str) -> list[int]:
        """The numbers of feed `feed`'s archive pages, oldest first."""
        rows = self._db.execute("SELECT page FROM archive_pages WHERE feed = ? ORDER BY page", (feed,))
        return [n for (n,) in rows]

    def found_pages(self, feed: str) -> list[int]:
        """The numbers of feed `feed`'s archive pages this state found in the output
        rather than made, oldest first."""
        rows = self._db.execute(
            "SELECT page FROM archive_pages WHERE feed = ? AND data IS NULL ORDER BY page", (feed,)
        )
        return [n for (n,) in rows]

    def archive_page(self, feed: str, page: int) -> bytes | None:
        """The bytes of archive page `page` of feed `feed`; None when this state did not make it."""
        row = self._db.execute(
            "SELECT data FROM archive_pages WHERE feed = ? AND page = ?", (feed, page)
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def add_archive_page(self, feed: str, page: int, data: bytes | None) -> None:
        """Keep archive page `page` of feed `feed` as written (None: found, not made)."""
        self._db.execute("INSERT OR REPLACE INTO archive_pages VALUES (?, ?, ?)", (feed, page, data))
