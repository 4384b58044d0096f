"""The command line: each command calls one library function and turns its errors
into a message and an exit status. The parser is in parser.py, the statuses in
status.py, what a run prints in report.py, the commands in commands.py, lasting.py
and state.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import load_config
from ..errors import ConfigError, LockedError, RemovalsRefused, StateError, TopicfeedsError
from ..runtime.signals import ENDING, end_on_signal
from .commands import parse_now, run_build, run_explain, run_subscribers, run_topics
from .lasting import run_serve, run_watch
from .parser import UsageError, make_parser
from .report import error_lines, refusal_json, refused, summary, summary_json
from .state import run_state
from .status import (
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PIPE,
    EXIT_REJECTED,
    EXIT_REMOVALS,
    EXIT_STATUSES,
    EXIT_WRITE,
)

__all__ = [
    "EXIT_CONFIG",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_REJECTED",
    "EXIT_REMOVALS",
    "EXIT_STATUSES",
    "EXIT_WRITE",
    "error_lines",
    "main",
    "make_parser",
    "refusal_json",
    "summary",
    "summary_json",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    # A terminated or interrupted run unwinds: temporary files are removed, the state
    # store rolls back, workers end and the lock is released; the status is 128 + the
    # signal's number, as a shell reports it, with no traceback.
    previous = {signum: signal.signal(signum, end_on_signal) for signum in ENDING}
    try:
        try:
            status = _main(argv)
        finally:
            # Here, not at exit, so that a closed pipe is noticed while it can be handled
            # (also after --help, which exits).
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head -1`): end quietly, as a program killed by SIGPIPE
        # would be reported. What is still buffered goes nowhere.
        _discard_output()
        return EXIT_PIPE
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def _discard_output() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        args = make_parser().parse_args(words)
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        # The arguments could not be read, so neither could --json: taken as written.
        if words[:1] == ["build"] and "--json" in words:
            print(json.dumps(refusal_json(EXIT_CONFIG, exc.message), indent=2))
        return EXIT_CONFIG
    try:
        if args.command == "state":
            return run_state(args)
        config = load_config(Path(args.config))
        if args.command == "serve":
            return run_serve(config, args)
        if args.command == "watch":
            return run_watch(config, args)
        if args.command == "topics":
            return run_topics(config, args.json)
        if args.command == "subscribers":
            return run_subscribers(config, args)
        now = parse_now(args.now)
        if args.command == "explain":
            return run_explain(config, args.records, now, args.wait, sys.stdout)
        if args.jobs is not None and args.jobs < 1:
            raise TopicfeedsError(f"--jobs: expected at least 1, got {args.jobs}")
        return run_build(config, now, args)
    except ConfigError as exc:
        return refused(args, EXIT_CONFIG, *(str(problem) for problem in exc.problems))
    except LockedError as exc:
        return refused(args, EXIT_LOCKED, str(exc))
    except RemovalsRefused as exc:
        return refused(args, EXIT_REMOVALS, f"{exc}; run with --allow-removals if that is intended")
    except StateError as exc:
        return refused(args, EXIT_WRITE, str(exc))
    except TopicfeedsError as exc:
        return refused(args, EXIT_CONFIG, str(exc))
