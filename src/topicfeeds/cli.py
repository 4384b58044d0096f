"""The command line: each command calls one library function and turns its errors
into a message and an exit status."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from . import __version__
from .config import Config, load_config
from .errors import (
    ConfigError,
    LockedError,
    RecordError,
    RemovalsRefused,
    StateError,
    TopicfeedsError,
    printable,
)
from .pipeline.explanations import explain_each
from .pipeline.run import BuildReport, HubsReport, Progress, build
from .records.values import parse_datetime
from .runtime.signals import ENDING, end_on_signal

if TYPE_CHECKING:
    from .watch import WatchRun

EXIT_OK = 0
EXIT_REJECTED = 1  # some records were rejected; feeds were written from the rest
EXIT_CONFIG = 2  # configuration or usage error, unusable folders: nothing was written
EXIT_LOCKED = 3  # another run holds the lock, or another process the state; this one did nothing
EXIT_WRITE = 4  # a feed file, or the state, could not be written; the old one is intact
EXIT_REMOVALS = 5  # most records are gone (nothing was changed), or more files to remove than max_deletes
EXIT_PIPE = 141  # standard output was closed (128 + SIGPIPE, as a shell reports it)

# Every status a command ends with, and what it means: `--help` and the reference
# (docs/reference/exit-status.md, made by topicfeeds.reference) are both made from it.
EXIT_STATUSES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "every record read, every file written or already up to date"),
    (
        EXIT_REJECTED,
        "some records were rejected, each named on standard error; the feeds were written from the "
        "rest (explain: a record named could not be read)",
    ),
    (
        EXIT_CONFIG,
        "configuration or usage error, or an unusable records or output folder (serve: a port it cannot "
        "listen on; topics: no build has finished yet); nothing was written",
    ),
    (
        EXIT_LOCKED,
        "another run holds the lock (or --wait ran out), or another process kept a write open on the "
        "state file for longer than the run waits; this run did nothing",
    ),
    (
        EXIT_WRITE,
        "a file could not be written, uploaded or removed, each named (the previous file is intact and "
        "the next run tries again); or the state file could not be used, and was left as it was",
    ),
    (
        EXIT_REMOVALS,
        "most of the records the feeds were built from are gone: nothing was changed (--allow-removals "
        "confirms); or more files to remove than max_deletes: none was removed, the rest was published "
        "(a higher --max-deletes confirms)",
    ),
    (
        128 + signal.SIGINT,
        "interrupted (SIGINT, ^C): temporary files removed, state rolled back, parse workers ended, "
        "lock released (watch and serve end with 0)",
    ),
    (EXIT_PIPE, "standard output was closed (a pipe whose reader went away); the command stopped quietly"),
    (128 + signal.SIGTERM, "terminated (SIGTERM): as for 130"),
)

DEFAULT_BIND = "127.0.0.1"  # `serve` shows the preview to this machine only
DEFAULT_PORT = 8000


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
        args = _parser().parse_args(words)
    except _UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        # The arguments could not be read, so neither could --json: taken as written.
        if words[:1] == ["build"] and "--json" in words:
            print(json.dumps(refusal_json(EXIT_CONFIG, exc.message), indent=2))
        return EXIT_CONFIG
    try:
        config = load_config(Path(args.config))
        if args.command == "serve":
            return _serve(config, args)
        if args.command == "watch":
            return _watch(config, args)
        if args.command == "topics":
            return _topics(config, args.json)
        if args.command == "subscribers":
            return _subscribers(config, args)
        now = _now(args.now)
        if args.command == "explain":
            return _explain(config, args.records, now, args.wait, sys.stdout)
        if args.jobs is not None and args.jobs < 1:
            raise TopicfeedsError(f"--jobs: expected at least 1, got {args.jobs}")
        return _build(config, now, args)
    except ConfigError as exc:
        return _refused(args, EXIT_CONFIG, *(str(problem) for problem in exc.problems))
    except LockedError as exc:
        return _refused(args, EXIT_LOCKED, str(exc))
    except RemovalsRefused as exc:
        return _refused(args, EXIT_REMOVALS, f"{exc}; run with --allow-removals if that is intended")
    except StateError as exc:
        return _refused(args, EXIT_WRITE, str(exc))
    except TopicfeedsError as exc:
        return _refused(args, EXIT_CONFIG, str(exc))


def _refused(args: argparse.Namespace, status: int, *errors: str) -> int:
    """Report a run refused before it could begin: each error on standard error, and
    with `--json` a JSON object too (a watch's is a line as its runs give), so that a
    monitor reading it learns why."""
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if args.command == "build" and args.json:
        print(json.dumps(refusal_json(status, *errors), indent=2))
    elif args.command == "watch" and args.json:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        refused = {
            "time": stamp,
            "reason": "start",
            "status": status,
            "error": errors[0],
            "errors": list(errors),
        }
        print(json.dumps(refused))
    elif args.command == "topics" and args.json:
        refused = {"status": status, "error": errors[0], "errors": list(errors), "topics": []}
        print(json.dumps(refused, indent=2))
    return status


class _UsageError(Exception):
    """Arguments the parser cannot read (argparse would print them and exit 2)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """A parser that leaves a usage error to `_main`, which may have JSON to print too."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default="config.yaml",
        metavar="FILE",
        help="configuration file (default: ./config.yaml); paths in it resolve against its folder",
    )


def _serve(config: Config, args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise TopicfeedsError(f"--port: expected 0 to 65535, got {args.port}")
    if config.output_url is not None:
        raise TopicfeedsError(f"output: serve previews a local output folder, not {config.output_url}")
    from .serve import WebSub, check_folder, serve  # only this command needs the HTTP server modules

    check_folder(config.output_dir)  # only the output folder: a preview needs no records
    hubs = tuple(hub.url for hub in config.site.hubs)
    websub = WebSub(config.site.base_url, hubs) if hubs else None
    try:
        serve(config.output_dir, args.bind, args.port, websub, base_url=config.site.base_url)
    except SystemExit as stop:
        if stop.code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
            return EXIT_OK  # ^C or `kill` is how a preview ends: not a failure
        raise
    except OSError as exc:
        raise TopicfeedsError(
            f"cannot listen on {args.bind} port {args.port}: {exc.strerror or exc}"
        ) from exc
    return EXIT_OK


def _watch(config: Config, args: argparse.Namespace) -> int:
    for flag, value in (("--settle", args.settle), ("--check-every", args.check_every),
                        ("--list-every", args.list_every)):  # fmt: skip
        if not value > 0:
            raise TopicfeedsError(f"{flag}: expected a number of seconds above 0, got {value}")
    if args.jobs is not None and args.jobs < 1:
        raise TopicfeedsError(f"--jobs: expected at least 1, got {args.jobs}")
    stop, idle, reload = threading.Event(), threading.Event(), threading.Event()
    idle.set()  # until a build starts, a signal only asks the watch to stop

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            return  # already ending: another signal must not break into the unwinding
        stop.set()
        if not idle.is_set():
            raise SystemExit(128 + signum)  # a build is under way: it unwinds as `build` does

    def on_hangup(signum: int, frame: object) -> None:
        reload.set()  # the watch loads the configuration anew once no build runs

    def on_run(run: WatchRun) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if run.refused is not None:
            status = _print_refusal(run.refused)
            if args.json:
                line = {"time": stamp, "reason": run.reason, "status": status, "error": str(run.refused)}
                print(json.dumps(line))
            sys.stdout.flush()
            return
        if run.told is not None:
            _print_told(run.told, stamp, args)
            return
        assert run.report is not None
        status = _print_problems(run.report)
        quiet_check = run.reason == "check" and run.report.no_changes and not run.report.pings_sent
        if quiet_check and status == EXIT_OK:
            return  # a periodic check that found nothing: not worth a line
        if args.json:
            print(json.dumps({"time": stamp, "reason": run.reason, **summary_json(run.report, status)}))
        elif not args.quiet:
            print(f"{stamp} {run.reason}: {summary(run.report)}")
        sys.stdout.flush()

    previous = {signum: signal.signal(signum, on_signal) for signum in ENDING}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
    try:
        from .watch import WatchOptions, watch  # only this command needs watchfiles

        polling = True if args.poll else None
        options = WatchOptions(
            settle=args.settle, check_every=args.check_every, jobs=args.jobs, polling=polling,
            list_every=args.list_every,
        )  # fmt: skip
        watch(
            config, options, on_run, stop, idle=idle, reload=reload,
            reconfigure=lambda: load_config(Path(args.config)),
        )  # fmt: skip
    except SystemExit as exit_:
        if exit_.code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
            return EXIT_OK  # ^C or `kill` is how a watch ends: not a failure
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return EXIT_OK


def _print_told(told: HubsReport, stamp: str, args: argparse.Namespace) -> None:
    """A watch's line for a round of telling the CDN and the hubs: none when there was
    nothing to tell."""
    for problem in told.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    if not (told.sent or told.warnings or (told.purge is not None and told.purge.purged)):
        return  # only pings waiting for a hub's Retry-After
    if args.json:
        pings = {"sent": told.sent, "waiting": told.waiting}
        warnings = [str(p) for p in told.warnings]
        line = {"time": stamp, "reason": "hubs", "status": EXIT_OK, "warnings": warnings, "pings": pings}
        purge = {} if told.purge is None else {"purge": told.purge.as_json()}
        print(json.dumps({**line, **purge, "seconds": round(told.seconds, 3)}))
    elif not args.quiet:
        said = [told.purge.summary()] if told.purge is not None and told.purge.summary() else []
        said.append(f"hubs told of {_count(told.sent, 'feed')}, {told.waiting} waiting")
        print(f"{stamp} hubs: topicfeeds: {'; '.join(said)}")
    sys.stdout.flush()


def _print_refusal(refused: TopicfeedsError) -> int:
    """Print why a watch's run changed nothing, as `build` would; return the status
    `build` would exit with."""
    if isinstance(refused, ConfigError):
        for problem in refused.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if isinstance(refused, RemovalsRefused):
        print(f"error: {refused}; run build --allow-removals if that is intended", file=sys.stderr)
        return EXIT_REMOVALS
    print(f"error: {refused}", file=sys.stderr)
    return EXIT_LOCKED if isinstance(refused, LockedError) else EXIT_CONFIG


def _print_problems(report: BuildReport) -> int:
    """Print a run's problems as `build` does; return the status the run would exit with."""
    for problem in report.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    for line in error_lines(report):
        print(f"error: {line}", file=sys.stderr)
    if report.failures:
        return EXIT_WRITE
    if report.removals_refused is not None:
        return EXIT_REMOVALS
    return EXIT_REJECTED if report.errors else EXIT_OK


def error_lines(report: BuildReport) -> list[str]:
    """A run's errors as standard error gives them (after `error: `): rejected records,
    files not written or removed, removals held back."""
    lines = [*(str(p) for p in report.errors), *(str(f) for f in report.failures)]
    if report.removals_refused is not None:
        lines.append(f"{report.removals_refused}; raise max_deletes (--max-deletes) if that is intended")
    return lines


def make_parser() -> argparse.ArgumentParser:
    """The command line's parser, every command and option (the reference docs are made from it)."""
    return _parser()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="topicfeeds",
        description="Publish news records as per-topic feeds and pages, and preview them.",
        epilog=_exit_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog is a table
    )
    parser.add_argument("--version", action="version", version=f"topicfeeds {__version__}")
    common = _Parser(add_help=False)
    _add_config(common)
    common.add_argument(
        "--now", metavar="TIME", help="reference time for max_age_days, ISO 8601 (default: the clock)"
    )
    common.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run to finish (default: exit at once with status 3)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("build", parents=[common], help="bring every topic's feeds and pages up to date")
    b.add_argument("-q", "--quiet", action="store_true", help="print only problems, not the summary line")
    b.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    b.add_argument(
        "--full",
        action="store_true",
        help="read every record again and choose every topic afresh (keeps the history of entries)",
    )
    b.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="processes that parse records (default: all processors)"
    )
    b.add_argument(
        "--dry-run",
        action="store_true",
        help="list the files that would be written, with their sizes, and change nothing anywhere",
    )
    b.add_argument(
        "--allow-removals",
        action="store_true",
        help="let this run drop most of the records the feeds hold (refused by default: exit status 5)",
    )
    b.add_argument(
        "--delete",
        action="store_true",
        help="remove the files this program published and no longer makes (as the setting delete: true)",
    )
    b.add_argument(
        "--max-deletes",
        type=int,
        metavar="N",
        help="remove nothing when more than N files are to go (exit status 5; default: max_deletes, 256)",
    )
    e = sub.add_parser(
        "explain", parents=[common], help="show, for every topic, whether records are selected and why not"
    )
    e.add_argument(
        "records",
        nargs="+",
        metavar="RECORD",
        help="a record file, or an s3:// address in the records bucket; several are explained in turn",
    )
    t = sub.add_parser(
        "topics",
        help="list the topics with their feeds, entries and newest entry, as the last build published them",
        description="List every topic with its title, the entries its feeds hold, when the newest "
        "was published, and the URLs of its files, as the last build published them (read from the "
        "state, without waiting for a run under way). Exits with status 2 before the first build.",
    )
    _add_config(t)
    t.add_argument("--json", action="store_true", help="print the list as JSON")
    w = sub.add_parser(
        "watch",
        help="build at once, then again within seconds whenever record files change",
        description="Build, then watch the records (a folder, or a bucket by listing it) and build again "
        "whenever record files are "
        "added, changed, renamed or removed, once a burst of changes has settled; a full check also "
        "runs after a quiet spell. Each run is the same incremental build, under the same lock: a "
        "build started meanwhile waits (--wait) or exits with status 3, and a watch run waits for "
        "a build. Ends with status 0 on SIGTERM or ^C; a run under way unwinds, leaving the last "
        "whole files. SIGHUP reads the configuration anew: a good one takes effect at once, a broken "
        "one is reported and the last good one kept.",
    )
    _add_config(w)
    w.add_argument("-q", "--quiet", action="store_true", help="print only problems, not a line per run")
    w.add_argument("--json", action="store_true", help="print each run's summary as a line of JSON")
    w.add_argument(
        "--settle",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="wait until no change has come for this long before a run (default: 0.2)",
    )
    w.add_argument(
        "--check-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="run a full check after this long without a change, should one go unnoticed (default: 300; "
        "longer where a check would take more than 0.5%% of the time)",
    )
    w.add_argument("--poll", action="store_true", help="poll the folder instead of using inotify")
    w.add_argument(
        "--list-every",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="records in a bucket: list it this often, and run when the listing changed (default: 10)",
    )
    w.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="processes that parse records (default: all processors)"
    )
    s = sub.add_parser(
        "serve",
        help="preview the output folder over HTTP (for previews, not production: see deploy/nginx.conf)",
        description="Serve the output folder for a preview in a browser or a feed reader, with the "
        "media types, caching headers and compression a production server gives. It is meant for "
        "previews on this machine; serve production traffic with a web server (deploy/nginx.conf).",
    )
    _add_config(s)
    s.add_argument(
        "--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port (default: {DEFAULT_PORT})"
    )
    s.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="ADDR",
        help=f"address to listen on (default: {DEFAULT_BIND}, this machine only)",
    )
    u = sub.add_parser(
        "subscribers",
        help="count each topic's subscribers, day by day, from the web server's access logs",
        description="Read access logs (nginx or Apache combined format, CloudFront standard logs, S3 "
        "server access logs; rotated and compressed too) and count, per topic and feed and per day, "
        "the subscribers that aggregators and hubs report in their User-Agent, and the direct readers "
        "that fetch the feeds themselves. Exit status: 0 every log read; 1 some logs, or their ends, "
        "could not be read (the counts are of the rest); 2 configuration or usage error; 4 the --html "
        "page could not be written.",
    )
    _add_config(u)
    u.add_argument(
        "logs", nargs="*", metavar="LOG", help="access log files, or folders of them; - for standard input"
    )
    u.add_argument(
        "--format",
        choices=("auto", "combined", "cloudfront", "s3"),
        default="auto",
        help="the logs' format (default: told from each file's first line)",
    )
    u.add_argument("--json", action="store_true", help="print every topic, feed and day as JSON")
    u.add_argument("--html", metavar="FILE", help="also write a page with a chart per topic to FILE")
    u.add_argument("--daily", action="store_true", help="a row for every day, not only the last")
    u.add_argument("-q", "--quiet", action="store_true", help="print only problems (with --html)")
    return parser


