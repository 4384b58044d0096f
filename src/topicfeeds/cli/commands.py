"""The commands that run once and end: build, explain, topics and subscribers."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from .. import __version__
from ..config import Config
from ..errors import RecordError, TopicfeedsError, printable
from ..pipeline.run import build
from ..records.values import parse_datetime
from .report import print_problems, progress_bars, summary, summary_json
from .status import EXIT_OK, EXIT_REJECTED, EXIT_WRITE


def parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    parsed = parse_datetime(text)
    if parsed is None:
        raise TopicfeedsError(f"--now: cannot read {text!r} as a date")
    return parsed


def run_build(config: Config, now: datetime, args: argparse.Namespace) -> int:
    if args.max_deletes is not None and args.max_deletes < 0:
        raise TopicfeedsError(f"--max-deletes: expected at least 0, got {args.max_deletes}")
    if args.delete:
        config = dataclasses.replace(config, delete=True)
    if args.max_deletes is not None:
        config = dataclasses.replace(config, max_deletes=args.max_deletes)
    show_progress = not (args.quiet or args.json) and sys.stderr.isatty()
    with progress_bars(show_progress) as progress:
        report = build(
            config, now, args.jobs, wait=args.wait, progress=progress, full=args.full,
            allow_removals=args.allow_removals, dry_run=args.dry_run,
        )  # fmt: skip
    status = print_problems(report)
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


def run_explain(config: Config, paths: Sequence[str], now: datetime, wait: float, out: TextIO) -> int:
    status, shown = EXIT_OK, 0
    from ..pipeline.explanations import explain_each  # what explain alone needs, loaded for it

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


def run_topics(config: Config, as_json: bool) -> int:
    from ..formats import SUFFIXES
    from ..pipeline.published import published  # only this command reads the state this way

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


def run_subscribers(config: Config, args: argparse.Namespace) -> int:
    from ..errors import PublishError
    from ..subscribers import report, survey  # only this command reads access logs

    stdin = sys.stdin.buffer if sys.stdin is not None else None
    if not args.logs and stdin is not None and stdin.isatty():
        raise TopicfeedsError("name the access logs to read (- reads standard input)")
    show_progress = not (args.quiet or args.json) and sys.stderr.isatty()
    with progress_bars(show_progress) as progress:
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
