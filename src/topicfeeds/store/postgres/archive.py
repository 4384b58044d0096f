"""RFC 5005 archives in PostgreSQL: every entry an archived topic published and where
it stands (archive), and the pages as written once (archive_pages). As
store/archive.py, whose protocol this keeps."""

from __future__ import annotations

from collections.abc import Iterable

from ..archive import ArchiveRow
from .connection import Database


class Archive:
    """The archives' part of the state store (see PostgresStore)."""

    _db: Database

    def archive_entries(self, feed: str) -> list[ArchiveRow]:
        """Every entry archived topic `feed` published, by place (see the archive table)."""
        rows = self._db.execute(
            "SELECT id, page, pos, entry FROM archive WHERE feed = %s ORDER BY page, pos", (feed,)
        )
        return [ArchiveRow(i, page, pos, entry) for i, page, pos, entry in rows]

    def set_archive_entries(self, feed: str, rows: Iterable[ArchiveRow]) -> None:
        """Store `rows` of feed `feed`, replacing those of the same ids (an id is never dropped)."""
        self._db.executemany(
            "INSERT INTO archive VALUES (%s, %s, %s, %s, %s) ON CONFLICT (feed, id) "
            "DO UPDATE SET page = excluded.page, pos = excluded.pos, entry = excluded.entry",
            [(feed, r.id, r.page, r.pos, r.entry) for r in rows],
        )

    def archive_pages(self, feed: str) -> list[int]:
        """The numbers of feed `feed`'s archive pages, oldest first."""
        rows = self._db.execute("SELECT page FROM archive_pages WHERE feed = %s ORDER BY page", (feed,))
        return [n for (n,) in rows]

    def found_pages(self, feed: str) -> list[int]:
        """The numbers of feed `feed`'s archive pages this state found in the output
        rather than made, oldest first."""
        rows = self._db.execute(
            "SELECT page FROM archive_pages WHERE feed = %s AND data IS NULL ORDER BY page", (feed,)
        )
        return [n for (n,) in rows]

    def archive_page(self, feed: str, page: int) -> bytes | None:
        """The bytes of archive page `page` of feed `feed`; None when this state did not make it."""
        row = self._db.execute(
            "SELECT data FROM archive_pages WHERE feed = %s AND page = %s", (feed, page)
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def add_archive_page(self, feed: str, page: int, data: bytes | None) -> None:
        """Keep archive page `page` of feed `feed` as written (None: found, not made)."""
        self._db.execute(
            "INSERT INTO archive_pages VALUES (%s, %s, %s) "
            "ON CONFLICT (feed, page) DO UPDATE SET data = excluded.data",
            (feed, page, data),
        )
