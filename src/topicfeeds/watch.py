"""Publish within seconds: watch the records source and run the incremental build
whenever records are added, changed, renamed or removed.

Every run is the same `build` (the same lock, the same output), so a watch and a cron
`build` never disagree. The source tells of changes as it can (sources/): a folder
through inotify, whose events name the files that changed, so that the run they start
looks at those files alone and its cost does not grow with the archive; a bucket by a
listing every `--list-every` seconds, whose change starts a run that compares the
whole listing. Events can be lost (an overflowing inotify queue, a network file
system), so a run that looks at every record also happens at the start, whenever the
events cannot be trusted (sources/inotify.py says when), and after `check_every`
seconds without a change. A run that finds the lock held waits for it, then runs.
The CDN, then the WebSub hubs, are told from a thread of their own, after each run
that changed feeds and when a hub's `Retry-After` ends (or a failed purge is due
again), so a slow hub or CDN never holds up the next run.

A check lists and stats the whole folder (about 0.7 s at 100,000 records), so it
comes every five minutes by default, as often as a cron `build` would have run, and
less often where a run that finds nothing costs so much that checks would take more
than `CHECK_SHARE` of the time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from .config import Config
from .core.guard import settled_runs
from .errors import LockedError, RemovalsRefused, StateError, TopicfeedsError
from .formats import prepare as prepare_formats
from .notify.cdn import open_purger
from .notify.purges import Backoff
from .pipeline.run import BuildReport, HubsReport, build, check_folders, check_records_folder, tell_hubs
from .runtime.signals import HELD_BY_WATCH
from .sources import Flag, Heard, Listening, Watcher, open_source
from .store import standby

Reason = Literal["start", "change", "check", "hubs", "reload", "standby"]
"""Why a run happened: the watch started, record files changed (or the records folder
was replaced, went or came back), the periodic check, or the configuration was loaded
anew; or "hubs": not a run, but the hubs were told of the changed feeds; or "standby":
not a run, but another watch publishes from the same state in PostgreSQL, and this one
waits to take over (see store/postgres/standby.py)."""

# How long one attempt waits for the lock before the watch looks at its stop flag.
LOCK_ATTEMPT_SECONDS = 0.5
# A hub's Retry-After is kept on the wall clock, the watch's waits on the monotonic
# one: a run this much after it is sure to find the time has come.
RETRY_MARGIN = 0.05
# The most of its time a watch spends on periodic checks when nothing arrives: a check
# comes no sooner than this many times its cost after the last run.
CHECK_SHARE = 0.005
# A record that has stayed this long is part of the folder: the removal guard counts
# against the records the feeds held at the watch's last run this old, so records
# added since and withdrawn again do not look like a vanished folder (guard.py).
SETTLED_SECONDS = 600.0
# Seconds between giving memory back after runs of the records events named (a few
# milliseconds of a full collection, which holds the interpreter while hubs are told).
TRIM_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """How a watch behaves."""

    settle: float = 0.2  # seconds without a new change before a run starts
    longest: float = 2.0  # a burst that goes on longer than this runs anyway
    check_every: float = 300.0  # seconds without any change before a full check runs (at least)
    jobs: int | None = None  # processes that parse records (None: all processors)
    polling: bool | None = None  # True: poll; None: inotify, polling where unavailable
    list_every: float = 10.0  # seconds between listings of a records bucket, to notice changes


@dataclass(frozen=True, slots=True)
class WatchRun:
    """One run of a watch, for its log line."""

    reason: Reason
    report: BuildReport | None  # None when the run was refused, or for the hubs
    waited: float  # seconds spent waiting for another run's lock
    # Why nothing was changed: most records gone (RemovalsRefused), an unusable folder or
    # a configuration that cannot be used (reason "reload"; the last good one stays).
    refused: TopicfeedsError | None = None
    told: HubsReport | None = None  # what telling the hubs came to (reason "hubs")


def watch(
    config: Config,
    options: WatchOptions,
    on_run: Callable[[WatchRun], None],
    stop: threading.Event,
    *,
    idle: threading.Event | None = None,
    now: Callable[[], datetime | None] = lambda: None,
    reload: threading.Event | None = None,
    reconfigure: Callable[[], Config] | None = None,
) -> None:
    """Run `build` at once, then whenever the records folder changes or `check_every`
    seconds pass without a change, until `stop` is set; `on_run` is told about each
    run, and about each round of telling the hubs (from another thread, never while it
    is told about a run). A run refused because most records are gone, or because a folder cannot be
    used, changes nothing and is reported; the watch goes on. `idle`, when given, is
    set except while a build runs (a signal handler may then just set `stop`; during a
    build it should raise, so the build unwinds). When `reload` is set (on SIGHUP, say),
    the watch takes `reconfigure()` as its configuration, once checked as `build`
    checks its folders, and runs; one that cannot be used (TopicfeedsError) is reported
    as a refused run, and the last good one stays. Errors that stop the first build
    before it starts (an unusable folder) end the watch by raising, as they end `build`."""
    idle = idle or threading.Event()
    idle.set()
    if stop.is_set():
        return
    _check(config)  # before the folder is watched: a missing one is an error, not a traceback

    check_cost = [0.0]  # seconds the last run that found nothing to do took: what a check costs
    trimmed = [time.monotonic()]  # when the memory runs leave was last given back
    history: tuple[tuple[float, int], ...] = ()  # (when, good records) of the runs since the settled one
    telling = threading.Lock()  # runs and the hubs' thread report one at a time

    def tell(run: WatchRun) -> None:
        with telling:
            on_run(run)

    hubs = _Hubs.of(config, tell)
    leader = standby(config)  # None for a state in a file

    def standing_by() -> None:
        tell(WatchRun("standby", None, 0.0))

    def build_once(settled: int | None, named: Collection[str] | None) -> BuildReport | None:
        """The run's build, once the lock is free; None when the watch is stopped meanwhile."""
        while not stop.is_set():
            try:
                return build(config, now(), options.jobs, wait=LOCK_ATTEMPT_SECONDS,
                             settled_records=settled, hubs=hubs is None, named=named)  # fmt: skip
            except LockedError:
                continue  # a cron build is running: ours follows it
        return None

    def run(reason: Reason, named: Collection[str] | None = None) -> None:
        """A run that looks at every record, or at the records `named` alone."""
        nonlocal history
        if leader is not None and not leader.keep(stop, standing_by):
            return  # stopped while another watch publishes
        started = time.monotonic()
        history = settled_runs(history, started, SETTLED_SECONDS)
        refused: TopicfeedsError | None = None
        idle.clear()  # before `stop` is looked at: a signal from here on unwinds the build
        try:
            report = build_once(history[0][1] if history else None, named)
        except TopicfeedsError as exc:
            if reason == "start" and not isinstance(exc, RemovalsRefused):
                raise  # an unusable folder or destination ends the watch at its start, as it ends `build`
            # Refused again at every run until the cause goes (the records come back,
            # someone runs `build --allow-removals`); the watch itself goes on.
            report, refused = None, exc
        finally:
            idle.set()
        if refused is not None:
            tell(WatchRun(reason, None, time.monotonic() - started, refused))
            return
        if report is None:
            return  # stopped while waiting for the lock
        history += ((time.monotonic(), report.records),)
        if hubs is not None:
            hubs.wake()
        if report.no_changes:
            check_cost[0] = report.seconds
        tell(WatchRun(reason, report, _waited(started, report)))
        if named is None or time.monotonic() - trimmed[0] >= TRIM_EVERY:
            # After a run over every record; after the small runs events start, now and
            # then: the collection holds the interpreter while the hubs are being told.
            return_memory()
            trimmed[0] = time.monotonic()

    if reconfigure is None:
        reload = None
    woken = stop if reload is None else _Either((stop, reload))
    # Another watch may publish from the same state: this one waits to take over, and
    # starts watching only then (its first run finds whatever came meanwhile).
    if leader is not None and not leader.take(stop, standing_by):
        if hubs is not None:
            hubs.stop()
        return
    try:
        watcher = _watcher(config, options)
    except BaseException:
        if leader is not None:
            leader.release()
        raise
    try:
        # Watching before the first run: what lands during it is noticed.
        run("start")
        prepare_formats()  # the first run after an event renders as quickly as the next
        last = time.monotonic()
        while not stop.is_set():
            every = check_interval(options.check_every, check_cost[0])
            heard = watcher.wait(max(0.001, last + every - time.monotonic()), woken)
            if stop.is_set():
                return
            if reload is not None and reconfigure is not None and reload.is_set():
                reload.clear()
                try:
                    fresh = reconfigure()
                    _check(fresh)
                    if fresh.state_db != config.state_db and (fresh.state_db or config.state_db):
                        # Whose turn it is to publish was settled on the first one.
                        raise TopicfeedsError("state: a watch keeps the database state it started with; "
                                              "restart it to use another")  # fmt: skip
                except TopicfeedsError as exc:
                    tell(WatchRun("reload", None, 0.0, exc))  # the last good configuration stays
                    continue
                if fresh.records_dir != config.records_dir or fresh.records_url != config.records_url:
                    history = ()  # the settled count was another folder's
                config = fresh
                if hubs is not None:
                    hubs.stop()
                hubs = _Hubs.of(config, tell)
                watcher.close()
                watcher = _watcher(config, options)
                run("reload")
            elif heard is None:
                run("check")  # the same build, looking at every record: it finds what changed
            elif heard.whole:
                run("change")  # events that cannot be trusted, or a folder replaced, gone or back
            elif heard.names:
                run("change", heard.names)  # the records the events named, alone
            else:
                # Nothing to run for (another file, an atomic writer's temporary one; a
                # folder that is gone). Once the time for a check has come, it counts
                # as one: nothing runs until the folder is back.
                if time.monotonic() >= last + every:
                    last = time.monotonic()
                continue
            last = time.monotonic()
    finally:
        watcher.close()
        if hubs is not None:
            hubs.stop()
        if leader is not None:
            leader.release()


