"""The first stage of a run: the records source's listing in, the stored records
brought up to date with it out.

A run lists the source (`scan`), finds the name ranges whose stored stamps may differ
from the listing (`find_spans`, see chunks.py), settles what kind of run it is
(`prepare`: a full one when asked, or when the configuration or the program changed),
and then parses and stores what changed (`refresh`), refusing to drop most of the
records at once. It reads only what changed: with nothing changed it only lists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

from ..core.guard import removal_guard
from ..core.shortlist import Shortlist
from ..core.topics import plan_topics, too_many_topics
from ..errors import Problem, RemovalsRefused
from ..records import codec
from ..records.codec import micros
from ..sources import RecordSource, chunks
from ..sources.stamps import Listing, Stamp
from ..store import Cached, Store
from .context import Context
from .report import shown_key, shown_problem
from .view import Offers, WholeCandidate, split

# Files changed less than this long before they were read may change again within
# the same timestamp tick; they are hashed again on the next run.
RACY_NS = 2_000_000_000
PROGRESS_EVERY = 1000
# A full run commits the records it has stored every this many, so that a run killed
# part-way leaves them for the next, and the write-ahead log never holds more than
# a few megabytes (SQLite copies it into the state file at each commit past 1,000 pages).
KEEP_EVERY = 2000

_UNREAD = Stamp(0, 0, 0, 0)  # the stamp of a listed file that could not be read or stat-ed


@dataclass(frozen=True, slots=True)
class Scanned:
    """The records source as a run listed it."""

    listing: Listing  # every record file's stamp, by name (or the names alone, see `scan`)
    started: int  # time.time_ns() as the listing began: files changed since may change unseen


@dataclass(frozen=True, slots=True)
class Spans:
    """Where the listing differs from what the last whole run noted (see chunks.py)."""

    ranges: tuple[chunks.Span, ...] | None  # names whose stored stamps may differ; None: names
    # do not sort as the store sorts them, and every stored stamp is read
    digests: chunks.Digests  # of the listing's chunks, made while finding the ranges

    def settled(self, listing: Listing) -> str:
        """What the state notes of a listing all of whose files are settled."""
        return "chunks" if self.ranges is not None else listing.digest()


@dataclass(frozen=True, slots=True)
class Prepared:
    """What kind of run this is."""

    full: bool  # every topic chosen afresh (--full, or another configuration or program)
    expired: frozenset[str]  # topics whose max_age_days window or held records' time came


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What bringing the stored records up to date found."""

    listing: Listing  # every record file's stamp, by name, all of them now set
    parsed: int  # files read and parsed
    # Sets as storing the rows left them (not copied: a cold build may leave a million).
    touched: Set[str]  # casefolded topics of every record added, changed or removed
    changed: Set[str]  # articles with a copy added, edited or removed (none in a full run)
    warnings: tuple[Problem, ...]  # about the records parsed
    unsettled: Set[str]  # files whose stored stamp may not be their listed one
    full: bool  # see Prepared
    expired: frozenset[str]  # see Prepared
    # Filled as the rows were stored (see `_offers`), for the choosing stage, which takes
    # each from here as it chooses its topic, so that what it holds goes then.
    shortlists: dict[str, Shortlist] = field(default_factory=dict)


def scan(source: RecordSource, store: Store) -> Scanned:
    """List the records source: every record file's stamp, by name."""
    started = time.time_ns()
    # With no file known, every one is read and stamped as it is (see _store_rows):
    # the names alone are listed, and the cold build spares a stat a file.
    return Scanned(source.scan(stamps=store.holds_files()), started)


def find_spans(store: Store, listing: Listing) -> Spans:
    """The name ranges whose stored stamps may differ from `listing`, from the chunks
    the last whole run noted."""
    digests: chunks.Digests = {}
    if not chunks.orderable(listing.names):
        return Spans(None, digests)
    last = chunks.decode(store.meta("chunks"))
    return Spans(tuple(chunks.changed_spans(listing, last, digests)), digests)


