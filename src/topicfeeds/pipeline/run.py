"""The whole job: read records, select per topic, render, publish. The CLI calls `build`.

A run does work in proportion to what changed since the last one, which the state
store remembers: with nothing changed it only lists and stats the records folder;
otherwise it parses the files that changed and rebuilds the topics they touch.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Literal

from .. import __version__
from ..config import MATCH_ALL, Config, Site, Topic, sent_digest
from ..config import fingerprint as config_fingerprint
from ..core.archive import archive_name, page_ids, plan_archive
from ..core.guard import removal_guard, subfolder_note
from ..core.incremental import (
    ChangesByTopic,
    LastFeed,
    changes_by_topic,
    changes_for,
    last_feed,
    update_candidates,
    update_holds,
)
from ..core.model import Entry, Record, entry_hash
from ..core.removals import RemovalPlan, plan_removals
from ..core.schedule import as_of, due_at, feed_updated, next_change
from ..core.select import Selection, content_key, select, verdict
from ..core.shortlist import Shortlist, shortlisted
from ..core.topics import plan_topics, record_topic_names, too_many_topics
from ..destinations import Destination, open_destination
from ..destinations.dry import DryRun
from ..errors import OutputError, Problem, PublishError, RecordError, RemovalsRefused, printable
from ..formats import (
    listing_of,
    render_archive,
    render_site,
    render_topic,
    site_file_names,
    topic_digest,
    topic_due,
    topic_files,
)
from ..formats.common import SUFFIXES
from ..notify.websub import changed_feeds, deliver, next_attempt, note_changes
from ..records import codec
from ..records.codec import from_micros, micros
from ..records.reader import read_record
from ..records.yamlload import CACHE_LIMIT
from ..runtime.lock import exclusive
from ..runtime.workers import available_cpus, iter_files
from ..sources import RecordSource, chunks, open_source
from ..sources.stamps import Listing, Stamp, display_path
from ..store import SCHEMA_VERSION, ArchiveRow, Cached, History, StateStore, damaged, fault
from .listing import decode_counts, encode_counts, site_digest

# Files changed less than this long before they were read may change again within
# the same timestamp tick; they are hashed again on the next run.
RACY_NS = 2_000_000_000
PROGRESS_EVERY = 1000
# Outside the lock, how long noting a delivered ping waits for a run writing the state.
STORE_PATIENCE = 0.5
# A full run commits the records it has stored every this many, so that a run killed
# part-way leaves them for the next, and the write-ahead log never holds more than
# a few megabytes (SQLite copies it into the state file at each commit past 1,000 pages).
KEEP_EVERY = 2000

Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as a run advances: stage is "records" or "feeds"."""


