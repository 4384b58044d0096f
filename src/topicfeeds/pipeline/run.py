"""The whole job: read records, select per topic, render, publish. The CLI calls `build`.

A run does work in proportion to what changed since the last one, which the state
store remembers: with nothing changed it only lists and stats the records folder
(or, told which files changed, as `watch` is, stats those alone); otherwise it parses
the files that changed and rebuilds the topics they touch.

The run is a sequence of stages, each a module: refresh (the records source's
changes into stored records), choose (per topic, what it publishes, from a view of
the stored records), archives, publish (render, put, site files, removals), and
notify (the CDN told to drop the changed files, then the WebSub hubs, after the lock
is let go). This module opens the state and holds the lock, and `_Build` only
sequences the stages.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..config import MATCH_ALL, Config, sent_digest
from ..config import fingerprint as config_fingerprint
from ..core.guard import subfolder_note
from ..destinations import Destination, open_destination
from ..destinations.dry import DryRun
from ..errors import OutputError, Problem, PublishError, display_path
from ..formats import topic_files
from ..notify.cdn import Purger, open_purger
from ..notify.purges import forget_purges, note_purges, purge_pending, purge_urls
from ..notify.websub import changed_feeds, deliver, next_attempt, note_changes
from ..records.codec import micros
from ..runtime.workers import available_cpus
from ..sources import Changes, open_source
from ..store import SCHEMA_VERSION, StateStore, Store, damaged, fault
from ..store.opening import attach_store, lock_file, open_store
from . import archives, choose, refresh
from .context import Context
from .listing import decode_counts
from .publish import Outputs, publish_site, removals_waiting, remove_unmade, resending
from .rebuild import rebuild
from .report import BuildReport, HubsReport, Progress, PurgeReport, TopicReport, build_report, quiet

__all__ = [
    "BuildReport",
    "HubsReport",
    "Progress",
    "PurgeReport",
    "build",
    "check_folders",
    "check_records_folder",
    "fingerprint",
    "lock_path",
    "tell_hubs",
]

# Outside the lock, how long noting a delivered ping waits for a run writing the state.
STORE_PATIENCE = 0.5


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
        return None  # in memory, or in PostgreSQL, whose lock is in the database
    return lock_file(config.state_path)


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
    named: Collection[str] | None = None,
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
    run (see guard.removal_guard); `named`, from a watch, the records events named,
    which the run looks at alone (a full run looks at every record all the same).
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
    with open_store(config, wait=wait, look=dry_run) as (store, notes):
        jobs = jobs or available_cpus()
        asked = _Asked(full, allow_removals, settled_records, None if named is None else frozenset(named))
        try:
            try:
                run = Context(config, open_source(config), store, now, jobs, progress or quiet)
                report = _Build(run, destination, asked).build()
            except sqlite3.DatabaseError as exc:
                if state is None or not damaged(exc):
                    raise
                # Damaged while in use: set it aside and start again from a new state, as
                # a cold run would. Anything else (locked, read-only, a full disk) leaves
                # the file as it is: what it holds is still good.
                store.close()
                store, more = StateStore.anew(state, f"state unusable ({exc})", look=dry_run)
                notes += more
                run = Context(config, open_source(config), store, now, jobs, progress or quiet)
                report = _Build(run, destination, asked).build()
        except sqlite3.DatabaseError as exc:
            store.close()
            raise fault(state or "state in memory", exc) from exc
        except BaseException:
            store.close()
            raise
    # The CDN and the hubs are told after the lock is let go, so a slow one holds up no
    # other run; the run's purges and pings were committed with it, so a run that dies
    # before telling them only delays them. A hub's Retry-After is measured on the
    # clock, whatever `now` says. A dry run tells no CDN and no hub.
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
        purge=None if told is None else told.purge,
    )


def tell_hubs(config: Config, store: Store | None = None, purger: Purger | None = None) -> HubsReport:
    """Tell the CDN to drop the changed files noted in the state (through `purger`, or
    one made from the settings), then the WebSub hubs of the changed feeds, but for
    those the CDN may still hold: from `store`, or from a connection of its own, which
    may be open beside a run that holds the lock (as `watch` tells them, in a thread of
    its own). Raises sqlite3.Error (StateError for a database) when the state cannot be
    read; the purges and pings then wait for the next call."""
    started = time.monotonic()
    if store is None:
        if not config.kept_state:
            return HubsReport(0, 0, None, (), 0.0)  # a state kept in memory was the run's own
        with contextlib.closing(attach_store(config)) as own:
            return tell_hubs(config, own, purger)
    store.patience(STORE_PATIENCE)
    shown = display_path(config.path)
    purge, notes = None, tuple[Problem, ...]()
    if config.cdn is None:
        forget_purges(store)
    else:
        # Before any hub: one told of a feed the CDN still holds fetches the old copy.
        purged = purge_pending(store, purger or open_purger(config.cdn), config.cdn.timeout)
        why = "not purged: {}; their pings wait until a later try purges them"
        notes = tuple(Problem(shown, None, "cdn", why.format(p)) for p in purged.problems)
        purge = PurgeReport(purged.purged, purged.waiting, purged.in_time)
    delivery = deliver(store, config.site, datetime.now(timezone.utc), purging=config.cdn is not None)
    retry = next_attempt(store, config.site, datetime.now(timezone.utc))
    notes += tuple(Problem(shown, None, "site.hubs", p) for p in delivery.problems)
    return HubsReport(delivery.sent, delivery.waiting, retry, notes, time.monotonic() - started, purge)


def fingerprint(config: Config) -> str:
    """The configuration's fingerprint (see config/digest.py) with this state's schema."""
    return config_fingerprint(config, SCHEMA_VERSION)


@dataclass(frozen=True, slots=True)
class _Asked:
    """What the caller asked of a build beyond bringing the feeds up to date."""

    full: bool  # read every record again and choose every topic afresh
    allow_removals: bool  # let the run drop most of the records the feeds hold
    settled_records: int | None  # see guard.removal_guard
    named: frozenset[str] | None  # the records events named, to look at alone; None: every record


class _Build:
    """One build over one state store: the stages in turn, and the report they make."""

    def __init__(self, run: Context, destination: Destination, asked: _Asked) -> None:
        self.run = run
        self.destination = destination
        self.asked = asked
        self.warnings: list[Problem] = []

    def build(self) -> BuildReport:
        """Bring every topic's feeds up to date; return what was done."""
        run, asked = self.run, self.asked
        config, store, source, now = run.config, run.store, run.source, run.now
        # A dry run learns as a run would, then forgets it all.
        with store.scratch() if isinstance(self.destination, DryRun) else store:
            made = fingerprint(config)
            prepared = refresh.prepare(store, made, now, forced=asked.full)
            found = refresh.changes(run, None if prepared.full else asked.named)
            files = self._files(found)
            note = subfolder_note(files, [] if files or not found.complete else source.subfolders())
            if note:
                self.warnings.append(Problem(source.where, None, None, note))
            sent = sent_digest(config)
            outputs = Outputs(self.destination, store, resend=resending(self.destination, store, sent))
            if (
                not prepared.full
                and not outputs.resend
                and found.quiet
                and not prepared.expired
                and outputs.intact()
                and not removals_waiting(config, store)
            ):
                return self._report(files, 0, (), int(store.meta("feeds") or 0))
            refreshed = refresh.refresh(
                run,
                found,
                prepared,
                allow_removals=asked.allow_removals,
                settled_records=asked.settled_records,
            )
            self.warnings += refreshed.warnings
            if not found.complete:
                files += refreshed.added - len(found.removed)
            topics, notes = choose.run_topics(config, store)
            self.warnings += notes
            rebuilt = store.topic_valid_until()
            counts = {} if refreshed.full else decode_counts(store.meta("topic_counts"))
            full, expired, touched = refreshed.full, refreshed.expired, refreshed.touched
            affected = [
                t for t in topics
                if full or t.slug not in rebuilt or t.slug in expired or t.slug not in counts
                or not outputs.intact(topic_files(t))
                or MATCH_ALL in t.match or not touched.isdisjoint(t.match)
            ]  # fmt: skip
            self.destination.tidy()
            done = rebuild(run, outputs, affected, refreshed, counts, rebuilt)
            self.warnings += done.warnings
            reports, failures = list(done.reports), list(done.failures)
            rebuilt_now = {t.slug for t in affected}
            for t in topics:  # archive pages removed or changed since: put back as written
                if t.rules.archive and t.slug not in rebuilt_now:
                    put = archives.put_back(outputs, t.slug)
                    failures += put.failures
                    if put.written:
                        reports.append(TopicReport(t.slug, put.written, put.unchanged))
            site, site_files = publish_site(outputs, config.site, topics, counts)
            failures += site.failures
            if outputs.resend:  # a file not put may still hold the bytes: sent again next time too
                store.set_meta("sent", "" if failures else sent)
            removal = remove_unmade(outputs, config, topics)
            failures += removal.failures
            whole = not failures and not removal.plan.refused
            for key, value in found.noting(refreshed.unsettled, whole).items():
                store.set_meta(key, value)
            if found.cursor is not None:
                store.set_meta("cursor", found.cursor)
            store.set_meta("files", str(files))
            store.set_meta("fingerprint", made)
            # From when every topic's last feed is its choice (explanations.py answers from
            # them then): unknown after a run back in time, until one chooses all afresh.
            chosen = store.meta("chosen")
            onward = refreshed.full or (bool(chosen) and int(chosen or 0) <= micros(now))
            store.set_meta("chosen", str(micros(now)) if onward else "")
            pages = sum(len(store.archive_pages(t.slug)) for t in topics if t.rules.archive)
            feeds = sum(len(topic_files(t)) for t in topics) + site_files + pages
            store.set_meta("feeds", str(feeds))  # every output file: feeds, pages, site files
            # Noted with the run, so a run that dies before telling the hubs leaves them noted.
            note_changes(store, config.site, changed_feeds(config.site, outputs.changed))
            if config.cdn is not None:  # every file changed or gone, not only the feeds hubs hear of
                urls = purge_urls(config.site, [*outputs.changed, *removal.gone])
                note_purges(store, urls, uuid.uuid4().hex)
            # Reported from the store as this run left it: a dry run's is rolled back
            # at the block's end, to what the last run knew.
            report = self._report(files, refreshed.parsed, reports, feeds, failures)
        kept = tuple(outputs.location(name) for name in removal.plan.kept)
        return replace(report, site_written=site.written, removed=removal.removed, kept=kept,
                       removals_refused=removal.plan.refused)  # fmt: skip

    def _files(self, found: Changes) -> int:
        """How many records the source holds, as the run begins: those a full account
        lists, else as many as the last run left (see the run's end) less those gone."""
        if found.complete:
            return len(found.listed)
        store = self.run.store
        noted = store.meta("files")
        return int(noted) if noted else store.counts()[0]

    def _report(self, files: int, parsed: int, topics: Sequence[TopicReport], feeds: int,
                failures: Sequence[PublishError] = ()) -> BuildReport:  # fmt: skip
        run = self.run
        return build_report(run.store, run.source, files, parsed, self.warnings, topics, feeds, failures)
