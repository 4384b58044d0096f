"""The output folder as people and programs meet it, with the real things on loopback:
Debian's chromium (headless) and newsboat against `topicfeeds serve`, and nginx with
the shipped server block (deploy/nginx.conf). Under CI=true a missing program fails."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from .conftest import SCREENSHOTS, SEEDS, require_program, without_views

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T00:00:00Z"
SLUGS = ("ai", "computer-vision", "climate", "security", "space", "robotics")
NO_STYLE = "does not appear to have any style information"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
READER = "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Site:
    """The shipped seeds built with feeds served by `topicfeeds serve` at `url`."""

    root: Path
    feeds: Path
    url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on port {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    # Outside pytest's private temporary folder: nginx's workers must read the files.
    root = Path(tempfile.mkdtemp(prefix="topicfeeds-site-"))
    root.chmod(0o755)
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        text = (ROOT / "config.yaml").read_text(encoding="utf-8")
        (root / "config.yaml").write_text(
            text.replace('base_url: "https://news.example.com/feeds/"', f'base_url: "{url}"'),
            encoding="utf-8",
        )
        shutil.copytree(SEEDS, root / "seeds")
        topicfeeds = [sys.executable, "-m", "topicfeeds"]
        subprocess.run([*topicfeeds, "build", "-q", "--now", NOW], cwd=root, check=True, timeout=120)
        server = subprocess.Popen(
            [*topicfeeds, "serve", "--port", str(port)], cwd=root, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_port(port, server, "topicfeeds serve")
            yield Site(root, root / "feeds", url)
        finally:
            stop(server)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- a real browser


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    SCREENSHOTS.append(folder)
    return folder


def chromium(url: str, profile: Path, screenshot: Path | None = None) -> str:
    """The DOM chromium builds for `url` (headless; nothing leaves 127.0.0.1), and its
    screenshot if asked, from the one launch (each launch takes seconds)."""
    program = require_program("chromium")
    args = [
        program,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        # Images of articles live elsewhere: every host but loopback fails at once.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
        "--window-size=412,915",  # a phone
    ]
    args.append("--dump-dom")
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    result = subprocess.run([*args, url], capture_output=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout.decode("utf-8")


def browse(site: Site, name: str, shots: Path, profile: Path) -> str:
    dom = chromium(site.url + name, profile, shots / f"{name or 'index'}.png")
    assert (shots / f"{name or 'index'}.png").stat().st_size > 1000
    return dom


def atom_entries(site: Site, slug: str) -> list[feedparser.FeedParserDict]:
    return list(feedparser.parse((site.feeds / f"{slug}.atom").read_bytes()).entries)


def test_a_browser_finds_every_topic_and_feed_on_the_index(
    site: Site, screenshots: Path, tmp_path: Path
) -> None:
    doc = lxml_html.fromstring(browse(site, "", screenshots, tmp_path))
    assert doc.findtext(".//h1") == "Daily Tech Brief"
    titles = [a.text_content() for a in doc.findall(".//main//h3/a")]
    assert titles == [
        "Artificial intelligence", "Computer vision", "Climate and energy",
        "Security and privacy", "Space", "Robotics",
    ]  # fmt: skip
    alternates = [
        (link.get("type"), link.get("href")) for link in doc.findall(".//head/link[@rel='alternate']")
    ]
    types = ("application/atom+xml", "application/rss+xml", "application/feed+json")
    configured = SLUGS[:-1]  # robotics is made by `auto`: the body lists it, the head does not
    assert alternates == [
        (t, f"{slug}.{ext}")
        for slug in configured
        for t, ext in zip(types, ("atom", "rss", "json"), strict=True)
    ]
    assert doc.find(".//a[@href='topics.opml']") is not None


def test_a_browser_reads_a_topic_page(site: Site, screenshots: Path, tmp_path: Path) -> None:
    doc = lxml_html.fromstring(browse(site, "climate.html", screenshots, tmp_path))
    titles = [a.text_content() for a in doc.findall(".//article/h3/a")]
    assert titles == [e.title for e in atom_entries(site, "climate")] and titles
    assert [link.get("href") for link in doc.findall(".//head/link[@rel='alternate']")] == [
        "climate.atom", "climate.rss", "climate.json",
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["security.atom", "security.rss"])
def test_a_feed_opened_in_a_browser_reads_as_a_page(
    site: Site, screenshots: Path, tmp_path: Path, name: str
) -> None:
    dom = browse(site, name, screenshots, tmp_path)
    # Styled by its CSS: chromium keeps the feed as the document (served as application/xml);
    # unstyled it would build its XML tree viewer, served as a feed type it would show text.
    assert NO_STYLE not in dom and "xsl" not in dom.lower()
    root = etree.fromstring(dom.encode("utf-8"))
    assert etree.QName(root).localname == ("feed" if name.endswith(".atom") else "rss")
    for entry in atom_entries(site, "security"):
        assert entry.title in root.xpath("string()")


# A page of the test's own beside the feeds (the same origin, so its script may look into
# them), on which each feed is opened as a browser opens it and reported as it is shown:
# the text of each entry as a person reads it (a selection's text leaves out what CSS
# hides) and the links they can follow in it.
PROBE = """<!DOCTYPE html>
<meta charset="utf-8">
<title>What a browser shows of each feed</title>
<script>
function report(frame) {
  const view = frame.contentWindow, feed = frame.contentDocument;
  const entries = [...feed.documentElement.querySelectorAll("entry, item")].map(entry => {
    view.getSelection().selectAllChildren(entry);
    const links = [...entry.getElementsByTagNameNS("http://www.w3.org/1999/xhtml", "a")]
      .filter(a => a.getClientRects().length > 0)
      .map(a => ({anchor: a instanceof view.HTMLAnchorElement, href: a.href, text: a.textContent}));
    return {text: view.getSelection().toString(), links: links};
  });
  const out = document.createElement("pre");
  out.dataset.feed = frame.getAttribute("src");
  out.textContent = JSON.stringify(entries);
  document.body.append(out);
}
</script>
<body>
%s
"""


def test_a_feed_in_a_browser_shows_titles_as_links_dates_in_words_and_summaries(
    site: Site, tmp_path: Path
) -> None:
    names = [f"{slug}.{ext}" for slug in ("security", "ai") for ext in ("atom", "rss")]
    frames = "".join(
        f'<iframe src="{n}" onload="report(this)" width="400" height="600"></iframe>' for n in names
    )
    probe = site.feeds / "probe.html"
    probe.write_text(PROBE % frames, encoding="utf-8")
    try:
        doc = lxml_html.fromstring(chromium(site.url + "probe.html", tmp_path))
    finally:
        probe.unlink()
    shown = {pre.get("data-feed"): json.loads(pre.text_content()) for pre in doc.iter("pre")}
    assert sorted(shown) == sorted(names)
    for name in names:
        entries = atom_entries(site, name.split(".")[0])
        assert len(shown[name]) == len(entries) > 1, name
        for entry, seen in zip(entries, shown[name], strict=True):
            assert seen["links"] == [{"anchor": True, "href": entry.link, "text": entry.title}], name
            day = date(*entry.published_parsed[:3])
            text = seen["text"]
            assert f"{day.day} {day:%B %Y}" in text, (name, text)  # e.g. "26 November 2026"
            assert entry.summary in text, (name, text)  # RSS shows Atom's plain summary
            # nothing raw: no machine dates, ids or escaped HTML
            assert not re.search(r"\d{4}-\d\d-\d\d|\+0000|<p>|https?:", text), (name, text)


# -- a real feed reader


def test_newsboat_subscribes_to_every_topic_from_the_opml_file(site: Site, tmp_path: Path) -> None:
    newsboat = require_program("newsboat")
    (tmp_path / "config").write_text("", encoding="utf-8")
    files = ["-C", str(tmp_path / "config"), "-u", str(tmp_path / "urls"), "-c", str(tmp_path / "cache.db")]
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
    }
    run = {"env": env, "capture_output": True, "timeout": 120, "check": True}
    subprocess.run([newsboat, *files, "-i", str(site.feeds / "topics.opml")], **run)  # type: ignore[call-overload]
    urls = (tmp_path / "urls").read_text(encoding="utf-8").split()
    assert urls == [f"{site.url}{slug}.atom" for slug in SLUGS]
    subprocess.run([newsboat, *files, "-x", "reload"], **run)  # type: ignore[call-overload]
    with contextlib.closing(sqlite3.connect(tmp_path / "cache.db")) as cache:
        feeds = dict(cache.execute("SELECT rssurl, title FROM rss_feed").fetchall())
        stored = {guid for (guid,) in cache.execute("SELECT guid FROM rss_item")}
    assert set(feeds) == set(urls) and all(feeds.values())
    # newsboat keeps an article once however many topics carry it: every id, once.
    published = {e.id for slug in SLUGS for e in atom_entries(site, slug)}
    assert stored == published and len(published) > 10


def test_newsboat_reads_the_same_items_from_a_feed_with_views_for_browsers(
    site: Site, tmp_path: Path
) -> None:
    newsboat = require_program("newsboat")
    columns = "guid, title, author, url, pubDate, content, enclosure_url, enclosure_type"

    def items(name: str) -> list[tuple[str, ...]]:
        home = tmp_path / name
        home.mkdir()
        (home / "config").write_text("", encoding="utf-8")
        (home / "urls").write_text(site.url + name + "\n", encoding="utf-8")
        files = ["-C", str(home / "config"), "-u", str(home / "urls"), "-c", str(home / "cache.db")]
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
        subprocess.run(
            [newsboat, *files, "-x", "reload"], env=env, capture_output=True, timeout=60, check=True
        )
        with contextlib.closing(sqlite3.connect(home / "cache.db")) as cache:
            return cache.execute(f"SELECT {columns} FROM rss_item ORDER BY guid").fetchall()

    for name in ("security.atom", "security.rss"):
        plain = site.feeds / f"plain-{name}"  # newsboat keeps an item once: each feed its own cache
        plain.write_bytes(without_views((site.feeds / name).read_bytes()))
        try:
            assert plain.read_bytes() != (site.feeds / name).read_bytes()
            seen = items(name)
            assert seen == items(plain.name) and len(seen) == len(atom_entries(site, "security")), name
        finally:
            plain.unlink()


# -- a real web server


@pytest.fixture(scope="module")
def nginx(site: Site) -> Iterator[str]:
    program = require_program("nginx")
    prefix = Path(tempfile.mkdtemp(prefix="topicfeeds-nginx-"))
    try:
        port = free_port()
        block = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        # Only the lines the file marks as the reader's own change.
        block, listens = re.subn(r"listen 80; .*", f"listen 127.0.0.1:{port};", block)
        block, roots = re.subn(r"root /srv/news/feeds; .*", f"root {site.feeds};", block)
        assert listens == roots == 1
        (prefix / "site.conf").write_text(block, encoding="utf-8")
        temp = prefix / "temp"
        temp.mkdir()
        paths = " ".join(
            f"{kind}_temp_path {temp}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n  access_log {prefix}/access.log;\n  {paths}\n  include {prefix}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        server = subprocess.Popen(
            [program, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, server, "nginx")
            yield f"http://127.0.0.1:{port}/"
        finally:
            stop(server)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def fetch(
    base: str, path: str, method: str = "GET", **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("name", "registered"),
    [
        ("ai.atom", "application/atom+xml"),
        ("ai.rss", "application/rss+xml"),
        ("ai.json", "application/feed+json"),
        ("topics.opml", "text/x-opml"),
        ("ai.html", "text/html"),
        ("feed.css", "text/css"),
    ],
)
def test_nginx_serves_media_types_by_accept(site: Site, nginx: str, name: str, registered: str) -> None:
    status, headers, body = fetch(nginx, f"/{name}", accept=READER)
    assert status == 200 and body == (site.feeds / name).read_bytes()
    assert headers["Content-Type"] == f"{registered}; charset=utf-8"
    assert "max-age=300" in headers["Cache-Control"] and headers["ETag"]
    _, as_page, _ = fetch(nginx, f"/{name}", accept=BROWSER)
    styled = name.endswith((".atom", ".rss"))
    assert as_page["Content-Type"] == (
        "application/xml; charset=utf-8" if styled else headers["Content-Type"]
    )
    if styled:
        assert "Accept" in ", ".join(headers.get_all("Vary") or [])


def test_nginx_answers_304_and_compresses_feeds(site: Site, nginx: str) -> None:
    for name in ("ai.atom", "ai.rss", "ai.json"):
        status, headers, body = fetch(nginx, f"/{name}", accept=READER, accept_encoding="gzip")
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == (site.feeds / name).read_bytes()
        again, _, empty = fetch(
            nginx, f"/{name}", accept=READER, accept_encoding="gzip", if_none_match=headers["ETag"]
        )
        assert (again, empty) == (304, b"")
    _, plain, _ = fetch(nginx, "/ai.atom", accept=READER)
    assert fetch(nginx, "/ai.atom", if_none_match=plain["ETag"])[0] == 304
    assert fetch(nginx, "/", "HEAD")[0] == 200


def test_nginx_denies_dot_files_and_its_internal_path(site: Site, nginx: str) -> None:
    (site.feeds / ".topicfeeds-ai.atom.x.tmp").write_text("partial", encoding="utf-8")
    try:
        assert fetch(nginx, "/.topicfeeds-ai.atom.x.tmp")[0] == 404
        assert fetch(nginx, "/_styled/ai.atom", accept=BROWSER)[0] == 404
    finally:
        (site.feeds / ".topicfeeds-ai.atom.x.tmp").unlink()


def test_nginx_follows_no_link_out_of_the_folder(site: Site, nginx: str) -> None:
    secret = site.root / "outside.txt"
    secret.write_text("outside the folder", encoding="utf-8")
    links = {
        "link.atom": secret,
        "link.rss": secret,
        "link.html": secret,
        "elsewhere": site.root / "seeds",
        "hostname.txt": Path("/etc/hostname"),
    }
    for name, target in links.items():
        (site.feeds / name).symlink_to(target)
    seed = next((site.root / "seeds").iterdir()).name
    try:
        for target in ("/link.atom", "/link.rss", "/link.html", f"/elsewhere/{seed}", "/hostname.txt"):
            for accept in (READER, BROWSER):
                status, _, body = fetch(nginx, target, accept=accept)
                assert status in (403, 404) and b"outside" not in body and b"---" not in body, target
        # The folder's own files are served as before, the styled way included.
        for name in ("ai.atom", "ai.rss", "index.html"):
            for accept in (READER, BROWSER):
                status, _, body = fetch(nginx, f"/{name}", accept=accept)
                assert (status, body) == (200, (site.feeds / name).read_bytes())
    finally:
        for name in links:
            (site.feeds / name).unlink()
        secret.unlink()


def test_nginx_serves_well_known_for_certbot_and_no_other_dot_file(site: Site, nginx: str) -> None:
    challenge = site.feeds / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True)
    (challenge / "t0ken").write_text("t0ken.thumbprint", encoding="utf-8")
    (challenge / ".hidden").write_text("hidden", encoding="utf-8")
    (site.feeds / ".well-knownx").write_text("hidden", encoding="utf-8")
    try:
        status, _, body = fetch(nginx, "/.well-known/acme-challenge/t0ken")
        assert (status, body) == (200, b"t0ken.thumbprint")
        hidden = ("/.well-known/acme-challenge/.hidden", "/.well-knownx", "/.well-known/../.well-knownx")
        for target in hidden:
            assert fetch(nginx, target)[0] == 404, target
    finally:
        shutil.rmtree(site.feeds / ".well-known")
        (site.feeds / ".well-knownx").unlink()


def test_chromium_renders_a_feed_from_nginx(nginx: str, screenshots: Path, tmp_path: Path) -> None:
    dom = chromium(nginx + "space.rss", tmp_path, screenshots / "nginx-space.rss.png")
    assert (screenshots / "nginx-space.rss.png").stat().st_size > 1000
    assert NO_STYLE not in dom
    assert etree.QName(etree.fromstring(dom.encode("utf-8"))).localname == "rss"
