"""What a feed remembers of its entries from run to run: when each was first published
and when what subscribers see of it last changed, so an edited entry keeps its id and
`published` while its `updated` moves. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from .model import Entry, entry_hash

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class History:
    """One entry's past in one feed."""

    hash: str
    first_seen: int  # microseconds since the epoch
    changed: int | None  # when its content last changed, if it ever did


def with_history(
    entries: Iterable[Entry], past: Mapping[str, History], now: datetime
) -> tuple[list[Entry], dict[str, History]]:
    """`entries` as a feed shows them at `now`, given what the feed last published
    (`past`, by entry id): an entry whose content changed since it was first published
    gets the time the change was first seen as `updated`. With them, the history the
    feed keeps from now on (entries that left it are forgotten)."""
    seen = (now - _EPOCH) // _MICRO
    present: dict[str, History] = {}
    out = []
    for entry in entries:
        digest = entry_hash(entry)
        before = past.get(entry.id)
        if before is None:
            history = History(digest, seen, None)
        elif before.hash != digest:
            history = History(digest, before.first_seen, seen)
        else:
            history = before
        present[entry.id] = history
        if history.changed is not None:
            changed = _EPOCH + timedelta(microseconds=history.changed)
            entry = replace(entry, updated=max(entry.updated, changed))
        out.append(entry)
    return out, present
