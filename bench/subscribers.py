"""Time `topicfeeds subscribers` over a generated access log, with its peak memory.

    python bench/subscribers.py [--size-mb 1024] [--days 30] [--topics 50] [--readers 20000]
                                [--gzip] [--workdir DIR] [--keep] [--log FILE]

Writes a log in the combined format (nginx's default) of about --size-mb MiB into a
temporary folder (or --workdir), its lines in time order over --days days: fetches of
every topic's Atom, RSS and JSON feeds by aggregators and hubs reporting counts, by
--readers direct readers each polling every hour or so (a share of them conditionally,
answered 304), browsers and bots, beside pages and images. Then runs the command on it
once, in a fresh process, with --json to a file, and prints the wall time, the CPU
time and the process's peak resident memory, and what it counted. --gzip compresses
the log first, as rotated logs are. The log is removed unless --keep; --log times
a log kept earlier instead of writing one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
SERVICES = (
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; )",
    "Feedbin feed-id:{id} - {n} subscribers",
    "NewsBlur Feed Fetcher - {n} subscribers - http://www.newsblur.com/site/{id}/feed "
    "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36)",
    "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)",
    "Mozilla/5.0 (compatible; theoldreader.com; {n} subscribers; feed-id={id})",
    "Superfeedr bot/2.0 http://superfeedr.com - Make your feeds realtime - feed-id:{id} - {n} subscribers",
)
READERS = (
    "newsboat/2.36.0 (Linux x86_64)",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0",
    "FreshRSS/1.23.1 (Linux; https://freshrss.org)",
    "Mozilla/5.0 (compatible; Miniflux/2.1.0; +https://miniflux.app)",
)
OTHERS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
)
PAGES = ("/", "/index.html", "/feeds/index.html", "/feeds/style.css", "/img/logo.png", "/feeds/topics.opml")


class Traffic:
    """Requests of a made-up site, drawn at random (the same every run)."""

    def __init__(self, topics: int, readers: int) -> None:
        self.rng = random.Random(5005)
        feeds = [f"/feeds/topic-{t:03}.{ext}" for t in range(topics) for ext in ("atom", "rss", "json")]
        self.feeds = feeds
        self.people = [
            (
                f"198.{51 + n // 65536}.{n // 256 % 256}.{n % 256}",
                READERS[n % len(READERS)],
                self.rng.choice(feeds),
            )
            for n in range(readers)
        ]
        self.services = [
            (f"192.0.2.{s}", template, feed, 1000 + i, self.rng.randrange(1, 500))
            for s, template in enumerate(SERVICES)
            for i, feed in enumerate(feeds)
        ]

    def line(self, at: float) -> str:
        """A request at `at` seconds after START."""
        rng = self.rng
        stamp = (START + timedelta(seconds=int(at))).strftime("%d/%b/%Y:%H:%M:%S +0000")
        kind = rng.random()
        status = 200
        if kind < 0.45:  # a direct reader's poll
            address, agent, path = self.people[rng.randrange(len(self.people))]
            status = 304 if rng.random() < 0.6 else 200
        elif kind < 0.55:  # an aggregator's or hub's poll, its count growing by the day
            address, template, path, feed_id, base = self.services[rng.randrange(len(self.services))]
            agent = template.format(n=base + int(at) // 86400, id=feed_id)
            status = 304 if rng.random() < 0.3 else 200
        else:  # everything else: browsers and bots, on pages, images and feeds
            address = f"203.0.{rng.randrange(256)}.{rng.randrange(256)}"
            agent = rng.choice(OTHERS)
            path = rng.choice(self.feeds) if rng.random() < 0.1 else rng.choice(PAGES)
        size = 0 if status == 304 else 5120
        return f'{address} - - [{stamp}] "GET {path} HTTP/1.1" {status} {size} "-" "{agent}"\n'


def write_log(path: Path, size: int, days: int, topics: int, readers: int) -> int:
    """Write about `size` bytes of log to `path`, its lines in time order over `days`;
    return the number of lines."""
    sample = Traffic(topics, readers)
    mean = sum(len(sample.line(0)) for _ in range(5000)) / 5000
    end = days * 86400 - 1
    step = end / (size / mean)  # seconds between lines
    traffic = Traffic(topics, readers)
    written = lines = 0
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        while written < size:
            text = traffic.line(min(lines * step, end))
            out.write(text)
            written += len(text)
            lines += 1
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--readers", type=int, default=20000)
    parser.add_argument("--gzip", action="store_true", help="compress the log first")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="leave the log where it was written")
    parser.add_argument("--log", type=Path, help="time this log (one --keep left) instead of writing one")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="topicfeeds-subscribers-", dir=args.workdir))
    try:
        config = work / "config.yaml"
        config.write_text(
            "site:\n  title: Bench\n  link: https://news.example/\n  base_url: https://news.example/feeds/\n"
            "  author: Bench\nrecords: seeds\noutput: feeds\nauto: true\ntopics: {}\n",
            encoding="utf-8",
        )
        if args.log is not None:
            log = args.log
            with gzip.open(log, "rb") if log.suffix == ".gz" else log.open("rb") as counted:
                lines = sum(1 for _ in counted)
        else:
            log = work / "access.log"
            started = time.perf_counter()
            lines = write_log(log, args.size_mb << 20, args.days, args.topics, args.readers)
            seconds = time.perf_counter() - started
            print(f"wrote {log.stat().st_size / 2**20:.0f} MiB, {lines} lines, in {seconds:.0f} s")
        if args.gzip and log.suffix != ".gz":
            packed_log = work / f"{log.name}.gz"
            with log.open("rb") as plain, gzip.open(packed_log, "wb", compresslevel=6) as packed:
                shutil.copyfileobj(plain, packed, 1 << 20)
            if args.log is None:
                log.unlink()
            log = packed_log
            print(f"compressed to {log.stat().st_size / 2**20:.1f} MiB")
        report = work / "report.json"
        command = [sys.executable, "-m", "topicfeeds", "subscribers", "-c", str(config), "--json", str(log)]
        started = time.perf_counter()
        with report.open("wb") as out:
            process = subprocess.Popen(command, stdout=out)
            _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"topicfeeds subscribers exited with status {os.waitstatus_to_exitcode(status)}")
        counted = json.loads(report.read_text(encoding="utf-8"))
        print(
            f"subscribers: {wall:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
            f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB; {lines / wall / 1e6:.2f} M lines/s"
        )
        top, logs = counted["topics"][0], counted["logs"]
        print(
            f"counted {logs['requests']} requests, {logs['fetches']} fetches of a feed, "
            f"{len(counted['days'])} days, {len(counted['topics'])} topics; "
            f"{top['topic']}: {top['subscribers']} subscribers on the last day"
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
