"""Per-topic selection: records and a topic in, ordered entries out. Pure: no I/O, no clock.

A topic's rules (rules.py) admit records; of several copies of one article the best is
kept; the topic's `sort` ranks them and its `limit` cuts the feed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..config import Sort, Topic
from .model import Entry, Record, entry_hash, entry_of, entry_of_related
from .rules import exclusion


def _copy_preference(record: Record) -> tuple[float, float]:
    # Of several records of one article: the latest edit, then the best.
    quality = record.quality if record.quality is not None else float("-inf")
    return (-record.updated.timestamp(), -quality)


def content_key(record: Record) -> str:
    """A digest of what a record publishes: the tie-break between equal copies."""
    return entry_hash(entry_of(record))


def _best_copy(copies: list[Record], content: Callable[[Record], str]) -> Record:
    # On a tie what the copies publish decides, and the file name only between copies
    # that publish the same: renaming files never changes what subscribers see.
    return min(copies, key=lambda r: (_copy_preference(r), content(r), r.key))


class _Sortable(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def quality(self) -> float | None: ...
    @property
    def heat(self) -> float | None: ...


SortKey = tuple[float, float, str]
"""Where an entry ranks under a topic's `sort` rule: lower ranks first; unique per id."""


def order_key(sort: Sort) -> Callable[[_Sortable], SortKey]:
    """The sort key of a topic's `sort` rule, for records and entries alike."""

    def key(item: _Sortable) -> SortKey:
        return sort_key(sort, item.published.timestamp(), item.quality, item.heat, item.id)

    return key


def sort_key(sort: Sort, timestamp: float, quality: float | None, heat: float | None, id_: str) -> SortKey:
    """Where an item ranks under `sort`, from its date (seconds since the epoch) and
    values: shared by `order_key` and `rank`, so the two always agree."""
    newest = -timestamp
    if sort == "newest":
        return (newest, 0.0, id_)
    value = quality if sort == "quality" else heat
    return (-value if value is not None else float("inf"), newest, id_)


@dataclass(frozen=True, slots=True)
class Selection:
    """What one topic publishes, and what it left out and why."""

    topic: Topic
    entries: tuple[Entry, ...]  # in feed order
    admitted: tuple[Record, ...]  # one copy per article, as given (whole or light)
    duplicates: tuple[tuple[Record, Record], ...]  # (dropped copy, kept copy)

    @property
    def full(self) -> bool:
        """Whether the feed is full: entries it could not take were cut."""
        return len(self.entries) >= self.topic.rules.limit


def admit(
    records: Iterable[Record], topic: Topic, now: datetime, content: Callable[[Record], str] = content_key
) -> tuple[list[Record], list[tuple[Record, Record]]]:
    """The records `topic`'s rules admit, one copy per article, and the (dropped, kept)
    pairs of duplicate copies; `content` gives a copy's `content_key`."""
    copies: dict[str, list[Record]] = {}
    for record in records:
        if exclusion(record, topic, now) is None:
            copies.setdefault(record.id, []).append(record)
    kept: list[Record] = []
    duplicates: list[tuple[Record, Record]] = []
    for group in copies.values():
        best = group[0] if len(group) == 1 else _best_copy(group, content)
        kept.append(best)
        duplicates.extend((other, best) for other in group if other is not best)
    return kept, duplicates


def arrange(kept: Iterable[Record], topic: Topic) -> tuple[Entry, ...]:
    """The entries admitted records make, in feed order, up to the limit. In "entries"
    mode related articles join them."""
    entries = {record.id: entry_of(record) for record in kept}
    if topic.rules.related == "entries":
        for record in sorted(kept, key=lambda r: (_copy_preference(r), r.id)):
            for related in record.related:
                entry = entry_of_related(related, record)
                if entry is not None:
                    entries.setdefault(entry.id, entry)
    ordered = sorted(entries.values(), key=order_key(topic.rules.sort))
    return tuple(ordered[: topic.rules.limit])


Whole = Callable[[Sequence[Record]], Sequence[Record]]
"""Given records without their images and related articles, the same records whole."""


def select(
    records: Iterable[Record],
    topic: Topic,
    now: datetime,
    *,
    content: Callable[[Record], str] = content_key,
    whole: Whole | None = None,
) -> Selection:
    """The entries `topic` publishes from `records`, in feed order.

    A caller holding light records (what a topic needs to choose, without images and
    related articles) passes `content`, the stored content key of a copy, and `whole`,
    which fetches whole records: only those that can reach the feed are fetched (the
    first `limit` in feed order, or in "entries" mode, where related articles compete
    for places, every admitted one)."""
    kept, duplicates = admit(records, topic, now, content)
    needed: Sequence[Record] = kept
    if whole is not None:
        if topic.rules.related != "entries":
            needed = sorted(kept, key=order_key(topic.rules.sort))[: topic.rules.limit]
        needed = whole(needed)
    return Selection(topic, arrange(needed, topic), tuple(kept), tuple(duplicates))


def verdict(record: Record, selection: Selection, now: datetime,
            shown: Callable[[str], str] = str) -> str:  # fmt: skip
    """Whether `selection` (chosen from records including `record`) publishes it, and if
    not, why; `shown` names a record file by its key."""
    reason = exclusion(record, selection.topic, now)
    if reason is not None:
        return f"excluded by {reason}"
    for dropped, kept in selection.duplicates:
        if dropped.key == record.key:
            return f"not used: the same article as {shown(kept.key)}, which is kept"
    for position, entry in enumerate(selection.entries, 1):
        if entry.id == record.id:
            return f"selected: entry {position} of {len(selection.entries)}"
    return f"cut: {selection.topic.rules.limit} entries ranked higher fill the limit"
