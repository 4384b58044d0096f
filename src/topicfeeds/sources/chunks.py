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
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .stamps import Listing

CHUNK = 1024  # names a chunk: 1,000 chunks at a million files, each read in ~1 ms

Chunks = list[tuple[str, str]]
"""(first name, digest) of each chunk, in name order; a digest "" never matches."""


@dataclass(frozen=True, slots=True)
class Span:
    """A range of file names: from `low` (None: from the first) up to, not including,
    `high` (None: to the last)."""

    low: str | None
    high: str | None


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
    listing: Listing,
    unsettled: Collection[str],
    size: int = CHUNK,
    made: Digests | None = None,
) -> Chunks:
    """The chunks of the listing's names; a chunk holding a name of `unsettled` (a file
    whose stored stamp may not be its listed one) gets the digest "", so the next run
    reads its stamps whatever the listing says. `made` saves hashing a slice again."""
    names = listing.names
    found: Chunks = []
    marked = sorted(unsettled)
    made = made or {}
    for start in range(0, len(names), size):
        end = min(start + size, len(names))
        first, last = names[start], names[end - 1]
        at = bisect.bisect_left(marked, first)
        if at < len(marked) and marked[at] <= last:
            found.append((first, ""))
        else:
            found.append((first, made.get((start, end)) or listing.digest(start, end)))
    return found


def changed_spans(listing: Listing, last: Chunks | None, made: Digests | None = None) -> list[Span]:
    """The name ranges in which the listing's names (and their stamps) differ from the
    chunks `last` noted: the listing is cut at the chunks' first names, and each part
    compared with its chunk. Adjacent ranges are joined. The digests made are put in
    `made`, for `chunks_of`."""
    names = listing.names
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
        start, end = cuts[n], cuts[n + 1]
        if noted and start < end and names[start] == first:
            made[start, end] = found = listing.digest(start, end)
            if found == noted:
                continue
        high = bounds[n + 1] if n + 1 < len(bounds) else None
        if spans and spans[-1].high == first:
            spans[-1] = Span(spans[-1].low, high)
        else:
            spans.append(Span(first, high))
    return spans


def unsettle(last: Chunks, names: Collection[str]) -> Chunks:
    """The chunks `last`, those that `names` fall in given the digest "": a run that
    changed those names alone leaves the rest of the listing as the chunks describe it,
    and the next run compares the stored stamps of these ranges whatever it lists."""
    firsts = [first for first, _ in last]
    marked = list(last)
    for name in names:
        at = bisect.bisect_right(firsts, name) - 1
        if at >= 0:  # a name before the first chunk: that range is always read (changed_spans)
            marked[at] = (marked[at][0], "")
    return marked


def index_spans(names: Sequence[str], spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Where each of `spans` lies in the sorted `names`: (start, end) indexes."""
    found: list[tuple[int, int]] = []
    for span in spans:
        start = 0 if span.low is None else bisect.bisect_left(names, span.low)
        end = len(names) if span.high is None else bisect.bisect_left(names, span.high)
        found.append((start, end))
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
