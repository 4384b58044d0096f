"""Time topicfeeds on a generated corpus, cold and incremental, against a plain
PyYAML + feedgen script.

    python bench/compare.py [--records 10000] [--topics 50] [--repeat 3] [--workdir DIR]

Cases: a cold build (no state), a rerun with nothing changed, one record changed,
1% of records changed, 100 records added, and the baseline script. Every run is a
fresh subprocess, so its peak RSS is its own. Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corpus import OUTPUT_DIR, REFERENCE, add_records, edit_records, write_corpus

BASELINE = Path(__file__).resolve().with_name("baseline.py")
# Files younger than this are re-hashed on the next run (topicfeeds.pipeline.RACY_NS);
# cron sees files minutes old, so the benchmark lets them age this long first.
SETTLE_SECONDS = 2.1
NOW = REFERENCE.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Figures:
    """The measurements of one kind of run."""

    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    def row(self) -> tuple[str, str, str]:
        return self.label, f"{statistics.median(self.seconds):.3f}", f"{max(self.rss_kib) / 1024:.1f}"


class RunFailed(Exception):
    """A measured command exited with a status it must not."""


def measure(cmd: Sequence[str], figures: Figures, ok: Sequence[int] = (0,)) -> int:
    """Run `cmd`, add its wall time and peak RSS to `figures`, and return its exit status."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would mix all runs together.
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        if code not in ok:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise RunFailed(f"{' '.join(cmd)}: exit status {code}\n{tail}")
    figures.seconds.append(elapsed)
    figures.rss_kib.append(usage.ru_maxrss)  # KiB on Linux
    return code


def clear(folder: Path) -> None:
    """Empty `folder`, keeping the folder itself."""
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, when there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def benchmark(workdir: Path, records: int, topics: int, repeat: int) -> None:
    """Generate the corpus in `workdir`, run every case `repeat` times and print the table."""
    start = time.perf_counter()
    config = write_corpus(workdir, records, topics)
    print(f"corpus: {records} records, {topics} topics in {workdir} ({time.perf_counter() - start:.1f} s)")
    feeds = workdir / OUTPUT_DIR
    baseline_out = workdir / "baseline-feeds"
    baseline_out.mkdir(exist_ok=True)
    build = [sys.executable, "-m", "topicfeeds", "build", "-c", str(config), "-q", "--now", NOW]
    cases = {
        name: Figures(name)
        for name in (
            "topicfeeds cold build",
            "rerun, nothing changed",
            "one record changed",
            "1% of records changed",
            "100 records added",
            "baseline script",
        )
    }
    statuses: set[int] = set()

    def timed(case: str) -> None:
        statuses.add(measure(build, cases[case], ok=(0, 1)))

    for n in range(repeat):
        clear(feeds)
        for state in workdir.glob(".topicfeeds-state*"):
            state.unlink()
        time.sleep(SETTLE_SECONDS)
        timed("topicfeeds cold build")
        timed("rerun, nothing changed")
        edit_records(workdir, 1, seed=100 + n)
        timed("one record changed")
        time.sleep(SETTLE_SECONDS)
        measure(build, Figures("settle"), ok=(0, 1))
        edit_records(workdir, max(1, records // 100), seed=200 + n)
        timed("1% of records changed")
        time.sleep(SETTLE_SECONDS)
        measure(build, Figures("settle"), ok=(0, 1))
        add_records(workdir, 100, seed=300 + n)
        timed("100 records added")
        clear(baseline_out)
        measure(
            [sys.executable, str(BASELINE), str(config), "--out", str(baseline_out)], cases["baseline script"]
        )
    cold, plain = cases["topicfeeds cold build"], cases["baseline script"]

    rows = [("run", "median s", "max RSS MiB"), *(f.row() for f in cases.values())]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print()
    for label, secs, rss in rows:
        print(f"{label:<{widths[0]}}  {secs:>{widths[1]}}  {rss:>{widths[2]}}")
    ratio = statistics.median(plain.seconds) / statistics.median(cold.seconds)
    print(f"\nbaseline / topicfeeds cold build, wall time: {ratio:.2f}x (above 1: topicfeeds is faster)")
    counts = (len(list(folder.iterdir())) for folder in (feeds, baseline_out))
    print("feed files: topicfeeds {}, baseline {}".format(*counts))
    if 1 in statuses:
        print("note: topicfeeds exited with status 1 (some records rejected)")
    print(
        f"machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}, "
        f"{platform.python_implementation()} {platform.python_version()}, {repeat} run(s) each"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Time topicfeeds against a plain feedgen script.")
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the corpus here (default: a temporary folder)")
    args = parser.parse_args(argv)
    try:
        if args.workdir:
            benchmark(args.workdir.resolve(), args.records, args.topics, args.repeat)
        else:
            with tempfile.TemporaryDirectory(prefix="topicfeeds-bench-") as tmp:
                benchmark(Path(tmp), args.records, args.topics, args.repeat)
    except RunFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
