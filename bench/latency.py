"""How long from a record file landing to the WebSub hub hearing of its topic's feed.

    python bench/latency.py --records 10000 --topics 50 [--samples 50] [--interval 1.5]
                            [--burst 1000] [--idle 320] [--corpus DIR] [--watch-args ARGS]
                            [--soak SECONDS --every SECONDS]

Writes a corpus (bench/corpus.py), or copies one made earlier (`--corpus`, a folder
holding its config.yaml and seeds/), builds it, starts a loopback hub and `topicfeeds
watch` (whose first run, the first after the cold build, is timed), then renames
`--samples` published records into the records folder one every `--interval` seconds
(as an atomic writer does) and times each until the hub receives a publish request
naming its topic's Atom feed. Prints p50/p95/max and the slowest samples with the watch
runs that served them. With `--burst N`, N records are then renamed in at once, and
the time until the hub has heard of every feed they land in is printed. Then the
watch's CPU share and memory over an idle spell, with
every burst of CPU in it (a periodic check is one: make the spell longer than
`--check-every`, 300 s by default, to include one). With `--soak`, records then keep
arriving, one every `--every` seconds, for that long, and the watch's memory and CPU
share are printed every minute and at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import RECORDS_DIR, add_records, write_corpus

TOPICFEEDS = [sys.executable, "-m", "topicfeeds"]


class Hub:
    """A loopback hub that notes when each feed URL was announced."""

    def __init__(self) -> None:
        self.heard: list[tuple[float, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("ascii")
                hub.heard += [(at, u) for u in urllib.parse.parse_qs(body).get("hub.url", [])]
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"


@dataclass(frozen=True)
class Line:
    """A line the watch printed (`--json`: one per run), and when it arrived."""

    at: float
    run: dict[str, object]


def read_lines(stream: object, lines: list[Line]) -> None:
    """Keep the watch's run lines as they come, stamped on arrival."""
    for text in stream:  # type: ignore[attr-defined]
        with contextlib.suppress(ValueError):  # not a run line
            lines.append(Line(time.monotonic(), json.loads(text)))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def expected_feed(record: Path, base_url: str) -> str | None:
    """The Atom feed a record lands in, or None when it is not published."""
    front = yaml.safe_load(record.read_text(encoding="utf-8").split("---")[1])
    if not front.get("published", True) or not front.get("topics"):
        return None
    return f"{base_url}{str(front['topics'][0]).lower().replace(' ', '-')}.atom"


