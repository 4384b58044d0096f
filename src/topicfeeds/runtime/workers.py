"""Parse in parallel without leaving anything behind.

A cold build is bound by parsing, so chunks of the file list go to forked worker
processes while this process stores what they send back. Nothing a run starts may
outlive it or block the next run:

- a worker dies with the process that started it, however that process dies (on
  Linux through PR_SET_PDEATHSIG, elsewhere by watching its parent id);
- a worker ends at once on SIGTERM and SIGINT instead of inheriting the run's
  handler, which would turn the signal into an exception sent back as a result;
- a worker that dies (killed, out of memory) leaves the chunks it held to the run,
  which parses them itself;
- a run that stops early (an exception, SIGTERM, ^C) closes its ends of the pipes,
  so workers exit after the chunk they hold;
- the run's lock is a POSIX record lock (see lock.py), which a forked child never
  holds, so even a worker that lingered could not block the next run.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import fcntl
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .signals import ENDING

T = TypeVar("T")
P = TypeVar("P")

# Below this many files a second process costs more than it saves (measured on
# the benchmark corpus: fork and transfer cost about as much as parsing 300 files).
PARALLEL_MIN_FILES = 1000
# Files a worker takes at a time: small enough that results waiting to be consumed
# stay a few megabytes, and that a cancelled run's workers finish within a fraction
# of a second; large enough that handing chunks out costs nothing.
CHUNK_FILES = 500
# Chunks given out ahead of the one the caller waits for, per worker.
AHEAD_PER_WORKER = 3
# A chunk's results are about half a megabyte (500 rows of about 1.1 KB).
_PIPE_BYTES = 1024 * 1024

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_PARENT_POLL_SECONDS = 0.2


def available_cpus() -> int:
    """How many processors this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def iter_files(
    paths: Sequence[P],
    work: Callable[[P], T],
    jobs: int = 1,
    *,
    per_chunk: int | None = None,
    least: int | None = None,
    ahead: Callable[[Sequence[P]], None] | None = None,
) -> Iterator[T]:
    """`work` applied to every path (or name, or anything `work` takes), in order. With
    `jobs` > 1 and at least `least` paths (PARALLEL_MIN_FILES), chunks of `per_chunk`
    (CHUNK_FILES) go to `jobs` forked workers, a few chunks ahead of the caller, which
    only stores each result as it comes: the parsing, the costly part, is all done in
    parallel, and the caller's own work overlaps it. The workers inherit `paths` and
    `work` as they are; `work`'s results must pickle (plain tuples of text, numbers
    and bytes pickle fastest). A worker calls `ahead` with each chunk before `work`
    goes through it: a hint, such as asking the system to read the chunk's files."""
    least = PARALLEL_MIN_FILES if least is None else least
    per_chunk = CHUNK_FILES if per_chunk is None else per_chunk
    if jobs < 2 or len(paths) < max(2, least) or "fork" not in multiprocessing.get_all_start_methods():
        yield from (work(p) for p in paths)
        return
    chunks = [paths[i : i + per_chunk] for i in range(0, len(paths), per_chunk)]
    pool = _Pool(work, chunks, jobs, ahead)
    finished = False
    try:
        for n, chunk in enumerate(chunks):
            results = pool.results(n)
            if results is None:  # its worker died (killed, out of memory): parsed here
                results = [work(p) for p in chunk]
            yield from results
        finished = True
    finally:
        # Stopped early: workers end after the chunk they hold, and take no other.
        pool.close(wait=finished)


class _Worker:
    """One forked worker: chunk numbers go to it down one pipe, the results of each
    chunk come back up another, pickled in one piece."""

    def __init__(self, context: multiprocessing.context.ForkContext) -> None:
        self.context = context
        self.tasks_out, self.tasks = context.Pipe(duplex=False)  # (its end, ours)
        self.results, self.results_in = context.Pipe(duplex=False)  # (ours, its end)
        _widen(self.results_in)
        self.process: multiprocessing.context.ForkProcess | None = None
        self.held: collections.deque[int] = collections.deque()  # chunks sent, in order
        self.alive = True

    def start(self, serve: Callable[..., None], *args: object) -> None:
        self.process = self.context.Process(
            target=serve, args=(self.tasks_out, self.results_in, *args), daemon=True
        )
        self.process.start()
        # Its ends are its own alone, so that its death closes them.
        self.tasks_out.close()
        self.results_in.close()


