"""The signals that end a run, SIGTERM and SIGINT (^C), and what they do to it: it
unwinds (temporary files removed, state rolled back, workers ended, lock released)
and ends with 128 + the signal's number, as a shell reports it, with no traceback.
Where a handler's exception would do harm, they are held back (see command.py,
destinations/atomic.py and workers.py)."""

from __future__ import annotations

import signal

ENDING = frozenset({signal.SIGTERM, signal.SIGINT})
# The signals `watch` takes in its main thread (SIGHUP: load the configuration anew),
# which the threads it starts hold back.
HELD_BY_WATCH = ENDING | {signal.SIGHUP}


def end_on_signal(signum: int, frame: object) -> None:
    """The handler of `ENDING`: SystemExit unwinds the run."""
    raise SystemExit(128 + signum)