def _exit_epilog() -> str:
    """The exit statuses as `--help` shows them, one to a paragraph."""
    lines = ["exit status:"]
    for code, meaning in EXIT_STATUSES:
        first = f"  {code:<4}"
        lines += textwrap.wrap(
            meaning, 76, initial_indent=first, subsequent_indent=" " * len(first), break_on_hyphens=False
        )
    return "\n".join(lines)


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    parsed = parse_datetime(text)
    if parsed is None:
        raise TopicfeedsError(f"--now: cannot read {text!r} as a date")
    return parsed


def _build(config: Config, now: datetime, args: argparse.Namespace) -> int:
    if args.max_deletes is not None and args.max_deletes < 0:
        raise TopicfeedsError(f"--max-deletes: expected at least 0, got {args.max_deletes}")
    if args.delete:
        config = dataclasses.replace(config, delete=True)
    if args.max_deletes is not None:
        config = dataclasses.replace(config, max_deletes=args.max_deletes)
    show_progress = not (args.quiet or args.json) and sys.stderr.isatty()
    with _progress_bars(show_progress) as progress:
        report = build(
            config, now, args.jobs, wait=args.wait, progress=progress, full=args.full,
            allow_removals=args.allow_removals, dry_run=args.dry_run,
        )  # fmt: skip
    status = _print_problems(report)
    if report.planned is not None and not args.json:
        for where, size in report.planned:
            print(f"would write {printable(str(where))} ({size} bytes)")
    if not (args.json or args.quiet):
        verb = "would remove" if report.planned is not None else "removed"
        for where in report.removed:
            print(f"{verb} {printable(str(where))}")
    if args.json:
        print(json.dumps(summary_json(report, status), indent=2))
    elif not args.quiet:
        print(summary(report))
    return status


