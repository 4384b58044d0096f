"""`topicfeeds subscribers` as a publisher runs it: the table, --json, --html, and the
exit statuses when logs are missing or broken."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from topicfeeds.cli import make_parser
from topicfeeds.subscribers import FORMATS

from .conftest import make_config

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; )"
FEEDBIN = "Feedbin feed-id:{id} - {n} subscribers"
NEWSBOAT = "newsboat/2.36.0 (Linux x86_64)"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
HOSTILE = "<script>alert(1)</script> 3 subscribers"


def line(day: int, hour: int, path: str, agent: str, status: int = 200, address: str = "203.0.113.1") -> str:
    agent = agent.replace('"', "\\x22")
    return (
        f'{address} - - [{day:02d}/Nov/2026:{hour:02d}:00:00 +0000] "GET {path} HTTP/1.1" {status} 512 "-" '
        f'"{agent}"\n'
    )


LOG = "".join(
    [
        line(27, 1, "/feeds/energy.atom", FEEDLY.format(n=40)),
        line(27, 2, "/feeds/energy.atom", FEEDLY.format(n=41), status=304),
        line(27, 2, "/feeds/energy.rss", FEEDBIN.format(id=7, n=9)),
        line(27, 3, "/feeds/energy.atom", NEWSBOAT),
        line(27, 4, "/feeds/energy.atom", CHROME),
        line(28, 1, "/feeds/energy.atom", FEEDLY.format(n=44), status=304),
        line(28, 2, "/feeds/energy.rss", FEEDBIN.format(id=7, n=10), status=304),
        line(28, 3, "/feeds/energy.atom", NEWSBOAT, status=304),
        line(28, 3, "/feeds/energy.atom", NEWSBOAT, address="198.51.100.2"),
        line(28, 5, "/feeds/tesla.json", HOSTILE),
        line(28, 6, "/index.html", CHROME),
    ]
)

TABLE = """\
Subscribers per topic and feed on 2026-11-28, the last day of the logs (2 days, 2026-11-27 to 2026-11-28, UTC)

topic / feed   subscribers  aggregators  hubs  readers   304  change  trend
energy                  56           54     0        2   75%      +5  ▁█
  energy.atom           46           44     0        2   67%
  energy.rss            10           10     0        0  100%
tesla                    3            3     0        0    0%      +3  ▁█
  tesla.json             3            3     0        0    0%
11 requests read, 10 of them fetches of a feed.
"""


def command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "topicfeeds", "subscribers", "-c", str(root / "config.yaml"), *args]


def run(root: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command(root, *args),
        input=stdin,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    make_config(tmp_path)
    (tmp_path / "access.log").write_text(LOG, encoding="utf-8")
    return tmp_path


def test_the_table(site: Path) -> None:
    result = run(site, str(site / "access.log"))
    assert (result.returncode, result.stderr, result.stdout) == (0, "", TABLE)


def test_the_table_day_by_day(site: Path) -> None:
    result = run(site, "--daily", str(site / "access.log"))
    assert result.returncode == 0
    rows = [row.split() for row in result.stdout.splitlines()[2:-1]]
    assert rows[1:3] == [
        ["energy", "2026-11-27", "51", "50", "0", "1", "20%"],
        ["energy", "2026-11-28", "56", "54", "0", "2", "75%"],
    ]
    assert ["tesla.json", "2026-11-27", "0", "0", "0", "0", "-"] in rows


def test_json_for_monitoring(site: Path) -> None:
    result = run(site, "--json", str(site / "access.log"))
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    assert report["days"] == ["2026-11-27", "2026-11-28"]
    assert report["logs"] == {"files": 1, "requests": 11, "fetches": 10, "unreadable_lines": 0}
    energy, tesla = report["topics"]
    assert (energy["topic"], energy["title"], energy["configured"]) == ("energy", "Energy", True)
    assert (energy["subscribers"], energy["change"]) == (56, 5)
    assert energy["days"][1] == {
        "day": "2026-11-28", "subscribers": 56, "aggregators": 54, "hubs": 0, "readers": 2,
        "requests": 4, "not_modified": 3, "not_modified_share": 0.75,
    }  # fmt: skip
    rss = energy["feeds"][1]
    assert (rss["feed"], rss["format"]) == ("energy.rss", "rss")
    assert rss["days"][1]["services"] == [
        {"kind": "aggregator", "name": "Feedbin", "subscribers": 10, "feed_ids": 1}
    ]
    # An aggregator the table does not know, by the name it gives.
    assert tesla["configured"] is False
    assert tesla["feeds"][0]["days"][1]["services"] == [
        {"kind": "aggregator", "name": "<script>alert", "subscribers": 3, "feed_ids": 0}
    ]


def test_a_page_with_a_chart_per_topic(site: Path) -> None:
    page = site / "report.html"
    result = run(site, "-q", "--html", str(page), str(site / "access.log"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    html = page.read_text(encoding="utf-8")
    assert html.count('<svg class="chart"') == 2
    assert html.count('<rect class="aggregators"') == 3 and html.count('<rect class="readers"') == 2
    # Nothing in it reaches for the network, and what agents say stays text.
    assert "<script" not in html and "&lt;script&gt;alert 3" in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not list(site.glob(".report.html.*"))


def test_standard_input_and_compressed_logs(site: Path) -> None:
    compressed = gzip.compress(LOG.encode())
    assert run(site, stdin=compressed).stdout == TABLE
    assert run(site, "-", stdin=compressed).stdout == TABLE


def test_logs_that_cannot_be_read_are_named_and_the_rest_counted(site: Path) -> None:
    (site / "broken.log.gz").write_bytes(gzip.compress(LOG.encode())[:40])
    result = run(site, str(site / "missing.log"), str(site / "access.log"), str(site / "broken.log.gz"))
    assert result.returncode == 1
    assert result.stdout == TABLE
    assert result.stderr.splitlines() == [
        f"error: {site / 'missing.log'}: cannot read: No such file or directory",
        f"error: {site / 'broken.log.gz'}: cannot read: "
        "Compressed file ended before the end-of-stream marker was reached",
    ]


def test_a_page_that_cannot_be_written(site: Path) -> None:
    result = run(site, "--html", str(site / "no" / "report.html"), str(site / "access.log"))
    assert result.returncode == 4
    assert result.stderr == f"error: {site / 'no' / 'report.html'}: cannot write: No such file or directory\n"


def test_usage_and_configuration_errors(site: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "subscribers", "-c", str(tmp_path / "none.yaml"), "x.log"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "cannot read" in result.stderr
    assert run(site, "--format", "w3c", "x.log").returncode == 2


def test_the_format_choices_are_the_formats() -> None:
    sub = next(a for a in make_parser()._actions if a.dest == "command")
    subscribers = sub.choices["subscribers"]  # type: ignore[index]
    [fmt] = [a for a in subscribers._actions if a.dest == "format"]
    assert fmt.choices is not None and set(fmt.choices) == {"auto", *FORMATS}


def test_progress_on_a_terminal(site: Path) -> None:
    leader, follower = pty.openpty()
    # A new terminal is 0 columns wide, where a progress bar has no room.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            command(site, str(site / "access.log")),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower,
        )  # fmt: skip
        out, _ = process.communicate(timeout=60)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert process.returncode == 0 and out.decode("utf-8").startswith("Subscribers per topic")
    assert b"reading logs (MB):   0%" in shown


def test_no_logs_named_on_a_terminal_is_a_usage_error(site: Path) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(command(site), stdin=follower, capture_output=True, timeout=60, check=False)
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2
    assert done.stderr == b"error: name the access logs to read (- reads standard input)\n"