@dataclass(frozen=True, slots=True)
class TopicReport:
    """What one topic's run did."""

    slug: str
    written: tuple[Path | str, ...]  # files whose bytes changed (a bucket's as s3:// addresses)
    unchanged: tuple[Path | str, ...]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the summary line and the exit status."""

    files: int  # record files in the folder
    parsed: int  # of which this run read and parsed
    records: int  # good records in the folder
    errors: tuple[Problem, ...]  # rejected records (all of them, parsed now or before)
    warnings: tuple[Problem, ...]  # about records parsed in this run, and about the state
    topics: tuple[TopicReport, ...]  # the topics this run rebuilt
    feeds: int  # output files there are (feeds, pages, site files), rebuilt or not
    failures: tuple[PublishError, ...]  # feeds that could not be written
    seconds: float = 0.0
    site_written: tuple[Path | str, ...] = ()  # site-level files (index, OPML, stylesheets) that changed
    planned: tuple[tuple[Path | str, int], ...] | None = None  # a dry run's: (file, size) it would write
    pings_sent: int = 0  # changed feed URLs the WebSub hubs confirmed (once per hub)
    pings_waiting: int = 0  # changed feed URLs hubs are still to be told of, by a later run
    pings_retry: datetime | None = None  # when a hub's Retry-After lets waiting pings go out
    removed: tuple[Path | str, ...] = ()  # published files no longer made, removed (dry run: would be)
    kept: tuple[Path | str, ...] = ()  # published files no longer made, left in place
    removals_refused: str | None = None  # why none was removed although removals were asked for

    @property
    def written_files(self) -> tuple[Path | str, ...]:
        """Every file whose bytes changed."""
        return (*(p for t in self.topics for p in t.written), *self.site_written)

    @property
    def written(self) -> int:
        """How many files changed."""
        return sum(len(t.written) for t in self.topics) + len(self.site_written)

    @property
    def unchanged(self) -> int:
        """How many feed files were left as they were."""
        return self.feeds - self.written - len(self.failures)

    @property
    def no_changes(self) -> bool:
        """Whether the run found nothing to do."""
        return (
            self.parsed == 0
            and not self.topics
            and not self.site_written
            and not self.failures
            and not self.removed
            and self.removals_refused is None
        )


@dataclass(frozen=True, slots=True)
class HubsReport:
    """What telling the hubs came to."""

    sent: int  # changed feed URLs the hubs confirmed (once per hub)
    waiting: int  # changed feed URLs hubs are still to be told of
    retry: datetime | None  # when a hub's Retry-After lets waiting pings go out
    warnings: tuple[Problem, ...]  # a line per hub that did not take them all
    seconds: float


def check_records_folder(config: Config) -> None:
    """Refuse to start when the records folder is unusable (exit status 2); a bucket
    shows whether it is usable when it is listed."""
    if config.records_url is None and not config.records_dir.is_dir():
        raise OutputError(f"{config.records_dir}: records folder does not exist")


def check_folders(config: Config, *, create: bool = False) -> None:
    """Refuse to start when the records or output folder is unusable (exit status 2);
    with `create`, make a missing output folder whose parent exists."""
    check_records_folder(config)
    out = config.output_dir
    if create and not out.exists() and out.parent.is_dir():
        # As other generators do: a missing output folder whose parent exists is made.
        try:
            out.mkdir(mode=0o755)
            # As readable as the files put in it (destinations/atomic.py), whatever the umask: under
            # 077 the web server's user could enter it no more than read a feed.
            out.chmod(0o755)
        except FileExistsError:
            pass
        except OSError as exc:
            raise OutputError(f"{out}: cannot create the output folder: {exc.strerror}") from exc
    if not out.exists():
        why = "nor does its parent folder" if create else "build the feeds first"
        raise OutputError(f"{out}: output folder does not exist; {why}")
    if not out.is_dir():
        raise OutputError(f"{out}: output path is not a folder")
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: output folder is not writable")


def lock_path(config: Config) -> Path | None:
    """The file whose lock a run holds: beside the state store."""
    if config.state_path is None:
        return None
    return config.state_path.with_name(config.state_path.name + ".lock")


def build(
    config: Config,
    now: datetime | None = None,
    jobs: int | None = None,
    *,
    wait: float = 0.0,
    progress: Progress | None = None,
    full: bool = False,
    allow_removals: bool = False,
    dry_run: bool = False,
    hubs: bool = True,
    settled_records: int | None = None,
) -> BuildReport:
    """Bring every topic's feeds up to date with the records folder.

    `now` is the reference time for max_age_days and for noting when an entry
    changed (the clock when not given); `jobs` how many processes may parse records
    (all available processors when not given); `wait` how long to wait for another
    run to finish before raising LockedError; `full` reads every record again and
    chooses every topic afresh, as a run without state would, keeping the history of
    published entries (so edited entries keep their `updated`); `allow_removals` lets
    the run drop most of the records the feeds hold (RemovalsRefused otherwise);
    `dry_run` writes nothing anywhere and reports what would be written; `hubs=False`
    leaves the run's WebSub pings noted in the state for `tell_hubs` to send;
    `settled_records`, from a watch, is how many records the feeds held at its settled
    run (see guard.removal_guard).
    """
    if config.output_url is None:
        check_folders(config, create=not dry_run)
    else:
        check_records_folder(config)
    destination = open_destination(config, dry_run=dry_run)
    destination.check()
    started = time.monotonic()
    now = now or datetime.now(timezone.utc)
    state = config.state_path
    if dry_run and state is not None and not state.exists():
        state = None  # a dry run leaves no state file behind, nor a lock file
    lock = lock_path(config) if state else None
    with exclusive(lock, wait) if lock else contextlib.nullcontext():
        store, notes = StateStore.open(state, wait=wait, look=dry_run)
        jobs = jobs or available_cpus()
        try:
            try:
                report = _Run(
                    config, store, now, jobs, progress, full, allow_removals, destination, settled_records
                ).run()
            except sqlite3.DatabaseError as exc:
                if state is None or not damaged(exc):
                    raise
                # Damaged while in use: set it aside and start again from a new state, as
                # a cold run would. Anything else (locked, read-only, a full disk) leaves
                # the file as it is: what it holds is still good.
                store.close()
                store, more = StateStore.anew(state, f"state unusable ({exc})", look=dry_run)
                notes += more
                report = _Run(
                    config, store, now, jobs, progress, full, allow_removals, destination, settled_records
                ).run()
        except sqlite3.DatabaseError as exc:
            store.close()
            raise fault(state or "state in memory", exc) from exc
        except BaseException:
            store.close()
            raise
    # The hubs are told after the lock is let go, so a slow hub holds up no other run;
    # the run's pings were committed with it, so a run that dies before telling them
    # only delays them. A hub's Retry-After is measured on the clock, whatever `now`
    # says. A dry run tells no hub.
    try:
        told = tell_hubs(config, store) if hubs and not dry_run else None
    finally:
        store.close()
    planned = tuple(destination.planned) if isinstance(destination, DryRun) else None
    return replace(
        report,
        warnings=(*notes, *report.warnings, *(() if told is None else told.warnings)),
        seconds=time.monotonic() - started,
        planned=planned,
        pings_sent=0 if told is None else told.sent,
        pings_waiting=0 if told is None else told.waiting,
        pings_retry=None if told is None else told.retry,
    )


def tell_hubs(config: Config, store: StateStore | None = None) -> HubsReport:
    """Tell the WebSub hubs of the changed feeds noted in the state: from `store`, or
    from a connection of its own, which may be open beside a run that holds the lock
    (as `watch` tells them, in a thread of its own). Raises sqlite3.Error when the
    state cannot be read; the pings then wait for the next call."""
    started = time.monotonic()
    if store is None:
        if config.state_path is None:
            return HubsReport(0, 0, None, (), 0.0)  # a state kept in memory was the run's own
        with contextlib.closing(StateStore.attach(config.state_path)) as own:
            return tell_hubs(config, own)
    store.patience(STORE_PATIENCE)
    delivery = deliver(store, config.site, datetime.now(timezone.utc))
    retry = next_attempt(store, config.site, datetime.now(timezone.utc))
    notes = tuple(Problem(display_path(config.path), None, "site.hubs", p) for p in delivery.problems)
    return HubsReport(delivery.sent, delivery.waiting, retry, notes, time.monotonic() - started)


def fingerprint(config: Config) -> str:
    """The configuration's fingerprint (see config/digest.py) with this state's schema."""
    return config_fingerprint(config, SCHEMA_VERSION)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a record is or is not in each topic's feed."""

    record: Record
    shown: str  # the record's file, as the user would write it
    warnings: tuple[Problem, ...]  # about parts of it that were dropped
    verdicts: tuple[tuple[str, str], ...]  # (topic slug, verdict) for every topic


def explain(
    config: Config, path: Path | str, now: datetime | None = None, *, wait: float = 0.0
) -> Explanation:
    """Whether each topic selects the record in file `path` (or at an s3:// address in the
    records bucket), and if not, why: the build's own selection, over the records as
    they are now. The state store saves reparsing what is unchanged; nothing is
    written, and the output folder is not needed. Raises RecordError when the file
    cannot be read as a record."""
    (found,) = explain_each(config, [path], now, wait=wait)
    if isinstance(found, RecordError):
        raise found
    return found


@dataclass(frozen=True, slots=True)
class _Named:
    """A record a command named, read, before it is explained."""

    record: Record
    shown: str  # as the user would write it
    warnings: tuple[Problem, ...]
    name: str | None  # its name in the records source when named by its address there
    inside: bool  # whether it is among the records folder's files, as far as its path says