def _watcher(config: Config, options: WatchOptions) -> Watcher:
    """How the records source of `config` tells of changes: its own way, or, for a
    source with none, a watcher that only lets the periodic checks come."""
    listening = Listening(settle=options.settle, longest=options.longest, every=options.list_every,
                          polling=options.polling)  # fmt: skip
    return open_source(config).watcher(listening) or _Unwatched()


class _Unwatched:
    """The watcher of a source that tells of no change: the periodic checks find them."""

    def wait(self, timeout: float, stop: Flag) -> Heard | None:
        """Wait `timeout` seconds, or until `stop` is set: None, time for a check."""
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return None

    def close(self) -> None:
        """Nothing to let go."""


class _Hubs:
    """Tells the CDN, then the hubs, in a thread of its own, whenever a run has noted
    pings, when a hub's `Retry-After` ends or a failed purge is due again, so that a
    slow hub never holds up the next run. A round under way when the watch ends is left
    to its deadline: what it did not hear confirmed stays noted for the next run."""

    @classmethod
    def of(cls, config: Config, tell: Callable[[WatchRun], None]) -> _Hubs | None:
        """The hubs' thread for `config`; None without hubs or CDN, or with a state kept
        in memory, which only the run can read."""
        if not (config.site.hubs or config.cdn) or not config.kept_state:
            return None
        return cls(config, tell)

    def __init__(self, config: Config, tell: Callable[[WatchRun], None]) -> None:
        self._config = config
        self._tell = tell
        self._purger = open_purger(config.cdn) if config.cdn else None  # one client, every round
        self._wake = threading.Event()
        self._done = False
        threading.Thread(target=self._loop, name="topicfeeds-hubs", daemon=True).start()

    def wake(self) -> None:
        """Tell the hubs what waits for them, once the round under way (if any) is over."""
        self._wake.set()

    def stop(self) -> None:
        """Tell the hubs nothing more."""
        self._done = True
        self._wake.set()

    def _loop(self) -> None:
        # SIGTERM, ^C and SIGHUP are the main thread's: delivered here, they would not
        # reach the watch, and once it has returned, they would kill the process.
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD_BY_WATCH)
        retry_at: float | None = None  # when (monotonic) to tell them again, if nothing wakes us first
        backoff = Backoff()  # after a purge that failed
        while True:
            self._wake.wait(None if retry_at is None else max(0.0, retry_at - time.monotonic()))
            if self._done:
                return
            self._wake.clear()
            try:
                told = tell_hubs(self._config, purger=self._purger)
            except (sqlite3.Error, StateError, LockedError):
                retry_at = None  # the state is busy, being rebuilt or unreachable: the next run wakes us
                continue
            retry_at = None if told.retry is None else _monotonic(told.retry) + RETRY_MARGIN
            again = backoff.after(0 if told.purge is None else told.purge.waiting)
            retry_at = again if retry_at is None else min(retry_at, again or retry_at)
            if not self._done:
                self._tell(WatchRun("hubs", None, 0.0, told=told))