def run(
    workdir: Path, records: int, topics: int, samples: int, idle: float,
    corpus: Path | None = None, soak: float = 0.0, every: float = 3.0, check_every: float | None = None,
    interval: float = 1.5, burst: int = 0, watch_args: Sequence[str] = (),
) -> None:  # fmt: skip
    hub = Hub()
    if corpus is None:
        config = write_corpus(workdir, records, topics)
    else:  # a corpus made earlier: copied, never changed where it is
        shutil.copytree(corpus / RECORDS_DIR, workdir / RECORDS_DIR)
        (workdir / "feeds").mkdir(exist_ok=True)
        config = workdir / "config.yaml"
        shutil.copy(corpus / "config.yaml", config)
        records = len(list((workdir / RECORDS_DIR).iterdir()))
        topics = len(yaml.safe_load(config.read_text(encoding="utf-8"))["topics"])
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('  base_url: "https://bench.example/feeds/"\n',
                     f'  base_url: "https://bench.example/feeds/"\n'
                     f'  hubs: [{{url: "{hub.url}", per_request: 10}}]\n'),
        encoding="utf-8",
    )  # fmt: skip
    started = time.monotonic()
    subprocess.run([*TOPICFEEDS, "build", "-q", "-c", str(config)], check=True)
    print(f"cold build of {records} records, {topics} topics: {time.monotonic() - started:.1f} s")

    staging = workdir / "staging"
    (staging / RECORDS_DIR).mkdir(parents=True, exist_ok=True)
    last = sorted((workdir / RECORDS_DIR).glob("[0-9]*_*.txt"))[-1].name
    (staging / RECORDS_DIR / last).touch()  # so that new records are numbered after the corpus
    (staging / "config.yaml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    soaked = round(soak / every) if soak else 0
    # The corpus leaves a few records unpublished (no ping to time): samples are
    # published records, so that all of them are timed.
    made = add_records(staging, samples * 2 + soaked + burst, seed=99)
    fresh = [p for p in made if expected_feed(p, "https://bench.example/feeds/") is not None][:samples]
    later = [p for p in made if p not in set(fresh)][:soaked]
    bursting = [p for p in made if p not in set(fresh) | set(later)][:burst]

    command = [*TOPICFEEDS, "watch", "--json", "-c", str(config)]
    if check_every is not None:
        command += ["--check-every", str(check_every)]
    command += list(watch_args)
    watch = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, encoding="utf-8")
    lines: list[Line] = []
    threading.Thread(target=read_lines, args=(watch.stdout, lines), daemon=True).start()
    try:
        # Its first run finds nothing to do; a record renamed during it would wait for
        # the end of that run, then for a run of its own.
        deadline = time.monotonic() + 600
        while not lines and watch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first = lines[0].run if lines else {}
        print(f"watch started: first run (the first after the cold build) {first.get('seconds', '?')} s, "
              f"reading {first.get('read', '?')} records")  # fmt: skip
        timed: list[tuple[float, str, float]] = []  # (latency, record, landed)
        for path in fresh:
            # Fresh news: dated now, so it lands at the top of its topics' feeds rather
            # than below their cut (the corpus dates new records up to two days back).
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            text = re.sub(r"^publishedDateTime: .*$", f"publishedDateTime: {now}", path.read_text("utf-8"),
                          count=1, flags=re.M)  # fmt: skip
            path.write_text(text, encoding="utf-8")
            feed = expected_feed(path, "https://bench.example/feeds/")
            assert feed is not None  # only published records were chosen
            heard = len(hub.heard)
            landed = time.monotonic()
            path.rename(workdir / RECORDS_DIR / path.name)
            slot = landed + interval  # records arrive one every `interval` seconds
            deadline = landed + 30
            while time.monotonic() < deadline:
                times = [at for at, url in hub.heard[heard:] if url == feed]
                if times:
                    timed.append((times[0] - landed, path.name, landed))
                    break
                time.sleep(0.005)
            else:
                print(f"{path.name}: no ping for {feed} within 30 s")
            time.sleep(max(0.0, slot - time.monotonic()))
        _latencies(timed, fresh, lines)
        if bursting:
            time.sleep(interval)
            _burst(hub, workdir, bursting, lines)
        _idle(watch.pid, idle, lines)
        if later:
            _soak(watch.pid, workdir, later, every)
    finally:
        watch.terminate()
        watch.wait(timeout=60)
        hub.server.shutdown()


def _latencies(timed: list[tuple[float, str, float]], fresh: Sequence[Path], lines: Sequence[Line]) -> None:
    """p50, p95 and max, and what the slowest samples waited for."""
    if not timed:
        return
    order = {path.name: n for n, path in enumerate(fresh, 1)}
    latencies = sorted(t for t, _, _ in timed)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    print(
        f"rename -> ping, {len(latencies)} records: p50 {statistics.median(latencies):.3f} s, "
        f"p95 {p95:.3f} s, max {latencies[-1]:.3f} s"
    )
    for latency, name, landed in sorted(timed, reverse=True)[:3]:
        runs = [
            f"{line.run.get('reason')} run of {line.run.get('seconds')} s reading {line.run.get('read')} "
            f"(+{line.at - landed:.2f} s)"
            for line in lines
            if landed <= line.at <= landed + latency + 1 and line.run.get("reason") != "hubs"  # not a run
        ]
        near = "; ".join(runs) or "none"
        print(f"  slow: sample {order[name]} ({name}) {latency:.3f} s; runs ended after it: {near}")


def _burst(hub: Hub, workdir: Path, records: Sequence[Path], lines: Sequence[Line]) -> None:
    """Rename `records` into the records folder at once; time until the hub has heard of
    every feed they land in, and say which runs served them."""
    feeds: set[str] = set()
    for path in records:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = re.sub(r"^publishedDateTime: .*$", f"publishedDateTime: {now}", path.read_text("utf-8"),
                      count=1, flags=re.M)  # fmt: skip
        path.write_text(text, encoding="utf-8")
        feed = expected_feed(path, "https://bench.example/feeds/")
        if feed is not None:
            feeds.add(feed)
    heard, runs = len(hub.heard), len(lines)
    landed = time.monotonic()
    for path in records:
        path.rename(workdir / RECORDS_DIR / path.name)
    renamed = time.monotonic() - landed
    deadline = landed + 120
    waiting = set(feeds)
    last = landed
    while waiting and time.monotonic() < deadline:
        for at, url in hub.heard[heard:]:
            if url in waiting:
                waiting.discard(url)
                last = max(last, at)
        time.sleep(0.01)
    served = [f"{line.run.get('reason')} run of {line.run.get('seconds')} s reading {line.run.get('read')}"
              for line in lines[runs:] if line.run.get("reason") != "hubs"]  # fmt: skip
    outcome = (
        f"{len(waiting)} not pinged within 120 s" if waiting else f"all pinged {last - landed:.2f} s after"
    )
    print(f"burst of {len(records)} records renamed in {renamed:.2f} s, landing in {len(feeds)} feeds: "
          f"{outcome} the first rename; runs: {'; '.join(served) or 'none'}")  # fmt: skip


