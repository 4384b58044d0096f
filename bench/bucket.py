"""Time topicfeeds with records in a bucket and feeds published to a bucket, against
moto's S3-compatible server on loopback (behind the tests' counting proxy).

    python bench/bucket.py [--records 10000] [--topics 50] [--repeat 3] [--corpus DIR]

Cases: a cold build (no state, empty output bucket), a rerun with nothing changed, one
record changed (the most recent one, so that its topics' feeds change); each with its
time, the processor time it used (what the program costs, apart from waiting for the
server), its peak memory and the requests it made by kind (LIST, GET, PUT, HEAD,
DELETE). Every run is a fresh subprocess. Beside them, the floor the server sets: the
records listing fetched page by page over plain HTTP (no client library, nothing
parsed), and with the client library's own paginator and parser. `--corpus DIR` uses
a corpus bench/corpus.py wrote earlier (its seeds/ and config.yaml; read, never
changed) instead of writing one.
Not run in CI: the figures depend on the machine. Needs the test extra
(`pip install -e '.[test]'`) for moto.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from compare import Figures, RunFailed
from corpus import RECORDS_DIR, REFERENCE, write_corpus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.s3server import S3Server, running_s3

NOW = REFERENCE.strftime("%Y-%m-%dT%H:%M:%SZ")
SETTLE_SECONDS = 2.1  # objects younger than this are fetched again on the next run
KINDS = ("LIST", "GET", "PUT", "HEAD", "DELETE")
CASES = ("cold build", "rerun, nothing changed", "one record changed")
_PUBLISHED = re.compile(rb"^publishedDateTime: *\"?([^\"\n]*)", re.M)
_TOKEN = re.compile(rb"<NextContinuationToken>(.*?)</NextContinuationToken>")


# Runs each command from a small process and reports its time, processor time and peak
# memory: a process started straight from this one (which holds moto's objects) would be
# charged this one's memory, since the kernel notes a process's peak when it starts.
LAUNCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
sys.exit(code)
"""


def measure(cmd: list[str], figures: Figures, cpu: list[float]) -> None:
    """Run `cmd`; add its wall time, processor time and peak memory to the figures."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise RunFailed(f"{' '.join(cmd)}: exit status {done.returncode}\n{done.stderr[-2000:]}")
    seconds, processor, peak = done.stdout.split()
    figures.seconds.append(float(seconds))
    figures.rss_kib.append(int(peak))
    cpu.append(float(processor))


def upload(s3: S3Server, paths: list[Path]) -> None:
    client = s3.client()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda p: client.put_object(Bucket="records", Key=f"in/{p.name}", Body=p.read_bytes()),
                      paths))  # fmt: skip


def newest(paths: list[Path]) -> Path:
    """The record published last: it heads its topics' feeds, so editing it changes them."""
    dated = []
    for path in paths:
        found = _PUBLISHED.search(path.read_bytes())
        if found:
            dated.append((found.group(1), path.name, path))
    return max(dated)[2]


def kinds(requests: list[tuple[str, str]]) -> Counter[str]:
    return Counter(
        "LIST" if method == "GET" and "list-type=2" in path else method for method, path in requests
    )


def floor(s3: S3Server, repeat: int) -> tuple[float, float]:
    """Seconds to list the records bucket: over plain HTTP, and with the client library."""
    host, port = s3.url.split("//", 1)[1].split(":")
    plain, library = [], []
    for _ in range(repeat):
        conn = http.client.HTTPConnection(host, int(port), timeout=600)
        start, token = time.perf_counter(), None
        while True:
            query = {"list-type": "2", "prefix": "in/", **({"continuation-token": token} if token else {})}
            conn.request("GET", f"/records?{urlencode(query)}")
            found = _TOKEN.search(conn.getresponse().read())
            if found is None:
                break
            token = found.group(1).decode()
        plain.append(time.perf_counter() - start)
        conn.close()
        client = s3.client()
        start = time.perf_counter()
        for _ in client.get_paginator("list_objects_v2").paginate(Bucket="records", Prefix="in/"):
            pass
        library.append(time.perf_counter() - start)
    return statistics.median(plain), statistics.median(library)


def benchmark(workdir: Path, records: int, topics: int, repeat: int, corpus: Path | None) -> None:
    if corpus is None:
        config = write_corpus(workdir, records, topics)
        seeds = workdir / RECORDS_DIR
    else:
        config = workdir / "config.yaml"
        shutil.copy(corpus / "config.yaml", config)
        seeds = corpus / RECORDS_DIR
    paths = sorted(seeds.iterdir())
    edited = newest(paths)
    text = config.read_text(encoding="utf-8")
    with running_s3() as s3:
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
        text = text.replace("records: seeds", "records: s3://records/in/").replace(
            "output: feeds", "output: s3://feeds/out/"
        )
        text += f"s3:\n  endpoint: {s3.url}\n  region: us-east-1\n  addressing_style: path\n"
        config.write_text(text, encoding="utf-8")
        build = [sys.executable, "-m", "topicfeeds", "build", "-c", str(config), "-q", "--now", NOW]
        cases = {n: Figures(n) for n in CASES}
        cpu: dict[str, list[float]] = {n: [] for n in CASES}
        requests: dict[str, Counter[str]] = {}
        for n in range(repeat):
            s3.reset()
            client = s3.client()
            client.create_bucket(Bucket="records")
            client.create_bucket(Bucket="feeds")
            upload(s3, paths)
            for state in workdir.glob(".topicfeeds-state*"):
                state.unlink()
            time.sleep(SETTLE_SECONDS)
            for case in cases:
                if case == "one record changed":
                    body = edited.read_bytes().replace(b'title: "', f'title: "Edited {n}: '.encode(), 1)
                    client.put_object(Bucket="records", Key=f"in/{edited.name}", Body=body)
                    time.sleep(SETTLE_SECONDS)
                s3.faults.clear()
                measure(build, cases[case], cpu[case])
                requests[case] = kinds(s3.faults.requests)
        plain, library = floor(s3, repeat)
    print(f"{len(paths)} records, {topics} topics, median of {repeat}:")
    for case, figures in cases.items():
        counts = ", ".join(f"{k} {requests[case][k]}" for k in KINDS)
        print(f"  {case:<24} {statistics.median(figures.seconds):7.3f} s, processor "
              f"{statistics.median(cpu[case]):6.3f} s, {max(figures.rss_kib) / 1024:6.1f} MiB; "
              f"requests: {counts}")  # fmt: skip
    print(
        f"  listing the records alone: {plain:.3f} s over plain HTTP, {library:.3f} s with the client library"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, help="a corpus bench/corpus.py wrote (seeds/, config.yaml)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="topicfeeds-bucket-bench-") as tmp:
        benchmark(Path(tmp), args.records, args.topics, args.repeat, args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
