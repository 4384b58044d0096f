"""The command line's parser: every command, option and help text (the reference in
docs/reference/cli.md is made from it)."""

from __future__ import annotations

import argparse
import textwrap
from typing import NoReturn

from .. import __version__
from .state import add_state_parser
from .status import EXIT_STATUSES

DEFAULT_BIND = "127.0.0.1"  # `serve` shows the preview to this machine only
DEFAULT_PORT = 8000


class UsageError(Exception):
    """Arguments the parser cannot read (argparse would print them and exit 2)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class Parser(argparse.ArgumentParser):
    """A parser that leaves a usage error to `_main`, which may have JSON to print too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default="config.yaml",
        metavar="FILE",
        help="configuration file (default: ./config.yaml); paths in it resolve against its folder",
    )


def make_parser() -> argparse.ArgumentParser:
    """The command line's parser, every command and option (the reference docs are made from it)."""
    parser = Parser(
        prog="topicfeeds",
        description="Publish news records as per-topic feeds and pages, and preview them.",
        epilog=_exit_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog is a table
    )
    parser.add_argument("--version", action="version", version=f"topicfeeds {__version__}")
    common = Parser(add_help=False)
    add_config(common)
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
    add_config(t)
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
    add_config(w)
    w.add_argument("-q", "--quiet", action="store_true", help="print only problems, not a line per run")
    w.add_argument("--json", action="store_true", help="print each run's summary as a line of JSON")
    w.add_argument(
        "--settle",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="when a file was written where it lies, wait until no change has come for this long "
        "before a run (default: 0.2); files renamed in or removed are taken once 0.02 s pass without another",
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
    add_config(s)
    s.add_argument(
        "--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port (default: {DEFAULT_PORT})"
    )
    s.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="ADDR",
        help=f"address to listen on (default: {DEFAULT_BIND}, this machine only)",
    )
    add_state_parser(sub, add_config)
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
    add_config(u)
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
