"""Publish within seconds: watch the records folder and run the incremental build
whenever record files are added, changed, renamed or removed.

Events only say *when* to run, never *what* to do: every run is the same `build`
(the same stat scan, the same lock), so a watch and a cron `build` never disagree.
Events can be lost (an overflowing inotify queue, a network file system), so a run
also happens after `check_every` seconds without one. A run that finds the lock held
waits for it, then runs.

WebSub hubs are told from a thread of their own, woken after every run and when a
hub's `Retry-After` ends while pings wait for it: a slow hub (each request may take its
`timeout`, a round three times that) never holds up the next run. It tells them as
`build` does, from a connection of its own to the state, outside the lock.

A check is a stat scan of the whole folder (about 0.7 s at 100,000 records), so it
comes every five minutes by default, as often as a cron `build` would have run, and
less often where a run that finds nothing costs so much that checks would take more
than `CHECK_SHARE` of the time.

The folder is watched through watchfiles (the Rust `notify` crate: inotify on
Linux), falling back to polling where inotify cannot be used. Changes that come
while a run is under way are kept, and start the next run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

# The watcher itself (documented as watchfiles' Rust backend): unlike the `watch`
# generator, it can start watching before the first run, and notes changes while a
# run is under way.
from watchfiles._rust_notify import RustNotify

from .config import Config
from .errors import LockedError, RemovalsRefused
from .pipeline import BuildReport, HubsReport, build, tell_hubs
from .signals import ENDING
from .stamps import name_matcher

Reason = Literal["start", "change", "check", "hubs"]
"""Why a run happened: the watch started, record files changed, the periodic check; or
"hubs": not a run, but the hubs were told of the changed feeds."""

# How long one attempt waits for the lock before the watch looks at its stop flag.
LOCK_ATTEMPT_SECONDS = 0.5
POLL_MS = 300  # how often a polling watcher looks
# A hub's Retry-After is kept on the wall clock, the watch's waits on the monotonic
# one: a run this much after it is sure to find the time has come.
RETRY_MARGIN = 0.05
# The most of its time a watch spends on periodic checks when nothing arrives: a check
# comes no sooner than this many times its cost after the last run.
CHECK_SHARE = 0.005


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """How a watch behaves."""

    settle: float = 0.2  # seconds without a new change before a run starts
    longest: float = 2.0  # a burst that goes on longer than this runs anyway
    check_every: float = 300.0  # seconds without any change before a full check runs (at least)
    jobs: int | None = None  # processes that parse records (None: all processors)
    polling: bool | None = None  # True: poll; None: inotify, polling where unavailable


@dataclass(frozen=True, slots=True)
class WatchRun:
    """One run of a watch, for its log line."""

    reason: Reason
    report: BuildReport | None  # None when the run was refused, or for the hubs
    waited: float  # seconds spent waiting for another run's lock
    refused: RemovalsRefused | None = None  # most records gone: nothing was changed
    told: HubsReport | None = None  # what telling the hubs came to (reason "hubs")


def watch(
    config: Config,
    options: WatchOptions,
    on_run: Callable[[WatchRun], None],
    stop: threading.Event,
    *,
    idle: threading.Event | None = None,
    now: Callable[[], datetime | None] = lambda: None,
) -> None:
    """Run `build` at once, then whenever the records folder changes or `check_every`
    seconds pass without a change, until `stop` is set; `on_run` is told about each
    run, and about each round of telling the hubs (from another thread, never while
    it is told about a run). A run refused because most records are gone changes nothing and is
    reported; the watch goes on. `idle`, when given, is set while the watch only
    waits for changes (a signal handler may then just set `stop`; during a run it
    should raise, so the run unwinds). Errors that stop a build before it starts (an unusable folder) end the
    watch by raising, as they end `build`."""
    idle = idle or threading.Event()
    matches = name_matcher(tuple(config.patterns))
    folder = config.records_dir

    check_cost = [0.0]  # seconds the last run that found nothing to do took: what a check costs
    telling = threading.Lock()  # runs and the hubs' thread report one at a time

    def tell(run: WatchRun) -> None:
        with telling:
            on_run(run)

    # Without hubs there is nothing to tell; a state kept in memory only the run can read.
    hubs = _Hubs(config, tell) if config.site.hubs and config.state_path is not None else None

    def run(reason: Reason) -> None:
        started = time.monotonic()
        while not stop.is_set():
            try:
                report = build(config, now(), options.jobs, wait=LOCK_ATTEMPT_SECONDS, hubs=hubs is None)
            except LockedError:
                continue  # a cron build is running: ours follows it
            except RemovalsRefused as exc:
                # Refused again at every run until the records come back or someone
                # runs `build --allow-removals`; the watch itself goes on.
                tell(WatchRun(reason, None, time.monotonic() - started, exc))
                return
            if hubs is not None:
                hubs.wake()
            if report.no_changes:
                check_cost[0] = report.seconds
            tell(WatchRun(reason, report, _waited(started, report)))
            return_memory()
            return

    try:
        with _watcher(folder, options.polling) as watcher:
            # Watching before the first run: what lands during it is noticed.
            run("start")
            while not stop.is_set():
                idle.set()
                every = check_interval(options.check_every, check_cost[0])
                try:
                    found = watcher.watch(
                        round(options.longest * 1000),
                        max(1, round(options.settle * 1000)),
                        max(1, round(every * 1000)),
                        stop,
                    )
                finally:
                    idle.clear()
                if isinstance(found, str):
                    if found != "timeout":  # "stop" or "signal"
                        return
                    run("check")
                elif stop.is_set():
                    return
                elif any(Path(path).parent == folder and matches(Path(path).name) for _, path in found):
                    run("change")  # other files (an atomic writer's temporary file) do not count
    finally:
        if hubs is not None:
            hubs.stop()


class _Hubs:
    """Tells the hubs, in a thread of its own, whenever a run has noted pings and
    when a hub's `Retry-After` ends, so that a slow hub never holds up the next run.
    A round that is under way when the watch ends is left to its deadline: what it
    did not hear confirmed stays noted for the next run."""

    def __init__(self, config: Config, tell: Callable[[WatchRun], None]) -> None:
        self._config = config
        self._tell = tell
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
        # SIGTERM and ^C are the main thread's: delivered here, they would not end the
        # watch, and once it has returned, they would kill the process.
        signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
        retry_at: float | None = None  # when (monotonic) a hub's Retry-After ends, if pings wait for one
        while True:
            self._wake.wait(None if retry_at is None else max(0.0, retry_at - time.monotonic()))
            if self._done:
                return
            self._wake.clear()
            try:
                told = tell_hubs(self._config)
            except sqlite3.Error:
                retry_at = None  # the state is busy or being rebuilt: the next run wakes us
                continue
            retry_at = None if told.retry is None else _monotonic(told.retry) + RETRY_MARGIN
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
    to release its free pages, takes a few milliseconds once a run."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def _monotonic(when: datetime) -> float:
    """The monotonic clock's reading at wall-clock time `when`."""
    return time.monotonic() + (when - datetime.now(timezone.utc)).total_seconds()


def _waited(started: float, report: BuildReport) -> float:
    return max(0.0, time.monotonic() - started - report.seconds)


def _watcher(folder: Path, polling: bool | None) -> RustNotify:
    """A watcher of `folder` (not of its subfolders), which notes changes from now on."""
    if not polling:
        try:
            return RustNotify([str(folder)], False, False, POLL_MS, False, False)
        except (OSError, RuntimeError):
            pass  # inotify is unavailable (no watches left, an odd file system): poll
    return RustNotify([str(folder)], False, True, POLL_MS, False, False)