def explain_each(
    config: Config, paths: Sequence[Path | str], now: datetime | None = None, *, wait: float = 0.0
) -> list[Explanation | RecordError]:
    """`explain` for each of `paths` in turn, over one reading of the records and the
    state: an Explanation for each, or the RecordError that says why it could not be
    read as a record."""
    check_records_folder(config)
    now = now or datetime.now(timezone.utc)
    source = open_source(config)
    named: list[_Named | RecordError] = []
    for path in paths:
        try:
            named.append(_named(config, source, path))
        except RecordError as exc:
            named.append(exc)
    if all(isinstance(n, RecordError) for n in named):
        return [n for n in named if isinstance(n, RecordError)]  # nothing to prepare a run for
    lock = lock_path(config)
    state = config.state_path if config.state_path is not None and config.state_path.exists() else None
    found: list[Explanation | RecordError] = []
    with exclusive(lock, wait) if lock and state else contextlib.nullcontext():
        store, _ = StateStore.open(state, wait=wait, look=True)
        try:
            with store.scratch():  # whatever the run learns is rolled back
                run = _Run(config, store, now, available_cpus(), None, allow_removals=True)
                listing = run.scan()
                run.prepare()
                for n in named:
                    if isinstance(n, RecordError):
                        found.append(n)
                        continue
                    inside = n.inside and (n.name is None or n.name in listing)
                    extra = () if inside else (n.record,)  # explained as if it were in the folder
                    verdicts = tuple(
                        (t.slug, verdict(n.record, run.select(t, extra=extra), now, run.shown_key))
                        for t in run.topics(extra)
                    )
                    found.append(Explanation(n.record, n.shown, n.warnings, verdicts))
        except sqlite3.DatabaseError as exc:
            raise fault(state or "state in memory", exc) from exc
        finally:
            store.close()
    return found


def _named(config: Config, source: RecordSource, path: Path | str) -> _Named:
    """The record a command names by `path`: a file, or an address in the records source."""
    name = source.named(str(path))
    if name is None:
        path = Path(path)
        record, warnings = read_record(path, max_bytes=config.max_record_bytes)
        inside = config.records_url is None and path.resolve().parent == config.records_dir
        return _Named(record, display_path(path), tuple(warnings), None, inside)
    record, warnings = source.read(name, config.max_record_bytes)
    return _Named(record, source.shown(name), tuple(warnings), name, True)


# Topics chosen before their files are made in parallel: enough to keep the workers
# busy, few enough that their entries (whole records) take little memory.
RENDER_BATCH = 64
# Fewer topics to make than this are made here: forking costs about as much as
# making the files of a few small topics.
RENDER_PARALLEL_MIN = 8


def render_all(
    site: Site, chosen: Sequence[_Chosen], jobs: int, now: datetime | None = None
) -> Iterator[dict[str, bytes]]:
    """The files of each topic `chosen`, in order, made by up to `jobs` processes (see
    workers.py): rendering is pure, and the run's own process puts each in place."""

    def make(c: _Chosen) -> dict[str, bytes]:
        return render_topic(site, c.topic, c.entries, __version__, c.updated, c.prev_archive, now)

    return iter_files(chosen, make, jobs, per_chunk=1, least=RENDER_PARALLEL_MIN)


@dataclass(frozen=True, slots=True)
class _Chosen:
    """What one topic publishes, chosen, before its files are made (see _Run._choose)."""

    topic: Topic
    selection: Selection
    records: Sequence[Record]  # those its due time is found from
    narrow: bool  # chosen from only some of its records
    entries: Sequence[Entry]
    updated: datetime | None
    prev_archive: str | None
    digest: str
    render: bool  # whether its files must be made (else the files in place are these)
    pages: list[Path | str]  # archive pages put in place
    failed: list[PublishError]  # archive pages that could not be


class _Offers:
    """Which of some topics' shortlists each record goes to, by its topics."""

    def __init__(self, topics: Sequence[Topic], lists: dict[str, Shortlist]) -> None:
        self.every = [lists[t.slug] for t in topics if MATCH_ALL in t.match]
        self.by_name: dict[str, list[Shortlist]] = {}
        for topic in topics:
            if MATCH_ALL not in topic.match:
                for name in topic.match:
                    self.by_name.setdefault(name, []).append(lists[topic.slug])
        # The shortlists a record goes to, by its topics as written: records share a
        # few combinations of them, and the cache is emptied when full, so memory stays
        # flat however many records.
        self.routes: dict[str | tuple[str, ...], list[Shortlist]] = {}

    def offer(self, candidate: codec.LightCandidate) -> None:
        """Offer one record to each shortlist of a topic it matches."""
        names = candidate.topics
        known = names[0] if len(names) == 1 else tuple(names)
        route = self.routes.get(known)
        if route is None:
            found = [*self.every]
            for name in names:
                found += self.by_name.get(name.casefold(), ())
            # A topic matching two of a record's topics is offered it once.
            route = list(dict.fromkeys(found)) if len(found) > 1 else found
            if len(self.routes) >= CACHE_LIMIT:
                self.routes.clear()
            self.routes[known] = route
        for shortlist in route:
            shortlist.consider(candidate)