class _Pool:
    """Workers forked once, each holding a few chunks, the next given to whichever
    sends one back. Simpler than a ProcessPoolExecutor, whose manager thread spends as
    much of this process's time receiving results as storing them costs."""

    def __init__(self, work: Callable[[Any], Any], chunks: Sequence[Sequence[Any]], jobs: int,
                 ahead: Callable[[Sequence[Any]], None] | None = None) -> None:  # fmt: skip
        self.chunks = chunks
        self.received: dict[int, tuple[bool, Any]] = {}  # chunk: (whether it went well, results or error)
        self.lost: set[int] = set()  # chunks whose worker died holding them
        self.next = 0  # the next chunk to hand out
        context = multiprocessing.get_context("fork")  # workers inherit the modules and the chunks
        self.workers = [_Worker(context) for _ in range(jobs)]
        ours = [end for w in self.workers for end in (w.tasks, w.results)]
        # Until a worker has put its own signal handling in place (see _worker_started),
        # SIGTERM and SIGINT wait, so that the run's handler never runs in one; in this
        # process they arrive after.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
        try:
            for n, worker in enumerate(self.workers):
                # A worker closes what it inherits of the others' pipes and of ours, so
                # that each pipe ends when the one process at either end goes.
                later = [end for w in self.workers[n + 1 :] for end in (w.tasks_out, w.results_in)]
                worker.start(_serve, work, chunks, [*ours, *later], os.getpid(), ahead)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def results(self, n: int) -> list[Any] | None:
        """The results of chunk `n`, once they come; None when its worker died."""
        while True:
            self._hand_out(n + AHEAD_PER_WORKER * len(self.workers))
            if n in self.received:
                ok, payload = self.received.pop(n)
                if not ok:  # raised when its chunk's turn comes, as in-process
                    raise payload
                return payload  # type: ignore[no-any-return]
            if n in self.lost or n >= self.next:  # lost, or no worker left to take it
                self.lost.discard(n)
                return None
            busy = {w.results: w for w in self.workers if w.alive and w.held}
            for ready in multiprocessing.connection.wait(list(busy)):
                self._receive(busy[ready])  # type: ignore[index]

    def _hand_out(self, until: int) -> None:
        """Give out chunks up to `until` (not included), each to the live worker that
        holds the fewest, as long as one holds fewer than AHEAD_PER_WORKER."""
        while self.next < min(until, len(self.chunks)):
            live = [w for w in self.workers if w.alive and len(w.held) < AHEAD_PER_WORKER]
            if not live:
                return
            worker = min(live, key=lambda w: len(w.held))
            try:
                worker.tasks.send_bytes(self.next.to_bytes(4, "big"))
            except OSError:  # it died
                self._lost(worker)
                continue
            worker.held.append(self.next)
            self.next += 1

    def _receive(self, worker: _Worker) -> None:
        try:
            ok, payload = pickle.loads(worker.results.recv_bytes())
        except (EOFError, OSError):  # it died: what it held is parsed here
            self._lost(worker)
            return
        self.received[worker.held.popleft()] = (ok, payload)

    def _lost(self, worker: _Worker) -> None:
        worker.alive = False
        self.lost.update(worker.held)
        worker.held.clear()
        worker.tasks.close()
        worker.results.close()

    def close(self, *, wait: bool) -> None:
        """Let the workers go: with no more chunks to come (or no one to take their
        results, when `wait` is false) each ends after the chunk it holds."""
        for worker in self.workers:
            worker.tasks.close()
            if not wait:
                worker.results.close()
        if wait:
            for worker in self.workers:
                if worker.process is not None:
                    worker.process.join()
                worker.results.close()


def _widen(end: multiprocessing.connection.Connection) -> None:
    """Let the pipe hold a whole chunk's results (Linux), so a worker goes on with its
    next chunk while this process is busy storing rows rather than reading."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _serve(
    tasks: multiprocessing.connection.Connection,
    results: multiprocessing.connection.Connection,
    work: Callable[[Any], Any],
    chunks: Sequence[Sequence[Any]],
    others: list[multiprocessing.connection.Connection],
    parent: int,
    ahead: Callable[[Sequence[Any]], None] | None = None,
) -> None:
    """A worker's life: chunk numbers in, each chunk's results out, until the run
    closes its end of either pipe."""
    _worker_started(parent)
    for end in others:  # the run's ends and the other workers': theirs to close
        end.close()
    while True:
        try:
            n = int.from_bytes(tasks.recv_bytes(), "big")
        except (EOFError, OSError):  # no more chunks
            return
        try:
            if ahead is not None:
                ahead(chunks[n])
            payload = pickle.dumps((True, [work(p) for p in chunks[n]]), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # the run raises it, as if it had parsed the chunk itself
            payload = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        try:
            results.send_bytes(payload)
        except OSError:  # the run stopped early and closed its end
            return


def _worker_started(parent: int) -> None:
    """Runs first in every worker: tie its life to the run that forked it."""
    # The run's own handlers raise exceptions; in a worker the pool would catch them
    # and carry on. A worker simply ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING)  # held by iter_files while forking
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
