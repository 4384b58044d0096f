"""The first stage of a run: the records source's changes in, the stored records
brought up to date with them out.

A run settles what kind of run it is (`prepare`: a full one when asked, or when the
configuration or the program changed), asks the source what changed since the state
last heard from it (`changes`, see sources/), and then parses and stores what changed
(`refresh`), refusing to drop most of the records at once. It reads only what
changed: with nothing changed a folder is only listed. A record whose stamp was too
recent to trust when it was read (racy) is checked by the digest of its content, and
parsed again only when that changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

from ..core.guard import removal_guard
from ..core.shortlist import Shortlist
from ..core.topics import plan_topics, too_many_topics
from ..errors import Problem, RemovalsRefused
from ..records import codec
from ..records.codec import micros
from ..sources import Changes, chunks
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
class Prepared:
    """What kind of run this is."""

    full: bool  # every topic chosen afresh (--full, or another configuration or program)
    expired: frozenset[str]  # topics whose max_age_days window or held records' time came


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What bringing the stored records up to date found."""

    parsed: int  # files read and parsed
    added: int  # records the state did not know before
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
        store.set_meta("listing", "")
    return Prepared(full, expired)


def changes(run: Context, named: Collection[str] | None = None) -> Changes:
    """What changed in the records source since the state last heard from it; with
    `named`, among those names alone (as `watch` heard of them)."""
    return run.source.changes(run.store, named)


def refresh(
    run: Context,
    found: Changes,
    prepared: Prepared,
    *,
    allow_removals: bool = False,
    settled_records: int | None = None,
    stream: bool = True,
) -> Refreshed:
    """Parse what changed since the last run and store it, and forget what was removed.

    Refuses (RemovalsRefused) to drop most of the records the feeds hold unless
    `allow_removals`; `settled_records`, from a watch, is how many records the feeds
    held at its settled run (see guard.removal_guard). With `stream`, the shortlists
    of a cold build are filled as it stores the records (see `_offers`)."""
    store, listing, cached, gone = run.store, found.listed, found.stored, found.removed
    if gone and not allow_removals:
        _guard_removals(run, gone, settled_records)
    stored = _Stored(prepared.full)
    for name in gone:
        stored.touched |= store.topics_of(name)
        stored.note_old(store, name)
        store.forget(name)
    added = sum(1 for name in found.changed if name not in cached)
    stale = _unchanged_dropped(run, found, stored)
    offers = _offers(run, listing, stale, prepared.full) if stream else None
    with store.filling():
        _store_rows(run, found, stale, cached, stored, offers)
    return Refreshed(
        parsed=len(stale),
        added=added,
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


def _unchanged_dropped(run: Context, found: Changes, stored: _Stored) -> Sequence[str]:
    """`found.changed` less the records that were racy when stored, still have their
    stamp, and whose content still has its stored digest (which the source reads, but
    does not parse): those are only stamped again. Racy records are many in the run
    after a cold build of files written just before it."""
    cached, listing = found.stored, found.listed
    candidates = [
        name for name in found.changed
        if (old := cached.get(name)) is not None and old.racy and old.sha256 is not None
    ]  # fmt: skip
    racy = {
        name: listed
        for name, listed in zip(candidates, listing.stamps_of(candidates), strict=True)
        if listed is not None and cached[name].stamp == listed
    }
    if not racy:
        return found.changed
    restamped = []
    unsettled = stored.unsettled
    for name, stamp, digest in run.source.digests(list(racy), run.config.max_record_bytes, run.jobs):
        if digest != cached[name].sha256:
            continue
        racy_now = _racy(stamp, found.started)
        restamped.append((name, stamp, racy_now))
        if racy_now or stamp != racy[name]:
            unsettled.add(name)  # its stored stamp proves nothing next time
    if not restamped:
        return found.changed
    run.store.restamp(restamped)
    same = {name for name, _, _ in restamped}
    return [name for name in found.changed if name not in same]


def _guard_removals(run: Context, gone: Collection[str], settled: int | None) -> None:
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
    found: Changes,
    stale: Sequence[str],
    cached: Mapping[str, Cached],
    stored: _Stored,
    offers: _Streaming | None,
) -> None:
    """Parse files `stale` and store them; note in `stored` the topics (casefolded)
    of every record added or changed, as it was and as it is; offer each record to
    `offers` when given."""
    store, config, listing, scan_started = run.store, run.config, found.listed, found.started
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
        # Racy when changed too close to when its stamp was taken: as the file was read,
        # when its reader noted that (a cold build reads for many seconds after it
        # began listing), else as the listing began.
        racy = _racy(stamp, row.taken_ns if row.stamp is not None and row.taken_ns else scan_started)
        old = cached.get(name)
        if racy or row.stamp != listed:
            unsettled.add(name)  # its stored stamp proves nothing next time
        if old is not None and old.sha256 is not None and old.sha256 == row.sha256:
            store.restamp([(name, stamp, racy)])  # touched, not changed
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


def _racy(stamp: Stamp, taken: int) -> bool:
    """Whether a file stamped no earlier than `taken` may yet change unseen by its
    stamp: it changed within RACY_NS of then, within a tick of the clock that stamps
    files, however coarse. Changed earlier, any later change stamps it anew."""
    return max(stamp.mtime_ns, stamp.ctime_ns) >= taken - RACY_NS