def prepare(store: Store, fingerprint: str, now: datetime, *, forced: bool = False) -> Prepared:
    """Settle whether this is a full run (`forced`, or the state was left by another
    `fingerprint`) and which topics expired; a full run forgets what the state derived
    from the configuration first."""
    full = forced or store.meta("fingerprint") != fingerprint
    expired = frozenset(
        slug
        for slug, until in store.topic_valid_until().items()
        if until is not None and until <= micros(now)
    )
    if full:
        store.reset(records=forced)
        # Until the run's end stores it again, the state matches no configuration:
        # a run that resumes from the records this one kept is a full run too.
        store.set_meta("fingerprint", "")
        # Its batches change stored stamps the chunks noted by the last whole run
        # describe (after --full, none are left at all): this run and one resuming
        # it read every stored stamp.
        store.set_meta("chunks", "")
    return Prepared(full, expired)


def refresh(
    run: Context,
    scanned: Scanned,
    prepared: Prepared,
    spans: Sequence[chunks.Span] | None,
    *,
    allow_removals: bool = False,
    settled_records: int | None = None,
    stream: bool = True,
) -> Refreshed:
    """Parse what changed since the last run and store it: the files of `scanned`
    whose stamps differ from the stored ones (looked for in `spans` alone, or among
    every stored file when None, as a full run does).

    Refuses (RemovalsRefused) to drop most of the records the feeds hold unless
    `allow_removals`; `settled_records`, from a watch, is how many records the feeds
    held at its settled run (see guard.removal_guard). With `stream`, the shortlists
    of a cold build are filled as it stores the records (see `_offers`)."""
    store, listing = run.store, scanned.listing
    # What the store knows of the files that changed, and of those that are gone.
    known, cached = store.changed(listing, spans)
    listed = listing.names if spans is None else chunks.in_spans(listing.names, spans)
    stale = [name for name in listed if name not in known or name in cached]
    gone = {name for name in known if name not in listing}
    if gone and not allow_removals:
        _guard_removals(run, gone, settled_records)
    stored = _Stored(prepared.full)
    for name in gone:
        stored.touched |= store.topics_of(name)
        stored.note_old(store, name)
        store.forget(name)
    offers = _offers(run, listing, stale, prepared.full) if stream else None
    with store.filling():
        _store_rows(run, scanned, stale, cached, stored, offers)
    return Refreshed(
        listing=listing,
        parsed=len(stale),
        touched=stored.touched,
        changed=stored.changed,
        warnings=tuple(stored.warnings),
        unsettled=stored.unsettled,
        full=prepared.full,
        expired=prepared.expired,
        shortlists={} if offers is None else offers.lists,
    )


class _Stored:
    """What storing the rows found, gathered as they are stored."""

    def __init__(self, full: bool) -> None:
        self.full = full  # every topic chooses afresh: changed articles need no noting
        self.touched: set[str] = set()
        self.changed: set[str] = set()
        self.unsettled: set[str] = set()
        self.warnings: list[Problem] = []

    def note_old(self, store: Store, name: str) -> None:
        """Note the article of the record file `name` held, before it changes or goes."""
        if not self.full:  # a full run chooses every topic afresh: no need to remember
            self.changed |= store.ids_of([name])


def _guard_removals(run: Context, gone: set[str], settled: int | None) -> None:
    """Refuse a run that would drop most of the records the feeds hold. Files still
    there never count, however unreadable: only names no longer listed."""
    store, config = run.store, run.config
    total, rejected = store.counts()
    share, minimum = config.guard_removals, config.guard_min_removals
    verdict = removal_guard(total - rejected, store.good_count(gone), share, minimum, settled)
    if verdict is not None:
        raise RemovalsRefused(f"{run.source.where}: {verdict}; nothing was changed")


@dataclass(frozen=True, slots=True)
class _Streaming:
    """Shortlists filled as the rows are stored, and the offers that fill them."""

    lists: dict[str, Shortlist]  # by topic slug
    light: Offers  # of light records, to the topics whose rules read no more
    whole: Offers | None  # of whole records, to those whose rules need them (see core/rules.py)