def _idle(pid: int, idle: float, lines: Sequence[Line]) -> None:
    """The watch's CPU share and memory while nothing arrives, with its bursts of CPU."""
    cpu, memory, started = cpu_seconds(pid), rss_mb(pid), time.monotonic()
    bursts: list[str] = []
    last = cpu
    while time.monotonic() - started < idle:
        time.sleep(min(1.0, max(0.0, started + idle - time.monotonic())))
        now = cpu_seconds(pid)
        if now - last >= 0.05:
            bursts.append(f"{now - last:.2f} s at {time.monotonic() - started:.0f} s")
        last = now
    share = (cpu_seconds(pid) - cpu) / idle * 100
    print(
        f"watch idle for {idle:.0f} s: {share:.2f}% CPU; memory {memory:.0f} MB -> {rss_mb(pid):.0f} MB; "
        f"CPU bursts (a periodic check is one): {', '.join(bursts) or 'none'}"
    )


def _soak(pid: int, workdir: Path, records: Sequence[Path], every: float) -> None:
    """Rename `records` into the records folder one every `every` seconds; print the
    watch's memory and CPU as they go."""
    started = time.monotonic()
    cpu, first = cpu_seconds(pid), rss_mb(pid)
    print(f"soak: {len(records)} records, one every {every:g} s; memory at start {first:.0f} MB", flush=True)
    samples = [first]
    minute_cpu, minute_at = cpu, started
    for n, path in enumerate(records, 1):
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = re.sub(r"^publishedDateTime: .*$", f"publishedDateTime: {now}", path.read_text("utf-8"),
                      count=1, flags=re.M)  # fmt: skip
        path.write_text(text, encoding="utf-8")
        path.rename(workdir / RECORDS_DIR / path.name)
        time.sleep(max(0.0, started + n * every - time.monotonic()))
        if n % max(1, round(60 / every)) == 0:
            samples.append(rss_mb(pid))
            at, used = time.monotonic(), cpu_seconds(pid)
            share_now = (used - minute_cpu) / (at - minute_at) * 100
            minute_cpu, minute_at = used, at
            print(
                f"soak: {(at - started) / 60:4.1f} min, {n} records, memory {samples[-1]:.0f} MB, "
                f"{share_now:.0f}% CPU over the minute",
                flush=True,
            )
    spent = time.monotonic() - started
    share = (cpu_seconds(pid) - cpu) / spent * 100
    print(
        f"soak over {spent / 60:.1f} min: memory {first:.0f} MB at start, {rss_mb(pid):.0f} MB at end, "
        f"{min(samples):.0f}-{max(samples):.0f} MB sampled each minute; {share:.1f}% CPU"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description="Time a record landing -> hub ping with `watch` running.")
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--samples", type=int, default=50)
    # A little longer than the watch's default --check-every, so that a check falls in it.
    parser.add_argument("--idle", type=float, default=320.0, help="seconds of idle CPU measurement")
    parser.add_argument("--workdir", type=Path, help="keep the corpus here (default: a temporary folder)")
    parser.add_argument("--corpus", type=Path, help="copy this corpus (config.yaml, seeds/)")
    parser.add_argument("--soak", type=float, default=0.0, help="then seconds of records arriving")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between records while soaking")
    parser.add_argument("--check-every", type=float, help="the watch's --check-every (default: its own)")
    parser.add_argument("--interval", type=float, default=1.5, help="seconds between timed records")
    parser.add_argument("--burst", type=int, default=0, help="then rename this many records in at once")
    parser.add_argument("--watch-args", default="", help="more `topicfeeds watch` arguments")
    args = parser.parse_args(argv)
    options: tuple[Any, ...] = (args.records, args.topics, args.samples, args.idle)
    options += (args.corpus, args.soak, args.every, args.check_every, args.interval, args.burst)
    options += (args.watch_args.split(),)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        run(args.workdir, *options)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), *options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
