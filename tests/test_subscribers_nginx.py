"""Subscribers counted from the access log a real nginx wrote: the output built and
served with the shipped server block, fetches replayed through it with the agents of
aggregators, hubs, feed readers, browsers and bots (some conditional), and the page
the command writes opened in Chromium. Under CI=true a missing program fails."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import html as lxml_html

from topicfeeds import build, load_config

from .conftest import BASE_CONFIG, make_config, require_program, write_record
from .test_publication import free_port, stop, wait_for_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
READER = "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
NEWSBLUR = (
    "NewsBlur Feed Fetcher - {n} subscribers - http://www.newsblur.com/site/6104540/energy "
    "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36)"
)


@dataclass(frozen=True)
class Server:
    url: str
    root: Path  # config.yaml, seeds/ and the output folder feeds/
    log: Path  # the access log nginx writes


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    program = require_program("nginx")
    # Outside pytest's private temporary folder: nginx's workers must read the files.
    root = Path(tempfile.mkdtemp(prefix="topicfeeds-subscribers-"))
    root.chmod(0o755)
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        text = BASE_CONFIG.replace("https://news.example/feeds/", url) + "auto: true\n"
        make_config(root, text)
        write_record(root / "seeds", "a.txt", topics=["Energy", "Space"])
        build(load_config(root / "config.yaml"), NOW)
        block = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        block = re.sub(r"listen 80; .*", f"listen 127.0.0.1:{port};", block)
        block = re.sub(r"root /srv/news/feeds; .*", f"root {root / 'feeds'};", block)
        prefix = root / "nginx"
        (prefix / "temp").mkdir(parents=True)
        (prefix / "site.conf").write_text(block, encoding="utf-8")
        paths = " ".join(
            f"{kind}_temp_path {prefix}/temp/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        log = root / "access.log"
        (prefix / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n  access_log {log} combined;\n  {paths}\n  include {prefix}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        process = subprocess.Popen(
            [program, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, process, "nginx")
            yield Server(url, root, log)
        finally:
            stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fetch(
    server: Server, path: str, agent: str, address: str = "127.0.0.1", **headers: str
) -> tuple[int, str]:
    """GET `path` from `address` (any 127.x address is this machine) as `agent`."""
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(address, 0))
    try:
        sent = {"User-Agent": agent, **{k.replace("_", "-"): v for k, v in headers.items()}}
        connection.request("GET", path, headers=sent)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("ETag") or ""
    finally:
        connection.close()


def replay(server: Server) -> None:
    """A day of fetches: every aggregator polls more than once with a count that moves."""
    feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; )"
    for n in (460, 462):  # the latest, 462, counts, once
        assert fetch(server, "/energy.atom", feedly.format(n=n), accept=READER)[0] == 200
    for feed_id, n in (("1697787", 100), ("1697787", 102), ("55", 3)):
        fetch(server, "/energy.atom", f"Feedbin feed-id:{feed_id} - {n} subscribers")
    fetch(server, "/energy.rss?utm_source=newsblur", NEWSBLUR.format(n=27))
    fetch(server, "/energy.rss", "Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)")
    fetch(server, "/energy.json", "Mozilla/5.0 (compatible; theoldreader.com; 1 subscribers; feed-id=9f2c)")
    hub = (
        "Superfeedr bot/2.0 http://superfeedr.com - Make your feeds realtime - feed-id:462 - {n} subscribers"
    )
    fetch(server, "/energy.atom", hub.format(n=5))
    fetch(server, "/space.atom", feedly.format(n=7))  # an automatic topic
    # Direct readers: each polls again with the ETag it got (answered 304).
    readers = [
        ("127.0.0.2", "newsboat/2.36.0 (Linux x86_64)"),
        ("127.0.0.3", "newsboat/2.36.0 (Linux x86_64)"),
        ("127.0.0.2", "NetNewsWire (RSS Reader; https://netnewswire.com/)"),
        ("127.0.0.4", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"),
    ]
    etag = ""
    for address, agent in readers:
        status, etag = fetch(server, "/energy.atom", agent, address, accept=READER)
        assert status == 200 and etag
        assert fetch(server, "/energy.atom", agent, address, accept=READER, if_none_match=etag)[0] == 304
    fetch(server, "/space.json", "newsboat/2.36.0 (Linux x86_64)", "127.0.0.2")
    # Browsers and bots are left out of the readers, though their fetches count.
    assert fetch(server, "/energy.atom", CHROME, "127.0.0.5", accept=BROWSER)[0] == 200
    fetch(server, "/energy.atom", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert fetch(server, "/energy.atom", "curl/8.5.0", accept=READER, if_none_match=etag)[0] == 304
    # Not fetches of a feed: a page, a feed that is not there, the index.
    fetch(server, "/energy.html", CHROME, accept=BROWSER)
    assert fetch(server, "/gone.atom", "newsboat/2.36.0 (Linux x86_64)")[0] == 404
    fetch(server, "/", CHROME, accept=BROWSER)


@pytest.fixture(scope="module")
def logged(server: Server) -> Path:
    """The log of one replay, all on one day (UTC): replayed again should midnight pass."""
    for _ in range(2):
        server.log.write_bytes(b"")  # nginx appends: it writes on from the start
        before = datetime.now(timezone.utc).date()
        replay(server)
        if datetime.now(timezone.utc).date() == before:
            return server.log
    raise AssertionError("the replay kept crossing midnight")


def subscribers(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "topicfeeds", "subscribers", "-c", str(server.root / "config.yaml"), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_counts_from_the_log_nginx_wrote(server: Server, logged: Path) -> None:
    assert len(logged.read_text(encoding="utf-8").splitlines()) == 25
    result = subscribers(server, "--json", str(logged))
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    assert report["logs"] == {"files": 1, "requests": 25, "fetches": 22, "unreadable_lines": 0}
    [today] = report["days"]
    energy, space = report["topics"]
    assert energy["days"] == [
        {
            "day": today,
            # Feedly 462, Feedbin 102 + 3, NewsBlur 27, Inoreader 114, The Old Reader 1
            "aggregators": 709,
            "hubs": 5,  # Superfeedr
            "readers": 4,  # newsboat twice (two addresses), NetNewsWire, Thunderbird
            "subscribers": 718,
            "requests": 20,
            "not_modified": 5,  # the readers' second fetches, and curl's
            "not_modified_share": 0.25,
        }
    ]
    atom, rss, json_feed = (
        {s["name"]: s["subscribers"] for s in f["days"][0]["services"]} for f in energy["feeds"]
    )
    assert atom == {"Feedly": 462, "Feedbin": 105, "Superfeedr": 5}
    assert rss == {"Inoreader": 114, "NewsBlur": 27}
    assert json_feed == {"The Old Reader": 1}
    assert [f["days"][0]["readers"] for f in energy["feeds"]] == [4, 0, 0]
    assert (space["topic"], space["configured"], space["subscribers"]) == ("space", False, 8)


def test_the_table_from_the_log_nginx_wrote(server: Server, logged: Path) -> None:
    result = subscribers(server, str(logged))
    assert result.returncode == 0
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert rows[:6] == [
        ["topic", "/", "feed", "subscribers", "aggregators", "hubs", "readers", "304", "change", "trend"],
        ["energy", "718", "709", "5", "4", "25%", "+0"],
        ["energy.atom", "576", "567", "5", "4", "29%"],
        ["energy.rss", "141", "141", "0", "0", "0%"],
        ["energy.json", "1", "1", "0", "0", "0%"],
        ["space", "8", "7", "0", "1", "0%", "+0"],
    ]


def png_colours(png: bytes) -> set[bytes]:
    """The colours in an 8-bit RGB or RGBA PNG image, decoded here (no imaging library)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks, header = 8, [], b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        name, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if name == b"IHDR":
            header = data
        elif name == b"IDAT":
            chunks.append(data)
        at += 12 + length
    width, height, depth, kind, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, kind, interlace) in ((8, 2, 0), (8, 6, 0)), "only 8-bit RGB(A), not interlaced"
    size = 3 if kind == 2 else 4
    stride = width * size
    raw = zlib.decompress(b"".join(chunks))
    above = bytearray(stride)
    seen: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind_of_filter, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride) if kind_of_filter else ():
            left = row[i - size] if i >= size else 0
            up, corner = above[i], (above[i - size] if i >= size else 0)
            if kind_of_filter == 1:
                row[i] = (row[i] + left) & 255
            elif kind_of_filter == 2:
                row[i] = (row[i] + up) & 255
            elif kind_of_filter == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            else:
                guess = left + up - corner
                near = min(
                    (abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner)
                )
                row[i] = (row[i] + near[2]) & 255
        seen.update(bytes(row[i : i + 3]) for i in range(0, stride, size))
        above = row
    return seen


def test_the_page_in_chromium(server: Server, logged: Path, tmp_path: Path) -> None:
    chromium = require_program("chromium")
    page = tmp_path / "subscribers.html"
    assert subscribers(server, "-q", "--html", str(page), str(logged)).returncode == 0
    args = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        # The page needs no network: any host at all fails at once.
        "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1000,1400",
    ]  # fmt: skip
    shot = tmp_path / "subscribers.png"
    # One launch for the DOM and the picture: each launch takes seconds.
    dom = subprocess.run(
        [*args, "--dump-dom", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=90,
        check=True,
    )
    document = lxml_html.fromstring(dom.stdout)
    charts = document.xpath("//section/svg[@class='chart']")
    assert [c.getparent().get("id") for c in charts] == ["topic-energy", "topic-space"]
    energy = charts[0]
    assert [r.get("class") for r in energy.xpath(".//rect")] == ["aggregators", "hubs", "readers"]
    assert "718 subscribers" in energy.xpath("string(.//g/title)")
    colours = png_colours(shot.read_bytes())
    assert len(colours) > 10  # not blank
    # The bars are there, in their colours.
    assert {bytes.fromhex("2b6cb0"), bytes.fromhex("dd6b20"), bytes.fromhex("2f855a")} <= colours
