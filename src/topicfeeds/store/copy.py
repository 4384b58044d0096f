"""Moving a publication's state from one backend to another (`topicfeeds state copy`):
a SQLite file into PostgreSQL, and back, every table with every row as it is. What only
the state knows goes with it: the entries' history (an edited entry's `updated`), the
archives (entries that left the feed and wait for a page, the pages as written), the
pings waiting for a hub, and the records as parsed, so that the first run on the new
state is an incremental one, not a cold build.

Both states are held under their run's lock while the rows move, so no run changes
either; the target's rows land in one transaction, so a copy that fails leaves the
target as it was. A target that holds a state already is refused unless replacing it
is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ..errors import TopicfeedsError
from .opening import Place, open_place
from .protocol import Store

_BATCH = 5000  # rows taken from the source at a time


@dataclass(frozen=True, slots=True)
class Copied:
    """What a copy moved: the rows of each table."""

    rows: tuple[tuple[str, int], ...]  # (table, rows), in the schema's order

    def count(self, table: str) -> int:
        """The rows of `table` that were copied."""
        return dict(self.rows).get(table, 0)


def copy_state(source: Place, target: Place, *, replace: bool = False, wait: float = 0.0) -> Copied:
    """Copy the state at `source` to `target` (made there if need be). Raises
    TopicfeedsError when the source holds no state or the target holds one (unless
    `replace`), LockedError when a run holds either's lock for longer than `wait`
    seconds, StateError when either cannot be used."""
    if source is None or target is None:
        raise TopicfeedsError("state copy: a state kept in memory cannot be copied")
    if str(source) == str(target):
        raise TopicfeedsError(f"state copy: {source} is both where from and where to")
    with open_place(source, wait=wait, look=True) as (origin, notes):
        try:
            if notes or not _holds_state(origin):
                why = "; ".join(str(n) for n in notes) or "no build has made a state there"
                raise TopicfeedsError(f"{source}: nothing to copy: {why}")
            with open_place(target, wait=wait) as (into, _):
                try:
                    if not replace and _holds_state(into):
                        raise TopicfeedsError(
                            f"{target}: holds a state already; --replace copies over it "
                            "(what it holds is lost)"
                        )
                    return _copy(origin, into)
                finally:
                    into.close()
        finally:
            origin.close()


def _holds_state(store: Store) -> bool:
    """Whether `store` holds more than a new state's tables: any run notes its settings."""
    return store.holds_files() or any(key != "schema" for key, _ in store.table_rows("meta"))


def _copy(origin: Store, into: Store) -> Copied:
    counts = []
    # A transaction on each side: the source's rows as of one moment (its run's lock
    # keeps runs out; the hubs' thread may still note a delivery), the target's at once.
    with origin.scratch(), into:
        into.clear()
        for table in origin.tables():
            rows = _Counted(origin.table_rows(table))
            for batch in iter(lambda: list(islice(rows, _BATCH)), []):  # noqa: B023 - consumed at once
                into.add_rows(table, batch)
            counts.append((table, rows.count))
    return Copied(tuple(counts))


class _Counted:
    """An iterator of rows that counts what it gave."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = next(self.rows)
        self.count += 1
        return row
