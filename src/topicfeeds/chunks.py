"""Which parts of the records folder changed since the last run, without reading what
the state store knows of every file.

A run notes the folder's listing in chunks: the sorted file names are cut into runs of
`CHUNK` names, and each chunk is remembered by its first name and a digest of its names
and stat stamps. The next run cuts its own listing at the same first names and digests
each part: the parts whose digest differs (or that the last run marked unsettled) are
the only name ranges whose stored stamps need reading. Pure: no I/O.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import marshal
from array import array
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from .reader import Stamp

CHUNK = 1024  # names a chunk: 1,000 chunks at a million files, each read in ~1 ms

Chunks = list[tuple[str, str]]
"""(first name, digest) of each chunk, in name order; a digest "" never matches."""


@dataclass(frozen=True, slots=True)
class Span:
    """A range of file names: from `low` (None: from the first) up to, not including,
    `high` (None: to the last)."""

    low: str | None
    high: str | None


def digest(names: Sequence[str], listing: Mapping[str, Stamp]) -> str:
    """A digest of `names` (sorted) and their stamps in `listing`."""
    hashed = hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape"))
    try:
        # Packed in C: building a string per file costs twice as long.
        hashed.update(array("q", chain.from_iterable(map(listing.__getitem__, names))).tobytes())
    except OverflowError:  # an inode number or time beyond 64-bit signed integers
        hashed.update(marshal.dumps([tuple(listing[name]) for name in names]))
    return hashed.hexdigest()


def orderable(names: Sequence[str]) -> bool:
    """Whether names sort in Python as the state store sorts them: not when one holds
    bytes that are not UTF-8 (the store keeps those in another form)."""
    try:
        "".join(names).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


Digests = dict[tuple[int, int], str]
"""Digests already made of slices of the sorted names, by (start, end)."""


def chunks_of(
    names: Sequence[str],
    listing: Mapping[str, Stamp],
    unsettled: Collection[str],
    size: int = CHUNK,
    made: Digests | None = None,
) -> Chunks:
    """The chunks of the sorted `names`; a chunk holding a name of `unsettled` (a file
    whose stored stamp may not be its listed one) gets the digest "", so the next run
    reads its stamps whatever the listing says. `made` saves hashing a slice again."""
    found: Chunks = []
    marked = sorted(unsettled)
    made = made or {}
    for start in range(0, len(names), size):
        end = min(start + size, len(names))
        part = names[start:end]
        at = bisect.bisect_left(marked, part[0])
        if at < len(marked) and marked[at] <= part[-1]:
            found.append((part[0], ""))
        else:
            found.append((part[0], made.get((start, end)) or digest(part, listing)))
    return found


def changed_spans(
    names: Sequence[str], listing: Mapping[str, Stamp], last: Chunks | None, made: Digests | None = None
) -> list[Span]:
    """The name ranges in which the sorted `names` (and their stamps) differ from the
    chunks `last` noted: the listing is cut at the chunks' first names, and each part
    compared with its chunk. Adjacent ranges are joined. The digests made are put in
    `made`, for `chunks_of`."""
    if last is None:  # nothing noted: every stamp is read
        return [Span(None, None)]
    if not last:  # an empty folder was noted
        return [Span(None, None)] if names else []
    made = {} if made is None else made
    spans: list[Span] = []
    bounds = [first for first, _ in last]
    cuts = [0, *(bisect.bisect_left(names, first) for first in bounds[1:]), len(names)]
    # Names before the first chunk's first name belong to no chunk: new files.
    head = bisect.bisect_left(names, bounds[0])
    if head:
        spans.append(Span(None, bounds[0]))
    cuts[0] = head
    for n, (first, noted) in enumerate(last):
        part = names[cuts[n] : cuts[n + 1]]
        if noted and part and part[0] == first:
            made[cuts[n], cuts[n + 1]] = found = digest(part, listing)
            if found == noted:
                continue
        high = bounds[n + 1] if n + 1 < len(bounds) else None
        if spans and spans[-1].high == first:
            spans[-1] = Span(spans[-1].low, high)
        else:
            spans.append(Span(first, high))
    return spans


def in_spans(names: Sequence[str], spans: Sequence[Span]) -> list[str]:
    """The sorted `names` that fall in `spans`."""
    found: list[str] = []
    for span in spans:
        start = 0 if span.low is None else bisect.bisect_left(names, span.low)
        end = len(names) if span.high is None else bisect.bisect_left(names, span.high)
        found.extend(names[start:end])
    return found


def encode(chunks: Chunks) -> str:
    """The chunks as text for the state store."""
    return json.dumps(chunks, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | None) -> Chunks | None:
    """The chunks a run stored; None (every stamp is read) when there are none, or
    they cannot be read."""
    try:
        raw = json.loads(text) if text else None
        return None if raw is None else [(str(first), str(noted)) for first, noted in raw]
    except (ValueError, TypeError):
        return None
