"""The `topicfeeds` command's entry point. A cron job's timeout or an impatient ^C
may come at any moment of a run, so SIGTERM and SIGINT are taken in hand from this
module's first line to the process's last:

- while the rest of the package loads (a good part of a second) they wait: an
  exception raised by a handler there could land in one of the import machinery's
  callbacks, which would print it and carry on;
- during the run they end it with 128 + the signal's number and no traceback;
- once the run has returned they wait again, and go with the process: the work is
  done, and while the interpreter tears down, a handler's exception would be printed
  as ignored, and Python restores the default actions, which would kill the process
  and hide the run's status.

SIGTERM and ^C are how a watch ends, not a failure: a watch ends with status 0
whenever they come, while it loads and after it has returned as well.
"""

from __future__ import annotations

import signal
import sys

from .runtime.signals import ENDING, end_on_signal


def main() -> int:
    """Run the command line; return the exit status."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    watching = _command(sys.argv[1:]) == "watch"
    if watching:
        # SIGHUP asks a watch to read its configuration anew: until the watch takes it
        # in hand, it is reading it anyway, and the signal must not end it.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        try:
            from .cli import main as run  # loaded while the signals wait

            for signum in ENDING:
                signal.signal(signum, end_on_signal)
            # A signal that came while loading is delivered here, and ends the run at once.
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            return run()
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    except SystemExit as exc:
        if watching and exc.code in {128 + signum for signum in ENDING}:
            return 0
        raise


def _command(argv: list[str]) -> str | None:
    """The command `argv` names: its first word that is not an option (the command line
    takes no option with a value before the command)."""
    return next((word for word in argv if not word.startswith("-")), None)