def check_interval(check_every: float, cost: float) -> float:
    """Seconds without a change before a periodic check: `check_every`, or longer when
    checks that often, each costing `cost` seconds, would take more than CHECK_SHARE of
    the time."""
    return max(check_every, cost / CHECK_SHARE)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, where the C library has it (musl, macOS do not)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def return_memory() -> None:
    """Give the memory a run used back to the system before the watch waits again.

    A run over 100,000 records makes and drops a few hundred thousand small objects
    (the listing, the state's rows); the C allocator keeps the pages they freed, and
    scattered survivors keep them from being returned, so a long watch's memory
    creeps up toward the largest run it has seen. Collecting cycles, then asking glibc
    to release its free pages, takes a few milliseconds: after every run over every
    record, and every TRIM_EVERY seconds after the small runs events start."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def _monotonic(when: datetime) -> float:
    """The monotonic clock's reading at wall-clock time `when`."""
    return time.monotonic() + (when - datetime.now(timezone.utc)).total_seconds()


def _waited(started: float, report: BuildReport) -> float:
    return max(0.0, time.monotonic() - started - report.seconds)


def _check(config: Config) -> None:
    """Raise OutputError when a folder cannot be used, as `build` does before it starts."""
    if config.output_url is None:
        check_folders(config, create=True)
    else:
        check_records_folder(config)


class _Either:
    """Set when any of `events` is: what the watcher looks at to return early."""

    def __init__(self, events: Sequence[threading.Event]) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)
