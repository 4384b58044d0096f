"""The changes of a source that can be listed (a folder, a bucket): its listing, or the
stamps of the names a watcher heard of, compared with the stamps the state keeps.

A full account (`listed_changes`) compares only the name ranges whose chunk digests
differ from those the last full account noted (see chunks.py), and notes the new ones
once the run has stored what changed. An account of named records alone
(`named_changes`, as `watch` hears of them) compares those names, and marks the chunks
they fall in unsettled, so that the next full account reads those ranges again, and
only those: the digests it noted describe a listing the named run changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Set
from functools import partial
from typing import TYPE_CHECKING

from . import Changes, Known, chunks
from .stamps import Listing, Stamp

if TYPE_CHECKING:
    from ..store.records import Cached

# The state's notes: "chunks", the chunks' digests (see chunks.py); "listing", "chunks"
# (or a digest of the whole listing, for names that do not sort as the store sorts
# them) when the last run left every record settled, else "".
CHUNKS, LISTING = "chunks", "listing"


def listed_changes(known: Known, listing: Listing, started: int) -> Changes:
    """The full account `listing` gives, the source having begun listing at `started`
    (time.time_ns()): what the state knows of the names in the ranges that changed."""
    digests: chunks.Digests = {}
    ranges = None  # every stored stamp is read: names that do not sort as the store sorts them
    if chunks.orderable(listing.names):
        ranges = chunks.changed_spans(listing, chunks.decode(known.meta(CHUNKS)), digests)
    noting = partial(_note_listing, listing, ranges is not None, digests)
    if known.meta(LISTING) == _settled(listing, ranges is not None) and not ranges:
        # Nothing changed since a run that left every record settled: the state holds
        # the listing's very stamps, and nothing need be read from it.
        return Changes((), (), True, listing, started, {}, True, noting)
    # Which listed names the state knows comes back as a byte a name, not as a set of
    # the known names: at a million, with changes in every chunk, the set took a
    # hundred megabytes.
    seen, stored = known.changed(listing, ranges)
    names = listing.names
    spans = [(0, len(names))] if ranges is None else chunks.index_spans(names, ranges)
    changed = [
        names[at] for start, end in spans for at in range(start, end) if not seen[at] or names[at] in stored
    ]
    return Changes(changed, _gone(listing, stored), True, listing, started, stored, False, noting)


def named_changes(known: Known, stamps: Mapping[str, Stamp], named: Collection[str], started: int) -> Changes:
    """The account of the records `named` alone, `stamps` holding those that are
    there: changed when their stamp differs from the stored one, removed when gone."""
    listing = Listing.of(stamps)
    # A range of one name each: the stored form of a name sorts next to no other's.
    spans = [chunks.Span(name, name + "\0") for name in sorted(named)]
    seen, stored = known.changed(listing, spans)
    changed = [name for at, name in enumerate(listing.names) if not seen[at] or name in stored]
    removed = _gone(listing, stored)
    quiet = not changed and not removed and bool(known.meta(LISTING))
    noting = partial(_note_named, known.meta(CHUNKS), known.meta(LISTING), (*changed, *removed))
    return Changes(changed, removed, False, listing, started, stored, quiet, noting)


def _gone(listing: Listing, stored: Mapping[str, Cached]) -> set[str]:
    """The known names `listing` no longer has: among those whose stamp differs from
    the listed one (none listed), looked up in the order the store gave them."""
    find = listing.finder()
    return {name for name in stored if find(name) is None}


def _settled(listing: Listing, orderable: bool) -> str:
    """What the state notes of `listing` when every record in it is settled."""
    return "chunks" if orderable else listing.digest()


def _note_listing(
    listing: Listing, orderable: bool, digests: chunks.Digests, unsettled: Set[str], whole: bool
) -> Mapping[str, str]:
    if not listing.stamped:  # stamped as the records were read: described anew
        digests = {}
    # A racy file may still change unseen by stat: no shortcut for the next run. Every
    # racy file was read in this run (its stamp is new, or it was racy before), so the
    # files read tell, without a look at every stamp.
    settled = "" if unsettled or not whole else _settled(listing, orderable)
    noted = chunks.encode(chunks.chunks_of(listing, unsettled, made=digests)) if orderable else ""
    return {LISTING: settled, CHUNKS: noted}


def _note_named(
    noted: str | None, listed: str | None, touched: Collection[str], unsettled: Set[str], whole: bool
) -> Mapping[str, str]:
    last = chunks.decode(noted)
    if last and touched:
        last = chunks.unsettle(last, touched)
    # "chunks" still holds, the chunks touched marked; a digest of a whole listing no
    # longer describes the place.
    settled = "chunks" if listed == "chunks" and whole and not unsettled else ""
    return {LISTING: settled, CHUNKS: "" if last is None else chunks.encode(last)}