class _Run:
    """One build (or explanation) over one state store."""

    def __init__(self, config: Config, store: StateStore, now: datetime, jobs: int,
                 progress: Progress | None, full: bool = False,
                 allow_removals: bool = False, destination: Destination | None = None,
                 settled_records: int | None = None) -> None:  # fmt: skip
        self.config = config
        self.destination = destination or open_destination(config)
        self.source = open_source(config)
        self.dry_run = isinstance(self.destination, DryRun)
        self.store = store
        self.now = now
        self.jobs = jobs
        self.progress = progress or (lambda stage, done, total: None)
        self.warnings: list[Problem] = []
        self.light: dict[str, Record] = {}  # see _decoded
        self.copies: dict[str, list[Record]] = {}  # article id: its stored copies (see _records_of)
        self.changes: ChangesByTopic | None = None  # see _changes_for
        self.forced = full
        self.full = full  # every topic chooses from all its records again
        self.expired: set[str] = set()  # topics whose max_age_days window moved
        self.changed_ids: set[str] = set()  # articles with a copy added, edited or removed
        self.parsed = 0
        self.recorded: dict[str, tuple[int, int]] | None = None  # the outputs table, read once
        self.counts: dict[str, tuple[int, datetime | None]] = {}  # slug: (entries, newest published)
        self.listing = Listing.of({})
        self.spans: list[chunks.Span] | Literal[False] | None = False  # see _spans; False: not yet found
        self.digests: chunks.Digests = {}  # of the listing's chunks, made while finding the spans
        self.unsettled: set[str] = set()  # files whose stored stamp may not be their listed one
        self.scan_started = 0
        self.due: dict[str, int | None] = {}  # each topic's valid_until as the last run left it
        self.changed_names: list[str] = []  # output files whose bytes this run changed
        self.allow_removals = allow_removals
        self.settled_records = settled_records  # see guard.removal_guard
        # Shortlists filled as a build that reads every record stores them (see _offers).
        self.streamed: dict[str, Shortlist] | None = None
        self.resend = False  # every file is sent again, its bytes in place or not (see _resend)

    def scan(self) -> Listing:
        """List the records folder: every record file's stamp, by name."""
        self.scan_started = time.time_ns()
        # With no file known, every one is read and stamped as it is (see _store_rows):
        # the names alone are listed, and the cold build spares a stat a file.
        self.listing = self.source.scan(stamps=self.store.holds_files())
        return self.listing

    def prepare(self) -> set[str]:
        """Bring the stored records up to date with the listing `scan` made; return the
        topics (casefolded) of every record added, changed or removed."""
        self.full = self.forced or self.store.meta("fingerprint") != fingerprint(self.config)
        self.expired = {
            slug
            for slug, until in self.store.topic_valid_until().items()
            if until is not None and until <= micros(self.now)
        }
        if self.full:
            self.store.reset(records=self.forced)
            # Until the run's end stores it again, the state matches no configuration:
            # a run that resumes from the records this one kept is a full run too.
            self.store.set_meta("fingerprint", "")
            # Its batches change stored stamps the chunks noted by the last whole run
            # describe (after --full, none are left at all): this run and one resuming
            # it read every stored stamp.
            self.store.set_meta("chunks", "")
            self.spans = None
        return self._refresh()

    def topics(self, extra: Sequence[Record] = ()) -> list[Topic]:
        """Every topic there is (with `auto`, one per record topic, within the bounds),
        counting the records' topics of `extra` too."""
        config = self.config
        names = dict(self.store.topic_names(config.auto_max_topics_per_record)) if config.auto else {}
        for key, (spelling, count) in record_topic_names(extra, config.auto_max_topics_per_record).items():
            known, known_count = names.get(key, (spelling, 0))
            names[key] = (min(known, spelling), known_count + count)
        plan = plan_topics(config, names)
        if plan.left_out:
            self.warnings.append(_ceiling_warning(config, plan.wanted, plan.left_out))
        return list(plan.topics)

    def run(self) -> BuildReport:
        config, store = self.config, self.store
        # A dry run learns as a run would, then forgets it all.
        with store.scratch() if self.dry_run else store:
            listing = self.scan()
            note = subfolder_note(len(listing), [] if listing else self.source.subfolders())
            if note:
                self.warnings.append(Problem(self.source.where, None, None, note))
            due = store.topic_valid_until().values()
            # With names that sort as the store sorts them, the chunks tell whether
            # anything changed (see chunks.py); else a digest of the whole listing.
            spans = self._spans()
            settled = "chunks" if spans is not None else listing.digest()
            sent = sent_digest(config)
            self.resend = self._resend(sent)
            if (
                not self.forced
                and not self.resend
                and store.meta("fingerprint") == fingerprint(config)
                and store.meta("listing") == settled
                and not spans
                and not any(until is not None and until <= micros(self.now) for until in due)
                and self._outputs_intact()
                and not self._removals_waiting()
            ):
                return self._report(len(listing), 0, (), int(store.meta("feeds") or 0))
            touched = self.prepare()
            if not listing.stamped:  # stamped as the files were read: described anew
                self.digests.clear()
                settled = "chunks" if spans is not None else listing.digest()
            topics = self.topics()
            rebuilt = self.due = store.topic_valid_until()
            self.counts = {} if self.full else decode_counts(store.meta("topic_counts"))
            affected = [
                t for t in topics
                if self.full or t.slug not in rebuilt or t.slug in self.expired or t.slug not in self.counts
                or not self._outputs_intact(topic_files(t))
                or MATCH_ALL in t.match or touched.intersection(t.match)
            ]  # fmt: skip
            self.destination.tidy()
            reports, failures = self._rebuild(affected)
            rebuilt_now = {t.slug for t in affected}
            for t in topics:  # archive pages removed or changed since: put back as written
                if t.rules.archive and t.slug not in rebuilt_now:
                    restored, intact, failed = self._put_archive(t.slug)
                    failures += failed
                    if restored:
                        reports.append(TopicReport(t.slug, tuple(restored), tuple(intact)))
            site_written, site_files, site_failures = self._publish_site(topics)
            failures += site_failures
            if self.resend:  # a file not put may still hold the bytes: sent again next time too
                store.set_meta("sent", "" if failures else sent)
            removed, removal_failures, plan = self._remove_unmade(topics)
            failures += removal_failures
            # A racy file may still change unseen by stat: no shortcut for the next run.
            # Every racy file was read in this run (its stamp is new, or it was racy
            # before), so the files read tell, without a look at every stamp.
            store.set_meta("listing", "" if self.unsettled or failures or plan.refused else settled)
            if spans is None:
                store.set_meta("chunks", "")
            else:
                noted = chunks.chunks_of(self.listing, self.unsettled, made=self.digests)
                store.set_meta("chunks", chunks.encode(noted))
            store.set_meta("fingerprint", fingerprint(config))
            pages = sum(len(store.archive_pages(t.slug)) for t in topics if t.rules.archive)
            files = sum(len(topic_files(t)) for t in topics) + site_files + pages
            store.set_meta("feeds", str(files))  # every output file: feeds, pages, site files
            # Noted with the run, so a run that dies before telling the hubs leaves them noted.
            note_changes(store, config.site, changed_feeds(config.site, self.changed_names))
            # Reported from the store as this run left it: a dry run's is rolled back
            # at the block's end, to what the last run knew.
            report = self._report(len(self.listing), self.parsed, reports, files, failures)
        kept = tuple(self.destination.location(name) for name in plan.kept)
        return replace(report, site_written=tuple(site_written), removed=tuple(removed), kept=kept,
                       removals_refused=plan.refused)  # fmt: skip

    def _resend(self, sent: str) -> bool:
        """Whether every file is to be sent again: what is sent with the bytes (`sent`, a
        digest of an object's Cache-Control) is not what the files in place were sent
        with, which their bytes do not show. A state that has published nothing notes it
        at once; one that published before it was noted sends every file once. The
        destination is told; a folder, which keeps the bytes only, has nothing to resend."""
        noted = self.store.meta("sent")
        if noted == sent:
            return False
        if self.recorded is None:
            self.recorded = self.store.outputs()
        if (noted is not None or self.recorded) and self.destination.resend():
            # Until the run's end: a run cut short leaves the sending to the next one.
            self.store.set_meta("sent", "")
            self.recorded = {}  # no file counts as in place: every topic, page and site file is put
            return True
        self.store.set_meta("sent", sent)
        return False

    # -- records

    def _refresh(self) -> set[str]:
        """Parse what changed since the last run and store it; return the topics
        (casefolded) of every record added, changed or removed."""
        store, listing = self.store, self.listing
        # What the store knows of the files that changed, and of those that are gone.
        spans = None if self.forced else self._spans()
        known, cached = store.changed(listing, spans)
        listed = listing.names if spans is None else chunks.in_spans(listing.names, spans)
        stale = [name for name in listed if name not in known or name in cached]
        gone = {name for name in known if name not in listing}
        if gone and not self.allow_removals:
            self._guard_removals(gone)
        touched: set[str] = set()
        for name in gone:
            touched |= store.topics_of(name)
            self._note_old(name)
            store.forget(name)
        self.parsed = len(stale)
        offers = self._offers(stale)
        with store.filling():
            self._store_rows(stale, cached, touched, offers)
        return touched

    def _offers(self, stale: Sequence[str]) -> _Offers | None:
        """When this run reads every record into an empty store, as a cold build does,
        and chooses every topic from all of them (a full run, its topics named by the
        configuration), the topics' shortlists are filled as the rows are stored: the
        records are not read back from the store, and the shortlists' work overlaps the
        parsing. Offered in the store's order of names (`chunks.orderable`), as they
        would be read from it."""
        config = self.config
        if not self.full or config.auto or self.store.holds_files() or len(stale) != len(self.listing):
            return None
        if not chunks.orderable(self.listing.names):
            return None
        topics = plan_topics(config, {}).topics
        self.streamed = {t.slug: Shortlist(t, self.now) for t in topics}
        return _Offers(topics, self.streamed)

    def _store_rows(
        self, stale: Sequence[str], cached: dict[str, Cached], touched: set[str], offers: _Offers | None
    ) -> None:
        """Parse files `stale` and store them; add to `touched` the topics (casefolded)
        of every record added or changed, as it was and as it is; offer each record to
        `offers` when given."""
        store, listing, scan_started = self.store, self.listing, self.scan_started
        rows = self.source.rows(stale, self.config.max_record_bytes, self.jobs)
        names, at, stamped = listing.names, 0, listing.stamped
        full, auto, total = self.full, self.config.auto, len(stale)
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
                self.unsettled.add(name)  # its stored stamp proves nothing next time
            if old is not None and old.sha256 is not None and old.sha256 == row.sha256:
                store.restamp(name, stamp, racy)  # touched, not changed
                continue
            if old is not None:
                touched |= store.topics_of(name)
                self._note_old(name)
            store.put(row, racy, new=old is None)
            if row.light is not None:  # not rejected
                if offers is not None and row.id is not None:  # a good row has its id
                    offers.offer(codec.LightCandidate(codec.Light(name, row.id, row.light)))
                touched.update(row.folded)
                if row.id is not None and not full:  # a full run chooses every topic afresh
                    self.changed_ids.add(row.id)
                if row.problems != "[]":
                    self.warnings.extend(self._shown(p) for p in codec.decode_problems(row.problems))
                many = auto and too_many_topics(row.topics, self.config.auto_max_topics_per_record)
                if many:
                    self.warnings.append(Problem(self.shown_key(row.name), None, "topics", many))
            if done % PROGRESS_EVERY == 0 or done == total:
                self.progress("records", done, total)
            if full and done % KEEP_EVERY == 0:
                store.keep_progress()
        store.flush()

    def _spans(self) -> list[chunks.Span] | None:
        """The name ranges whose stored stamps may differ from the listing (see
        chunks.py), found once a run; None when names do not sort as the store's do."""
        if self.spans is False:
            last = chunks.decode(self.store.meta("chunks"))
            ordered = chunks.orderable(self.listing.names)
            found = chunks.changed_spans(self.listing, last, self.digests) if ordered else None
            self.spans = found
        return self.spans

    def _guard_removals(self, gone: set[str]) -> None:
        """Refuse a run that would drop most of the records the feeds hold. Files still
        there never count, however unreadable: only names no longer listed."""
        total, rejected = self.store.counts()
        config = self.config
        share, minimum = config.guard_removals, config.guard_min_removals
        verdict = removal_guard(
            total - rejected, self.store.good_count(gone), share, minimum, self.settled_records
        )
        if verdict is not None:
            raise RemovalsRefused(f"{self.source.where}: {verdict}; nothing was changed")

    def _note_old(self, name: str) -> None:
        if not self.full:  # a full run chooses every topic afresh: no need to remember
            self.changed_ids |= self.store.ids_of([name])

    def shown_key(self, key: str) -> str:
        """A record's file as the user would name it: records are kept by key."""
        return printable(self.source.shown(key))

    def _shown(self, problem: Problem) -> Problem:
        return replace(problem, path=self.shown_key(problem.path))

    def _decoded(self, name: str, light: codec.Light) -> Record:
        """The light record of file `name`, decoded once a run and shared by the topics."""
        record = self.light.get(name)
        if record is None:
            record = self.light[name] = codec.decode_light(light)
        return record

    def _light_records(self, topic: Topic) -> Sequence[Record]:
        """The records `topic` may select, without their images and related articles."""
        match = None if MATCH_ALL in topic.match else topic.match
        return [self._decoded(name, light) for name, light in self.store.light_records(match)]

    def _records_of(self, ids: Iterable[str]) -> list[Record]:
        """Every stored copy of the articles `ids`, light. Asked of the store once a run
        for each article (topics share most of theirs: the changed ones), and in one
        query for all the articles not asked for yet."""
        copies = self.copies
        wanted = sorted(set(ids))
        missing = [i for i in wanted if i not in copies]
        for article in missing:
            copies[article] = []
        for article, light in self.store.copies_of(missing):
            copies[article].append(self._decoded(light.key, light))
        return [record for article in wanted for record in copies[article]]

    def _changes_for(self, topic: Topic) -> frozenset[str]:
        """The changed articles with a record `topic` can match (see selector.changes_for)."""
        if self.changes is None:
            self.changes = changes_by_topic(self._records_of(self.changed_ids))
        return changes_for(topic, self.changed_ids, self.changes)

    def _shortlists(self, topics: Sequence[Topic]) -> dict[str, Shortlist]:
        """A shortlist for each of `topics`, filled in one pass over the records they
        can match: each record is decoded once, and none is held beyond the shortlists,
        so memory does not grow with the records folder. Those filled as this run
        stored every record (see _offers) are taken when they are for the same topics."""
        streamed, self.streamed = self.streamed, None
        if streamed is not None and [s.topic for s in streamed.values()] == list(topics):
            return streamed
        lists = {t.slug: Shortlist(t, self.now) for t in topics}
        if not topics:
            return lists
        offers = _Offers(topics, lists)
        # Past ten topics, one pass over every record costs less than their own.
        match = None if offers.every or len(topics) > 10 else sorted(offers.by_name)
        for _, light in self.store.light_records(match):
            offers.offer(codec.LightCandidate(light))
        return lists

    def _choose_all(self, topic: Topic, shortlist: Shortlist) -> tuple[Selection, Sequence[Record]]:
        """`topic`'s selection from all its records, and the records its due time is
        found from: from its shortlist, or should that not decide, from every record."""
        chosen = shortlisted(shortlist, self._records_of, content=self._content_key, whole=self._whole)
        if chosen is not None:
            return chosen
        records = self._light_records(topic)
        return self.select(topic, records), records

    def _content_key(self, record: Record) -> str:
        # Light records lack what tells tied copies apart: ties read the whole record.
        return content_key(self.store.full_records([record.key])[record.key])

    def _whole(self, records: Sequence[Record]) -> list[Record]:
        found = self.store.full_records(r.key for r in records)
        return [found[r.key] for r in records]

    def select(self, topic: Topic, records: Sequence[Record] | None = None,
               extra: Sequence[Record] = ()) -> Selection:  # fmt: skip
        """`topic`'s selection from `records` (by default all it may select) and `extra`
        (whole records not in the store)."""
        light = self._light_records(topic) if records is None else records
        if extra:
            keys = {r.key for r in extra}
            light = [*(r for r in light if r.key not in keys), *extra]
            whole = {r.key: r for r in extra}
            fetch = self._whole
            return select(
                light, topic, self.now,
                content=lambda r: content_key(whole[r.key]) if r.key in whole else self._content_key(r),
                whole=lambda rs: [whole.get(r.key) or fetch([r])[0] for r in rs],
            )  # fmt: skip
        return select(light, topic, self.now, content=self._content_key, whole=self._whole)

    # -- topics

    def _plan(self, topic: Topic) -> tuple[LastFeed | None, frozenset[str] | None]:
        """The last feed of `topic`, and the articles its new feed can be chosen from
        (None: from all its records); see selector.update_candidates."""
        if self.full or topic.slug in self.expired:
            return None, None
        last = self.store.last_feed(topic.slug)
        if last is None:
            return None, None
        return last, update_candidates(last, self._changes_for(topic), topic)

    def _rebuild(self, topics: Sequence[Topic]) -> tuple[list[TopicReport], list[PublishError]]:
        reports: list[TopicReport] = []
        failures: list[PublishError] = []
        plans = {topic.slug: self._plan(topic) for topic in topics}
        # Every article a topic updates its feed from, asked of the store at once.
        self._records_of(chain.from_iterable(ids for _, ids in plans.values() if ids is not None))
        rendered = self.store.rendered()
        # Topics that choose from all their records do so from shortlists, filled together.
        shortlists = self._shortlists([t for t in topics if plans[t.slug][1] is None])
        done = 0
        for start in range(0, len(topics), RENDER_BATCH):
            # Chosen here, a batch at a time; their files made in parallel (see
            # render_all), each put in place as it comes, in the topics' order.
            made = [
                self._choose(t, plans[t.slug], shortlists, rendered)
                for t in topics[start : start + RENDER_BATCH]
            ]
            files = render_all(self.config.site, [m for m in made if m.render], self.jobs, self.now)
            for m in made:
                topic = m.topic
                failures += m.failed
                if m.render:
                    written, unchanged, failed = self._publish_files(next(files))
                else:  # made of the same as the files in place: the same bytes, not made again
                    written, failed = [], []
                    unchanged = [self.destination.location(name) for name in topic_files(topic)]
                written = [*m.pages, *written]
                failures += failed
                if not failed:
                    due = self._due(topic, m.selection, m.records, narrow=m.narrow)
                    # A format that reads the run's time says when its file next changes.
                    site, now = self.config.site, self.now
                    made_due = topic_due(site, topic, m.entries, __version__, m.updated, m.prev_archive, now)
                    if made_due is not None:
                        due = micros(made_due) if due is None else min(due, micros(made_due))
                    self.store.set_topic(topic.slug, due, last_feed(m.selection).floor)
                    rendered[topic.slug] = m.digest
                else:
                    self.store.forget_topic(topic.slug)  # so the next run writes it again
                    rendered.pop(topic.slug, None)
                reports.append(TopicReport(topic.slug, tuple(written), tuple(unchanged)))
                done += 1
                self.progress("feeds", done, len(topics))
        if topics:
            self.store.set_rendered(rendered)
        return reports, failures

    def _choose(
        self,
        topic: Topic,
        plan: tuple[LastFeed | None, frozenset[str] | None],
        shortlists: dict[str, Shortlist],
        rendered: dict[str, str],
    ) -> _Chosen:
        """What `topic` publishes: its selection and entries (with their history), its
        archive brought up to date (the pages put in place first: the feed never links
        a page that is not there yet), and whether its files must be made again."""
        last, ids = plan
        selection = None
        narrow = last is not None and ids is not None
        records: Sequence[Record] = ()
        if last is not None and ids is not None:
            records = self._records_of(ids)
            selection = self.select(topic, records)
            if not update_holds(last, selection):
                selection, narrow = None, False  # a place opened that only the others can fill
        if selection is None:
            shortlist = shortlists.pop(topic.slug, None) or self._shortlists([topic])[topic.slug]
            selection, records = self._choose_all(topic, shortlist)
        # Times still to come are shown when they come, unless the topic publishes
        # future-dated records as they are (`future: publish`).
        shown_at = None if topic.rules.future == "publish" else self.now
        entries = self._with_history(topic.slug, as_of(selection.entries, shown_at))
        prev_archive = None
        pages: list[Path | str] = []
        failed: list[PublishError] = []
        if topic.rules.archive:
            entries, prev_archive = self._archive(topic, entries)
            pages, _, failed = self._put_archive(topic.slug)
        self.counts[topic.slug] = (len(entries), max((e.published for e in entries), default=None))
        updated = feed_updated(entries, shown_at)
        digest = topic_digest(self.config.site, topic, entries, __version__, updated, prev_archive, self.now)
        render = rendered.get(topic.slug) != digest or not self._outputs_intact(topic_files(topic))
        return _Chosen(
            topic, selection, records, narrow, entries, updated, prev_archive, digest, render, pages, failed
        )

    def _due(
        self, topic: Topic, selection: Selection, records: Sequence[Record], *, narrow: bool
    ) -> int | None:
        """When the topic must be chosen again with nothing else changed: a record ages
        past max_age_days, a held record's time comes, or an entry's time still to come
        arrives. Chosen from only some records, it keeps the last run's time too: a
        record held for a future date may be among those left out."""
        changes = None if topic.rules.future == "publish" else next_change(selection.entries, self.now)
        times = (due_at(selection.admitted, records, topic, self.now), changes)
        due = min((micros(t) for t in times if t is not None), default=None)
        before = self.due.get(topic.slug) if narrow else None
        return min((t for t in (due, before) if t is not None), default=None)

    def _remove_unmade(
        self, topics: Sequence[Topic]
    ) -> tuple[list[Path | str], list[PublishError], RemovalPlan]:
        """Remove the files this program published and no longer makes, as far as asked
        (see removals.py); return those removed, those that could not be, and the plan."""
        store, destination, config = self.store, self.destination, self.config
        listings = [listing_of(t, 0, None) for t in topics]
        made = {name for t in topics for name in topic_files(t)} | set(site_file_names(listings))
        # An archived topic's pages are made as long as it is archived: never removed.
        made |= {
            archive_name(t.slug, n) for t in topics if t.rules.archive for n in store.archive_pages(t.slug)
        }
        published = store.outputs()
        unmade = published.keys() - made
        present = {name: destination.stamp(name) for name in unmade}
        plan = plan_removals(published, present, made, config.retire,
                             delete=config.delete, max_deletes=config.max_deletes,
                             suffixes=SUFFIXES.values())  # fmt: skip
        place = str(config.output_url or config.output_dir)
        if store.meta("output_place") != place:
            # Published elsewhere, before the output moved: not this place's to remove.
            plan = RemovalPlan((), (), tuple(sorted(unmade)))
            store.set_meta("output_place", place)
        removed: list[Path | str] = []
        failures: list[PublishError] = []
        for name in plan.remove:
            try:
                destination.withdraw(name)
            except PublishError as exc:
                failures.append(exc)  # still published: the next run tries again
                continue
            removed.append(destination.location(name))
            store.forget_output(name)
        for name in plan.forget:
            store.forget_output(name)
        store.set_meta("held", str(len(plan.kept) + len(failures)))
        return removed, failures, plan

    def _removals_waiting(self) -> bool:
        """Whether files an earlier run left in place are now asked to go."""
        return self.config.delete and self.store.meta("held") not in (None, "", "0")

    # -- archives (RFC 5005)

    def _archive(self, topic: Topic, entries: Sequence[Entry]) -> tuple[list[Entry], str | None]:
        """Bring `topic`'s archive up to date with the entries it selected: seal the pages
        that are full, and return what the subscription feed shows (the selected entries
        not archived, then the unsealed log, newest first) and the URL of the newest page."""
        slug, store = topic.slug, self.store
        pages = store.archive_pages(slug)
        self._adopt_pages(slug, (pages[-1] if pages else 0) + 1)
        rows = store.archive_entries(slug)
        if self._read_found_pages(slug, {r.page for r in rows}):
            rows = store.archive_entries(slug)
        sealed = {r.id for r in rows if r.page > 0}
        stored = {r.id: r.entry for r in rows if r.entry is not None}
        plan = plan_archive(
            [e.id for e in entries],
            [r.id for r in rows if r.page == -1],
            [r.id for r in rows if r.page == 0],
            sealed,
            max(1, topic.rules.limit),
        )
        by_id = {e.id: e for e in entries}
        updates = [ArchiveRow(i, -1, n, codec.encode_entry(by_id[i])) for n, i in enumerate(plan.shown)]
        updates += [ArchiveRow(i, 0, n, stored[i]) for n, i in enumerate(plan.log)]
        pages = store.archive_pages(slug)
        number = (pages[-1] if pages else 0) + 1
        for page in plan.pages:
            number = self._adopt_pages(slug, number)
            url = self._archive_url(slug, number)
            page_entries = [codec.decode_entry(stored[i]) for i in reversed(page)]  # newest first, as a feed
            previous = self._archive_url(slug, number - 1) if number > 1 else None
            following = self._archive_url(slug, number + 1)
            site = self.config.site
            data = render_archive(site, topic, page_entries, __version__, url, previous, following)
            store.add_archive_page(slug, number, data)
            updates += [ArchiveRow(i, number, n, None) for n, i in enumerate(page)]
            number += 1
        number = self._adopt_pages(slug, number)
        store.set_archive_entries(slug, updates)
        shown = [by_id[i] for i in plan.shown]
        shown += [codec.decode_entry(stored[i]) for i in reversed(plan.log)]
        return shown, self._archive_url(slug, number - 1) if number > 1 else None

    def _adopt_pages(self, slug: str, number: int) -> int:
        """The first page number from `number` on that the output does not hold yet.
        Pages found there that the state does not know (it was lost, or restored from
        an old copy) are kept as they are, never written over: numbering goes on after them."""
        while self.destination.stamp(archive_name(slug, number)) is not None and number not in set(
            self.store.archive_pages(slug)
        ):
            self.store.add_archive_page(slug, number, None)
            number += 1
        return number

    def _read_found_pages(self, slug: str, known: set[int]) -> bool:
        """Note as sealed the entries of the pages found in the output whose entries
        the state does not know (those `known` it does), read from the pages
        themselves: else a state that was lost would seal them again, in new pages.
        A page that cannot be read is left as it is, and reported. Return whether any
        entries were noted."""
        noted = False
        for number in self.store.found_pages(slug):
            if number in known:
                continue
            name = archive_name(slug, number)
            try:
                data = self.destination.read(name)
                ids = () if data is None else page_ids(data)
            except (OSError, ValueError) as exc:
                why = f"archive page not read ({exc}); kept as it is, but its entries may be archived again"
                self.warnings.append(
                    Problem(printable(str(self.destination.location(name))), None, None, why)
                )
                continue
            # A page lists its entries newest first; the state keeps them in the log's order.
            sealed = [ArchiveRow(i, number, n, None) for n, i in enumerate(reversed(ids))]
            self.store.set_archive_entries(slug, sealed)
            noted = noted or bool(ids)
        return noted

    def _archive_url(self, slug: str, number: int) -> str:
        return f"{self.config.site.base_url}{archive_name(slug, number)}"

    def _put_archive(self, slug: str) -> tuple[list[Path | str], list[Path | str], list[PublishError]]:
        """Put in place the archive pages of topic `slug` that are not as written (new,
        or removed or changed since); pages this state did not make are left alone."""
        if self.recorded is None:
            self.recorded = self.store.outputs()
        missing = {}
        for number in self.store.archive_pages(slug):
            name = archive_name(slug, number)
            known = self.recorded.get(name)
            if known is None or self.destination.stamp(name) != known:
                data = self.store.archive_page(slug, number)
                if data is not None:
                    missing[name] = data
        return self._publish_files(missing)

    def _with_history(self, feed: str, entries: Sequence[Entry]) -> list[Entry]:
        """Entries whose content changed since they were first published get the time
        the change was first seen as `updated`; their id and `published` stay."""
        past = self.store.history(feed)
        now = micros(self.now)
        present: dict[str, History] = {}
        out = []
        for entry in entries:
            digest = entry_hash(entry)
            before = past.get(entry.id)
            if before is None:
                history = History(digest, now, None)
            elif before.hash != digest:
                history = History(digest, before.first_seen, now)
            else:
                history = before
            present[entry.id] = history
            if history.changed is not None:
                entry = replace(entry, updated=max(entry.updated, from_micros(history.changed)))
            out.append(entry)
        self.store.set_history(feed, present)
        return out

    # -- outputs

    def _publish_site(self, topics: Sequence[Topic]) -> tuple[list[Path | str], int, list[PublishError]]:
        """Bring the site-level files up to date when a topic's listing changed or one of
        them is not as it was left; return what changed, how many there are, failures."""
        listings = [listing_of(t, *self.counts[t.slug]) for t in topics]
        names = site_file_names(listings)
        digest = site_digest(self.config.site, listings, __version__)
        self.store.set_meta("topic_counts", encode_counts({t.slug: self.counts[t.slug] for t in topics}))
        if self.store.meta("site") == digest and self._outputs_intact(names):
            return [], len(names), []
        written, _, failed = self._publish_files(render_site(self.config.site, listings, __version__))
        self.store.set_meta("site", "" if failed else digest)
        return written, len(names), failed

    def _publish_files(
        self, files: dict[str, bytes]
    ) -> tuple[list[Path | str], list[Path | str], list[PublishError]]:
        """Put each file in place when its bytes changed and note it in the state;
        return the files written, those left as they were, and failures."""
        written: list[Path | str] = []
        unchanged: list[Path | str] = []
        failures: list[PublishError] = []
        for name, data in files.items():
            where = self.destination.location(name)
            try:
                same = self.resend and self.destination.holds(name, data)  # sent again, not changed
                changed, stamp = self.destination.put(name, data)
                (written if changed else unchanged).append(where)
                if changed and not same:
                    self.changed_names.append(name)
                self.store.set_output(name, *stamp)
                if self.recorded is not None:
                    self.recorded[name] = stamp
            except (PublishError, OSError) as exc:
                failures.append(exc if isinstance(exc, PublishError) else PublishError(where, str(exc)))
        return written, unchanged, failures

    def _outputs_intact(self, names: Iterable[str] | None = None) -> bool:
        """Whether the files (`names`, or every one recorded) are as this program left them."""
        if self.recorded is None:
            self.recorded = self.store.outputs()  # once a run: topics ask in turn
        recorded = self.recorded
        if names is not None:
            wanted = list(names)
            if any(name not in self.recorded for name in wanted):
                return False
            recorded = {name: self.recorded[name] for name in wanted}
        stamp = self.destination.stamp
        return all(stamp(file) == known for file, known in recorded.items())

    def _report(self, files: int, parsed: int, topics: Sequence[TopicReport], feeds: int,
                failures: Sequence[PublishError] = ()) -> BuildReport:  # fmt: skip
        # The store holds a row for each listed file, and no other: counting the rejected
        # ones through their index costs nothing, counting every row a second at a million.
        return BuildReport(
            files=files,
            parsed=parsed,
            records=files - self.store.rejected_count(),
            errors=tuple(self._shown(p) for p in self.store.errors()),
            warnings=tuple(self.warnings),
            topics=tuple(topics),
            feeds=feeds,
            failures=tuple(failures),
        )


def _ceiling_warning(config: Config, wanted: int, left_out: Sequence[str]) -> Problem:
    shown = ", ".join(left_out[:20]) + (f" and {len(left_out) - 20} more" if len(left_out) > 20 else "")
    return Problem(
        display_path(config.path),
        None,
        "auto_max_topics",
        f"{wanted} record topics want an automatic feed, more than {config.auto_max_topics}; "
        f"left out: {shown}",
    )


_UNREAD = Stamp(0, 0, 0, 0)  # the stamp of a listed file that could not be read or stat-ed


def _racy(stamp: Stamp, scan_started: int) -> bool:
    return max(stamp.mtime_ns, stamp.ctime_ns) >= scan_started - RACY_NS