def summary(report: BuildReport) -> str:
    """The one line a run prints."""
    rejected = f"{len(report.errors)} rejected"
    if report.planned is not None:
        size = sum(n for _, n in report.planned)
        removed = f", {len(report.removed)} removed" if report.removed else ""
        return (
            f"topicfeeds: dry run: {_count(len(report.planned), 'file')} would be written "
            f"({size} bytes){removed}; nothing was changed"
        )
    if report.no_changes:
        return f"topicfeeds: no changes; {report.feeds} files, {report.records} records, {rejected}" + _pings(
            report
        )
    line = (
        f"topicfeeds: {report.feeds} files: {report.written} written, {report.unchanged} unchanged; "
        f"{report.files} record files, {report.parsed} read, {rejected}"
    )
    if report.warnings:
        line += f", {_count(len(report.warnings), 'warning')}"
    if report.removed:
        line += f"; {len(report.removed)} removed"
    if report.failures:
        line += f"; {_count(len(report.failures), 'file')} could not be written"
    return line + _pings(report)


def _pings(report: BuildReport) -> str:
    purged = "" if report.purge is None or not report.purge.summary() else f"; {report.purge.summary()}"
    if not (report.pings_sent or report.pings_waiting):
        return purged
    return f"{purged}; hubs told of {_count(report.pings_sent, 'feed')}, {report.pings_waiting} waiting"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_json(report: BuildReport, status: int) -> dict[str, Any]:
    """The run's summary for monitoring."""
    return {
        "status": status,
        "no_changes": report.no_changes,
        "feeds": report.feeds,  # every output file, feeds and pages (the name predates pages)
        "files": report.feeds,
        "written": [str(p) for p in report.written_files],
        "unchanged": report.unchanged,
        "record_files": report.files,
        "records": report.records,
        "read": report.parsed,
        "rejected": [str(p) for p in report.errors],
        "warnings": [str(p) for p in report.warnings],
        "failures": [str(f) for f in report.failures],
        "removed": [str(p) for p in report.removed],  # in a dry run: would be removed
        "kept": [str(p) for p in report.kept],  # published, no longer made, left in place
        "removals_refused": report.removals_refused,
        "pings": {"sent": report.pings_sent, "waiting": report.pings_waiting},
        **({} if report.purge is None else {"purge": report.purge.as_json()}),  # only with a CDN
        "seconds": round(report.seconds, 3),
        "error": None,  # why a run was refused (see refusal_json)
        "errors": error_lines(report),  # every error line standard error shows
        **(
            {}
            if report.planned is None
            else {"would_write": [{"file": str(p), "bytes": n} for p, n in report.planned]}
        ),
    }