def _offers(run: Context, listing: Listing, stale: Sequence[str], full: bool) -> _Streaming | None:
    """When this run reads every record into an empty store, as a cold build does,
    and chooses every topic from all of them (a full run, its topics named by the
    configuration), the topics' shortlists are filled as the rows are stored: the
    records are not read back from the store, and the shortlists' work overlaps the
    parsing. Offered in the store's order of names (`chunks.orderable`), as they
    would be read from it."""
    config, store = run.config, run.store
    if not full or config.auto or store.holds_files() or len(stale) != len(listing):
        return None
    if not chunks.orderable(listing.names):
        return None
    topics = plan_topics(config, {}).topics
    lists = {t.slug: Shortlist(t, run.now) for t in topics}
    light, whole = split(topics)
    return _Streaming(lists, Offers(light, lists), Offers(whole, lists) if whole else None)


def _store_rows(
    run: Context,
    scanned: Scanned,
    stale: Sequence[str],
    cached: dict[str, Cached],
    stored: _Stored,
    offers: _Streaming | None,
) -> None:
    """Parse files `stale` and store them; note in `stored` the topics (casefolded)
    of every record added or changed, as it was and as it is; offer each record to
    `offers` when given."""
    store, config, listing, scan_started = run.store, run.config, scanned.listing, scanned.started
    source, progress = run.source, run.progress
    rows = source.rows(stale, config.max_record_bytes, run.jobs)
    names, at, stamped = listing.names, 0, listing.stamped
    full, auto, total = stored.full, config.auto, len(stale)
    touched, changed, unsettled, warnings = stored.touched, stored.changed, stored.unsettled, stored.warnings
    light_offers, whole_offers = (None, None) if offers is None else (offers.light, offers.whole)
    # Done for every file of a cold build: each step counts.
    for done, row in enumerate(rows, 1):
        name = row.name
        # Rows come in the listing's order: each name is found by looking on from
        # the last, most often at once, rather than by a search of every name.
        try:
            at = names.index(name, at)
        except ValueError:  # out of order after all
            at = listing.index(name)
            if at < 0:
                raise KeyError(name) from None
        if stamped:
            listed = listing.stamp_at(at)
        else:  # names alone were listed: the file's stamp is what was read
            listed = row.stamp or _UNREAD
            listing.set_stamp(at, listed)
        stamp = row.stamp or listed
        racy = _racy(stamp, scan_started)
        old = cached.get(name)
        if racy or row.stamp != listed:
            unsettled.add(name)  # its stored stamp proves nothing next time
        if old is not None and old.sha256 is not None and old.sha256 == row.sha256:
            store.restamp(name, stamp, racy)  # touched, not changed
            continue
        if old is not None:
            touched |= store.topics_of(name)
            stored.note_old(store, name)
        store.put(row, racy, new=old is None)
        if row.light is not None:  # not rejected
            if light_offers is not None and row.id is not None:  # a good row has its id
                candidate = codec.LightCandidate(codec.Light(name, row.id, row.light))
                light_offers.offer(candidate)
                if whole_offers is not None and row.extra is not None:
                    whole_offers.offer(WholeCandidate(candidate, row.extra))
            touched.update(row.folded)
            if row.id is not None and not full:  # a full run chooses every topic afresh
                changed.add(row.id)
            if row.problems != "[]":
                warnings.extend(shown_problem(source, p) for p in codec.decode_problems(row.problems))
            many = auto and too_many_topics(row.topics, config.auto_max_topics_per_record)
            if many:
                warnings.append(Problem(shown_key(source, row.name), None, "topics", many))
        if done % PROGRESS_EVERY == 0 or done == total:
            progress("records", done, total)
        if full and done % KEEP_EVERY == 0:
            store.keep_progress()
    store.flush()


def _racy(stamp: Stamp, scan_started: int) -> bool:
    return max(stamp.mtime_ns, stamp.ctime_ns) >= scan_started - RACY_NS
