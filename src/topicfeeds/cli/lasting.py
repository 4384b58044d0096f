"""The commands that keep running until stopped: watch and serve."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config, load_config
from ..errors import TopicfeedsError
from ..runtime.signals import ENDING
from .report import print_problems, print_refusal, print_told, summary, summary_json
from .status import EXIT_OK

if TYPE_CHECKING:
    from ..watch import WatchRun


def run_serve(config: Config, args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise TopicfeedsError(f"--port: expected 0 to 65535, got {args.port}")
    if config.output_url is not None:
        raise TopicfeedsError(f"output: serve previews a local output folder, not {config.output_url}")
    from ..serve import WebSub, check_folder, serve  # only this command needs the HTTP server modules

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


def run_watch(config: Config, args: argparse.Namespace) -> int:
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
        if run.reason == "standby":
            what = "another watch publishes from this state; this one takes over when it stops"
            if args.json:
                print(json.dumps({"time": stamp, "reason": run.reason, "status": EXIT_OK, "standby": what}))
            elif not args.quiet:
                print(f"{stamp} standby: topicfeeds: {what}")
            sys.stdout.flush()
            return
        if run.refused is not None:
            status = print_refusal(run.refused)
            if args.json:
                line = {"time": stamp, "reason": run.reason, "status": status, "error": str(run.refused)}
                print(json.dumps(line))
            sys.stdout.flush()
            return
        if run.told is not None:
            print_told(run.told, stamp, args)
            return
        assert run.report is not None
        status = print_problems(run.report)
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
        from ..watch import WatchOptions, watch  # only this command needs watchfiles

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
