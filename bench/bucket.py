"""Time topicfeeds with records in a bucket and feeds published to a bucket, against
moto's S3-compatible server on loopback (behind the tests' counting proxy).

    python bench/bucket.py [--records 10000] [--topics 50] [--repeat 3]

Cases: a cold build (no state, empty output bucket), a rerun with nothing changed, one
record changed; each with the requests it made by method. Every run is a fresh
subprocess. Not run in CI: the figures depend on the machine. Needs the test extra
(`pip install -e '.[test]'`) for moto.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from compare import Figures, measure
from corpus import RECORDS_DIR, REFERENCE, edit_records, write_corpus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.s3server import S3Server, running_s3

NOW = REFERENCE.strftime("%Y-%m-%dT%H:%M:%SZ")
SETTLE_SECONDS = 2.1  # objects younger than this are fetched again on the next run


def upload(s3: S3Server, paths: list[Path]) -> None:
    client = s3.client()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda p: client.put_object(Bucket="records", Key=f"in/{p.name}", Body=p.read_bytes()),
                      paths))  # fmt: skip


def benchmark(workdir: Path, records: int, topics: int, repeat: int) -> None:
    config = write_corpus(workdir, records, topics)
    text = config.read_text(encoding="utf-8")
    with running_s3() as s3:
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
        text = text.replace("records: seeds", "records: s3://records/in/").replace(
            "output: feeds", "output: s3://feeds/out/"
        )
        text += f"s3:\n  endpoint: {s3.url}\n  region: us-east-1\n  addressing_style: path\n"
        config.write_text(text, encoding="utf-8")
        build = [sys.executable, "-m", "topicfeeds", "build", "-c", str(config), "-q", "--now", NOW]
        cases = {n: Figures(n) for n in ("cold build", "rerun, nothing changed", "one record changed")}
        requests: dict[str, Counter[str]] = {}
        for n in range(repeat):
            s3.reset()
            client = s3.client()
            client.create_bucket(Bucket="records")
            client.create_bucket(Bucket="feeds")
            upload(s3, sorted((workdir / RECORDS_DIR).iterdir()))
            for state in workdir.glob(".topicfeeds-state*"):
                state.unlink()
            time.sleep(SETTLE_SECONDS)
            for case in cases:
                if case == "one record changed":
                    upload(s3, edit_records(workdir, 1, seed=100 + n))
                    time.sleep(SETTLE_SECONDS)
                s3.faults.clear()
                measure(build, cases[case], ok=(0, 1))
                requests[case] = Counter(m for m, _ in s3.faults.requests)
    print(f"{records} records, {topics} topics, median of {repeat}:")
    for case, figures in cases.items():
        counts = ", ".join(f"{m} {c}" for m, c in sorted(requests[case].items()))
        print(f"  {case:<24} {statistics.median(figures.seconds):7.3f} s  "
              f"{max(figures.rss_kib) / 1024:6.1f} MiB  requests: {counts}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="topicfeeds-bucket-bench-") as tmp:
        benchmark(Path(tmp), args.records, args.topics, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
