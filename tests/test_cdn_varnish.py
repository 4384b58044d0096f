"""The HTTP purger against the real thing: Debian's Varnish with the shipped
deploy/varnish.vcl (five minutes' TTL) in front of nginx with deploy/nginx.conf, and a
WebSub hub on loopback that, told of a change, fetches the feed through Varnish at once
and records the bytes it got. Under CI=true a missing program fails."""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from topicfeeds.config import Hub
from topicfeeds.destinations.atomic import publish
from topicfeeds.notify import websub
from topicfeeds.notify.cdn import CdnSettings, HttpOptions, open_purger

from .cdnpeers import get, running_nginx, running_varnish

pytestmark = pytest.mark.slow

READER = "application/atom+xml, application/rss+xml;q=0.9, */*;q=0.1"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class Edge:
    """Varnish on `port` in front of nginx serving `folder`."""

    folder: Path
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def publish(self, name: str, data: bytes) -> None:
        """Put a file in place as a run does, with the run's own writer."""
        publish(self.folder / name, data)


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    # Outside pytest's private temporary folder: nginx's workers must read the files.
    folder = Path(tempfile.mkdtemp(prefix="topicfeeds-cdn-site-"))
    folder.chmod(0o755)
    try:
        with running_nginx(folder) as origin, running_varnish(origin) as port:
            yield Edge(folder, port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def feed(version: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>AI</title><id>urn:x</id><updated>2026-11-28T00:00:00Z</updated><subtitle>{version}</subtitle></feed>"
    ).encode()


@contextlib.contextmanager
def running_hub() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """A WebSub hub on loopback: for each publish request, it fetches every topic named
    at once, through whatever serves it, and records the bytes; then it answers 202."""
    got: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("ascii"))
            for topic in form.get("hub.url", []):
                parts = urllib.parse.urlsplit(topic)
                connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
                connection.request("GET", parts.path, headers={"Accept": READER})
                got.append((topic, connection.getresponse().read()))
                connection.close()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", got
    finally:
        server.shutdown()
        server.server_close()


def purger(endpoint: str | None = None) -> Any:
    return open_purger(CdnSettings("http", HttpOptions(endpoint=endpoint), 10.0), environ={})


def test_varnish_keeps_the_old_copy_until_it_is_purged(edge: Edge) -> None:
    edge.publish("kept.atom", feed("v1"))
    assert get(edge.port, "/kept.atom") == (200, feed("v1"))
    edge.publish("kept.atom", feed("v2"))
    assert get(edge.port, "/kept.atom") == (200, feed("v1"))  # the TTL holds it
    result = purger().purge(
        [f"{edge.base}kept.atom", f"{edge.base}never-fetched.atom"], time.monotonic() + 10
    )
    assert result.complete and result.in_time
    assert set(result.purged) == {f"{edge.base}kept.atom", f"{edge.base}never-fetched.atom"}
    assert get(edge.port, "/kept.atom") == (200, feed("v2"))


def test_a_pinged_hub_gets_the_old_bytes_when_nothing_is_purged(edge: Edge) -> None:
    url = f"{edge.base}stale.atom"
    edge.publish("stale.atom", feed("v1"))
    assert get(edge.port, "/stale.atom")[1] == feed("v1")  # a reader's poll fills the cache
    with running_hub() as (hub, got):
        edge.publish("stale.atom", feed("v2"))
        assert websub.ping(Hub(hub), [url]).outcome == "sent"
    # The push WebSub promises does not happen: the hub saw nothing new.
    assert got == [(url, feed("v1"))]


def test_a_pinged_hub_gets_the_new_bytes_every_time_the_purge_came_first(edge: Edge) -> None:
    url = f"{edge.base}fresh.atom"
    edge.publish("fresh.atom", feed("v0"))
    assert get(edge.port, "/fresh.atom")[1] == feed("v0")
    with running_hub() as (hub, got):
        for n in range(1, 4):
            edge.publish("fresh.atom", feed(f"v{n}"))
            assert get(edge.port, "/fresh.atom")[1] == feed(f"v{n - 1}")  # still cached
            assert purger().purge([url], time.monotonic() + 10).complete
            assert websub.ping(Hub(hub), [url]).outcome == "sent"
    assert got == [(url, feed(f"v{n}")) for n in range(1, 4)]


def test_purging_through_the_endpoint_names_the_public_host(edge: Edge) -> None:
    # The feeds' URLs name the public host; PURGE goes to Varnish with that Host.
    url = "https://news.example.com/feeds/ai.atom"
    (edge.folder / "feeds").mkdir(exist_ok=True)
    (edge.folder / "feeds").chmod(0o755)
    edge.publish("feeds/ai.atom", feed("v1"))
    assert get(edge.port, "/feeds/ai.atom", host="news.example.com")[1] == feed("v1")
    edge.publish("feeds/ai.atom", feed("v2"))
    assert purger(endpoint=edge.base).purge([url], time.monotonic() + 10).complete
    assert get(edge.port, "/feeds/ai.atom", host="news.example.com")[1] == feed("v2")


def test_a_feed_changed_within_the_second_at_the_same_length_is_not_answered_304(edge: Edge) -> None:
    """nginx's validators count whole seconds (its ETag is the time and the size): a
    feed rewritten at once with as many bytes must still look changed, both to Varnish
    revalidating its copy after a purge and to a reader asking with the old
    validators."""
    url = f"{edge.base}quick.atom"
    edge.publish("quick.atom", feed("v1"))
    connection = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=10)
    connection.request("GET", "/quick.atom", headers={"Accept": READER})
    first = connection.getresponse()
    assert first.read() == feed("v1")
    validators = {
        "If-None-Match": first.getheader("ETag") or "",
        "If-Modified-Since": first.getheader("Last-Modified") or "",
    }
    for n in range(2, 6):  # each within the second of the last, each the same length
        edge.publish("quick.atom", feed(f"v{n}"))
        assert purger().purge([url], time.monotonic() + 10).complete
        assert get(edge.port, "/quick.atom")[1] == feed(f"v{n}")
    connection.request("GET", "/quick.atom", headers={"Accept": READER, **validators})
    again = connection.getresponse()
    assert (again.status, again.read()) == (200, feed("v5"))
    connection.close()


def test_a_purge_drops_the_styled_view_a_browser_got_too(edge: Edge) -> None:
    edge.publish("both.atom", feed("v1"))
    for accept in (READER, BROWSER, "application/atom+xml"):
        assert get(edge.port, "/both.atom", accept=accept)[1] == feed("v1")
    edge.publish("both.atom", feed("v2"))
    assert purger().purge([f"{edge.base}both.atom"], time.monotonic() + 10).complete
    for accept in (READER, BROWSER, "application/atom+xml"):
        assert get(edge.port, "/both.atom", accept=accept)[1] == feed("v2")


def test_the_shipped_vcl_refuses_a_purge_from_another_address(edge: Edge) -> None:
    edge.publish("guarded.atom", feed("v1"))
    assert get(edge.port, "/guarded.atom")[1] == feed("v1")
    edge.publish("guarded.atom", feed("v2"))
    # 127.0.0.2 is this machine too, but not in the VCL's acl.
    with socket.create_connection(("127.0.0.1", edge.port), timeout=10, source_address=("127.0.0.2", 0)) as s:
        s.sendall(b"PURGE /guarded.atom HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 405 ")
    assert get(edge.port, "/guarded.atom")[1] == feed("v1")
