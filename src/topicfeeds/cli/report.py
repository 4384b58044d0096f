"""What a run says: its summary line, its JSON for monitoring, its problems on
standard error and the status they mean."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from ..errors import ConfigError, LockedError, RemovalsRefused, StateError, TopicfeedsError
from ..pipeline.run import BuildReport, HubsReport, Progress
from .status import EXIT_CONFIG, EXIT_LOCKED, EXIT_OK, EXIT_REJECTED, EXIT_REMOVALS, EXIT_WRITE


def refused(args: argparse.Namespace, status: int, *errors: str) -> int:
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


def print_told(told: HubsReport, stamp: str, args: argparse.Namespace) -> None:
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


def print_refusal(refused: TopicfeedsError) -> int:
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
    if isinstance(refused, StateError):
        return EXIT_WRITE
    return EXIT_LOCKED if isinstance(refused, LockedError) else EXIT_CONFIG


def print_problems(report: BuildReport) -> int:
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
def progress_bars(enabled: bool) -> Iterator[Progress | None]:
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