def refusal_json(status: int, error: str, *more: str) -> dict[str, Any]:
    """The summary of a run refused before it could begin (another run holds the lock,
    most records gone, a configuration error), for `--json`: every key of a run's
    summary, zero or empty, with the exit status, `error` why, and `errors` every
    error line standard error shows (`error` the first)."""
    nothing = BuildReport(
        files=0, parsed=0, records=0, errors=(), warnings=(), topics=(), feeds=0, failures=()
    )
    return {**summary_json(nothing, status), "error": error, "errors": [error, *more]}


@contextmanager
def _progress_bars(enabled: bool) -> Iterator[Progress | None]:
    """Progress bars on a terminal (records read, feeds written); nothing otherwise."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bars: dict[str, tqdm[Any]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="", leave=False, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def _topics(config: Config, as_json: bool) -> int:
    from .formats import SUFFIXES
    from .pipeline.published import published  # only this command reads the state this way

    found = published(config)
    for problem in found.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    if as_json:
        topics = [
            {"slug": t.slug, "title": t.title, "entries": t.entries,
             "newest": t.newest and _utc(t.newest), "feeds": dict(t.files)}
            for t in found.topics
        ]  # fmt: skip
        warnings = [str(p) for p in found.warnings]
        print(json.dumps({"status": EXIT_OK, "warnings": warnings, "topics": topics}, indent=2))
        return EXIT_OK
    rows = [("SLUG", "TITLE", "ENTRIES", "NEWEST", "FEEDS")]
    for t in found.topics:
        entries = "-" if t.entries is None else str(t.entries)  # not built yet
        newest = "-" if t.newest is None else _utc(t.newest)
        # The first file's URL, then the others' suffixes: the same URL but for the suffix.
        urls = [url if n == 0 else SUFFIXES[fmt] for n, (fmt, url) in enumerate(t.files)]
        rows.append((t.slug, printable(t.title), entries, newest, " ".join(urls)))
    w = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print(f"{row[0]:<{w[0]}}  {row[1]:<{w[1]}}  {row[2]:>{w[2]}}  {row[3]:<{w[3]}}  {row[4]}")
    return EXIT_OK


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _explain(config: Config, paths: Sequence[str], now: datetime, wait: float, out: TextIO) -> int:
    status, shown = EXIT_OK, 0
    for found in explain_each(config, paths, now, wait=wait):
        if isinstance(found, RecordError):
            print(f"error: {found}", file=sys.stderr)
            status = EXIT_REJECTED
            continue
        if shown:
            print(file=out)  # a blank line between records
        shown += 1
        for problem in found.warnings:
            print(f"warning: {problem}", file=sys.stderr)
        record = found.record
        print(f"{printable(found.shown)}: {record.title}", file=out)
        print(f"  id {record.id}", file=out)
        width = max((len(slug) for slug, _ in found.verdicts), default=0)
        for slug, verdict in found.verdicts:
            print(f"  {slug:<{width}}  {verdict}", file=out)
    return status


def _subscribers(config: Config, args: argparse.Namespace) -> int:
    from .errors import PublishError
    from .subscribers import report, survey  # only this command reads access logs

    stdin = sys.stdin.buffer if sys.stdin is not None else None
    if not args.logs and stdin is not None and stdin.isatty():
        raise TopicfeedsError("name the access logs to read (- reads standard input)")
    show_progress = not (args.quiet or args.json) and sys.stderr.isatty()
    with _progress_bars(show_progress) as progress:
        found = survey(
            config, args.logs or ["-"], None if args.format == "auto" else args.format, progress, stdin
        )
    for warning in found.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in found.problems:
        print(f"error: {problem}", file=sys.stderr)
    titles = {t.slug: t.title for t in config.topics}
    if args.html is not None:
        try:
            report.write_page(Path(args.html), report.html(found, titles, __version__))
        except PublishError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_WRITE
    if args.json:
        print(report.json_text(found, titles))
    elif not args.quiet:
        sparks = report.sparks_for(sys.stdout.encoding)
        sys.stdout.write(report.table(found.counts, daily=args.daily, sparks=sparks))
    return EXIT_REJECTED if found.problems else EXIT_OK
