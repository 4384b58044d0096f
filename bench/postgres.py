"""Time topicfeeds with its state in PostgreSQL beside the same runs with SQLite's file,
and a standby watch's takeover.

    python bench/postgres.py --corpus DIR [--workdir DIR] [--repeat 1] [--reuse]

The corpus's records are copied into `--workdir` once (the corpus itself is never
written); both backends build from that copy, each into an output folder and a state of
its own, in the same run, case by case, so that the machine's load is the same for
both. PostgreSQL is Debian's server, started as the tests start it (tests/pgserver.py)
but durable (its defaults: fsync on), on loopback over TCP.

Cases: a cold build (no state), a rerun with nothing changed, one record changed; then
the takeover: two `watch` on the PostgreSQL state, the publishing one SIGKILLed, a record
written at that moment, and the time until the standby has published it. Every run is
a fresh subprocess (see compare.py's `measure`). Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from compare import NOW, SETTLE_SECONDS, Figures, RunFailed, clear, cpu_model, measure, warm
from corpus import OUTPUT_DIR, RECORDS_DIR, edit_records

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.pgserver import PgServer, server_programs  # the tests' own server

SCHEMA = "bench"
CASES = ("cold build", "rerun, nothing changed", "one record changed")


def configs(corpus: Path, workdir: Path, url: str) -> dict[str, Path]:
    """A config.yaml for each backend in `workdir`, the corpus's own but for where the
    records (the copy), the output and the state are."""
    text = (corpus / "config.yaml").read_text(encoding="utf-8")
    found = {}
    for name, state in (("sqlite", ""), ("postgresql", f"state: {url}\nstate_schema: {SCHEMA}\n")):
        folder = workdir / name
        (folder / OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
        lines = [line for line in text.splitlines() if not line.startswith(("records:", "output:", "state"))]
        body = "\n".join(lines) + f"\nrecords: ../{RECORDS_DIR}\noutput: {OUTPUT_DIR}\n{state}"
        (folder / "config.yaml").write_text(body, encoding="utf-8")
        found[name] = folder / "config.yaml"
    return found


def forget(name: str, config: Path, server: PgServer) -> None:
    """Lose the state and the output: the next build is a cold one."""
    clear(config.parent / OUTPUT_DIR)
    if name == "sqlite":
        for state in config.parent.glob(".topicfeeds-state*"):
            state.unlink()
    else:
        server.psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def takeover(config: Path, workdir: Path) -> float:
    """Seconds from the publishing watch's SIGKILL to the standby's feed holding the
    record written at that moment."""
    command = [sys.executable, "-m", "topicfeeds", "watch", "--json", "-c", str(config)]
    command += ["--check-every", "600"]

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                start_new_session=True)  # fmt: skip

    active = start()
    assert active.stdout is not None
    first = active.stdout.readline()  # its first run: the state is built, so an idle one
    if '"reason": "start"' not in first:
        raise RunFailed(f"the first watch did not start: {first}")
    standby = start()
    assert standby.stdout is not None
    if '"reason": "standby"' not in standby.stdout.readline():
        raise RunFailed("the second watch did not stand by")
    # A new record, the newest of all (so every topic it names shows it), written at the
    # moment of the kill: only the standby can publish it.
    model = next((workdir / RECORDS_DIR).iterdir()).read_text(encoding="utf-8")
    title = "Taken over " + str(time.time_ns())
    url = f"https://takeover.example/{time.time_ns()}"
    text = re.sub(r"^title: .*$", f"title: {title!r}", model, count=1, flags=re.M)
    text = re.sub(r"^(originalUrl|webUrl): .*$", rf"\1: {url!r}", text, flags=re.M)
    text = re.sub(r"^publishedDateTime: .*$", f"publishedDateTime: {NOW}", text, count=1, flags=re.M)
    text = re.sub(r"^published: .*$", "published: true", text, count=1, flags=re.M)
    # In the first topic only, whose one feed is then watched (reading all of them, often,
    # would load the machine being measured).
    topics = yaml.safe_load(config.read_text(encoding="utf-8"))["topics"]
    slug, topic = next(iter(topics.items()))
    text = re.sub(
        r"^topics:\n(?:  - .*\n)+", f"topics:\n  - {topic['match'][0]!r}\n", text, count=1, flags=re.M
    )
    record = workdir / RECORDS_DIR / "9999999_takeover.txt"
    os.killpg(active.pid, signal.SIGKILL)
    killed = time.perf_counter()
    active.wait()
    record.with_name(".taken.tmp").write_text(text, encoding="utf-8")
    record.with_name(".taken.tmp").replace(record)
    feed = config.parent / OUTPUT_DIR / f"{slug}.atom"
    try:
        while True:
            if feed.is_file() and title.encode() in feed.read_bytes():
                return time.perf_counter() - killed
            if standby.poll() is not None or time.perf_counter() - killed > 120:
                raise RunFailed("the standby never published the record")
            time.sleep(0.05)
    finally:
        os.killpg(standby.pid, signal.SIGTERM)
        standby.wait(timeout=60)
        record.unlink()


def benchmark(corpus: Path, workdir: Path, repeat: int, *, reuse: bool) -> None:
    """Copy the corpus's records (unless `reuse`), time each case for both backends, print the table."""
    seeds = workdir / RECORDS_DIR
    if not (reuse and seeds.is_dir()):
        shutil.rmtree(seeds, ignore_errors=True)
        started = time.perf_counter()
        shutil.copytree(corpus / RECORDS_DIR, seeds)
        shutil.copy(corpus / "config.yaml", workdir)  # edit_records reads its topics
        print(f"corpus: {corpus}, records copied in {time.perf_counter() - started:.1f} s")
    records = sum(1 for _ in seeds.iterdir())
    programs = server_programs()
    if programs is None:
        raise RunFailed("PostgreSQL is not installed (Debian: apt-get install -y postgresql)")
    server = PgServer(programs, durable=True)
    try:
        paths = configs(corpus, workdir, server.url())
        figures = {(name, case): Figures(case) for name in paths for case in CASES}
        takeovers = Figures("standby takeover")

        def timed(name: str, case: str) -> None:
            build = [sys.executable, "-m", "topicfeeds", "build", "-q", "-c", str(paths[name]), "--now", NOW]
            measure(build, figures[name, case], ok=(0, 1))

        for n in range(repeat):
            for name, config in paths.items():
                forget(name, config, server)
            warm(seeds)
            time.sleep(SETTLE_SECONDS)
            for name in paths:  # each case for both, one after the other
                timed(name, "cold build")
            for name in paths:
                timed(name, "rerun, nothing changed")
            edit_records(workdir, 1, seed=100 + n)
            for name in paths:
                timed(name, "one record changed")
            time.sleep(SETTLE_SECONDS)
            takeovers.seconds.append(takeover(paths["postgresql"], workdir))
        size = server.psql(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{SCHEMA}'"
        )
    finally:
        server.close()
    print()
    heads = (
        f"{'SQLite s':>9}  {'PostgreSQL s':>12}  {'ratio':>6}  {'CPU s (SQLite / PG)':>20}  {'RSS MiB':>14}"
    )
    print(f"{'case':<24}  {heads}")
    for case in CASES:
        lite, pg = figures["sqlite", case], figures["postgresql", case]
        a, b = statistics.median(lite.seconds), statistics.median(pg.seconds)
        cpu = f"{statistics.median(lite.cpu):.2f} / {statistics.median(pg.cpu):.2f}"
        rss = f"{max(lite.rss_kib) / 1024:.0f} / {max(pg.rss_kib) / 1024:.0f}"
        print(f"{case:<24}  {a:>9.3f}  {b:>12.3f}  {b / a:>6.2f}  {cpu:>20}  {rss:>14}")
    print(f"{'standby takeover':<24}  {'':>9}  {statistics.median(takeovers.seconds):>12.3f}  "
          f"(SIGKILL of the publishing watch to the record in the standby's feed)")  # fmt: skip
    lite_state = sum(p.stat().st_size for p in paths["sqlite"].parent.glob(".topicfeeds-state.sqlite*"))
    print(f"state: SQLite {lite_state / 2**20:.0f} MiB, PostgreSQL {size}")
    print(f"machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}, load {os.getloadavg()[0]:.2f}, "
          f"{records} records, {repeat} run(s) each")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Time topicfeeds with its state in PostgreSQL and SQLite.")
    parser.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="a folder with config.yaml and seeds/ (bench/corpus.py makes one)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the copy here (default: a temporary folder)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="time the records already copied to --workdir")
    args = parser.parse_args(argv)
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            benchmark(args.corpus.resolve(), args.workdir.resolve(), args.repeat, reuse=args.reuse)
        else:
            with tempfile.TemporaryDirectory(prefix="topicfeeds-bench-pg-") as tmp:
                benchmark(args.corpus.resolve(), Path(tmp), args.repeat, reuse=False)
    except RunFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
