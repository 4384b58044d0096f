"""Parse in parallel without leaving anything behind.

A cold build is bound by parsing, so chunks of the file list go to forked worker
processes while this process stores what they send back. Nothing a run starts may
outlive it or block the next run:

- a worker dies with the process that started it, however that process dies (on
  Linux through PR_SET_PDEATHSIG, elsewhere by watching its parent id);
- a worker ends at once on SIGTERM and SIGINT instead of inheriting the run's
  handler, which would turn the signal into an exception the pool hands back;
- a run that stops early (an exception, SIGTERM, ^C) cancels the chunks not yet
  started, so workers exit after the one they hold;
- the run's lock is a POSIX record lock (see lock.py), which a forked child never
  holds, so even a worker that lingered could not block the next run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Below this many files a second process costs more than it saves (measured on
# the benchmark corpus: fork and transfer cost about as much as parsing 300 files).
PARALLEL_MIN_FILES = 1000
# Files a worker takes at a time: small enough that results waiting to be consumed
# stay a few megabytes, and that a cancelled run's workers finish within a fraction
# of a second; large enough that handing chunks out costs nothing.
CHUNK_FILES = 500
# Chunks given out ahead of the one the caller waits for, per worker.
AHEAD_PER_WORKER = 3

_ENDING = {signal.SIGTERM, signal.SIGINT}
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_PARENT_POLL_SECONDS = 0.2


def available_cpus() -> int:
    """How many processors this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def iter_files(paths: Sequence[Path], work: Callable[[Path], T], jobs: int = 1) -> Iterator[T]:
    """`work` applied to every path, in order. With `jobs` > 1 and many files, chunks
    of the list go to `jobs` forked workers, a few chunks ahead of the caller, which
    only stores each result as it comes: the parsing, the costly part, is all done in
    parallel, and the caller's own work overlaps it. `work` and its results must pickle."""
    if jobs < 2 or len(paths) < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        yield from (work(p) for p in paths)
        return
    chunks = [paths[i : i + CHUNK_FILES] for i in range(0, len(paths), CHUNK_FILES)]
    context = multiprocessing.get_context("fork")  # workers inherit the loaded modules
    pool = concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_worker_started, initargs=(os.getpid(),)
    )
    finished = False
    try:
        # A window of chunks in flight, so that results waiting for the caller stay a
        # few megabytes whatever the number of files.
        ahead = AHEAD_PER_WORKER * jobs
        futures = {}
        # Workers are forked by the first submissions. Until a worker has put its own
        # signal handling in place (see _worker_started), SIGTERM and SIGINT wait, so
        # that the run's handler never runs in one; in this process they arrive after.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING)
        try:
            for n in range(min(ahead, len(chunks))):
                with contextlib.suppress(concurrent.futures.process.BrokenProcessPool):
                    futures[n] = pool.submit(_work_through, work, chunks[n])
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for n, chunk in enumerate(chunks):
            if n + ahead < len(chunks):
                # A pool broken by a dead worker takes nothing more: those chunks are
                # parsed here, below.
                with contextlib.suppress(concurrent.futures.process.BrokenProcessPool):
                    futures[n + ahead] = pool.submit(_work_through, work, chunks[n + ahead])
            future = futures.pop(n, None)
            try:
                if future is None:
                    raise concurrent.futures.process.BrokenProcessPool
                results = future.result()
            except concurrent.futures.process.BrokenProcessPool:
                results = [work(p) for p in chunk]  # a worker died (killed, out of memory)
            yield from results
        finished = True
    finally:
        # Stopped early: drop what no worker has started rather than wait for it.
        pool.shutdown(wait=finished, cancel_futures=not finished)


def _work_through(work: Callable[[Path], T], paths: Sequence[Path]) -> list[T]:
    return [work(p) for p in paths]


def _worker_started(parent: int) -> None:
    """Runs first in every worker: tie its life to the run that forked it."""
    # The run's own handlers raise exceptions; in a worker the pool would catch them
    # and carry on. A worker simply ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING)  # held by iter_files while forking
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the run died before the line above took effect
        os._exit(1)


def _die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)
