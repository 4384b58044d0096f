"""WebSub: feeds name their hubs, and hubs are told of exactly the feeds that changed.

The hub is a real HTTP server on 127.0.0.1, started by the test, that behaves like one:
it records each publish request, answers, then fetches every feed it was told about
from `topicfeeds serve` (the feeds' URLs point there) and keeps what it got."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from topicfeeds.config import Hub, parse_config
from topicfeeds.errors import ConfigError
from topicfeeds.notify.websub import changed_feeds, publish_body, retry_after
from topicfeeds.store import History, StateStore

from .backends import Backend, sqlite_only
from .conftest import BASE_CONFIG, make_config, record_fields, record_text
from .test_processes import linux_proc  # noqa: F401 - a fixture


@dataclass
class Publish:
    """One publish request as the hub received it."""

    at: float
    form: dict[str, list[str]]


@dataclass
class FakeHub:
    """What the hub saw and fetched, and how it answers."""

    requests: list[Publish] = field(default_factory=list)
    fetched: dict[str, tuple[bytes, list[str]]] = field(default_factory=dict)  # url: (body, Link headers)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # next answers; then 204
    delay: float = 0.0
    delays: list[float] = field(default_factory=list)  # the first requests' delays; then `delay`
    arrived: int = 0  # requests received, answered or not
    lock: threading.Lock = field(default_factory=threading.Lock)

    def urls(self, since: int = 0) -> list[str]:
        named = (r.form.get("hub.url", r.form.get("hub.topic", [])) for r in self.requests[since:])
        return sorted(u for urls in named for u in urls)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_hub(hub: FakeHub, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("ascii"))
            with hub.lock:
                hub.arrived += 1
                delay = hub.delays.pop(0) if hub.delays else hub.delay
            time.sleep(delay)
            with hub.lock:
                hub.requests.append(Publish(time.monotonic(), form))
                status, headers = hub.answers.pop(0) if hub.answers else (204, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            if status < 300:
                for url in form.get("hub.url", form.get("hub.topic", [])):
                    try:
                        with urllib.request.urlopen(url, timeout=10) as response:
                            links = response.headers.get_all("Link") or []
                            hub.fetched[url] = (response.read(), links)
                    except OSError:  # the preview server is gone: the test has ended
                        return

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def story(n: int, title: str, topic: str) -> str:
    return record_text(
        record_fields(title=title, webUrl=f"https://news.example/{n}", originalUrl=..., topics=[topic])
    )


@dataclass
class Site:
    root: Path
    serve_port: int
    hub_port: int
    state: str = ""  # what config.yaml says of the state (nothing: SQLite's file beside it)

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}/hub"

    def feed(self, name: str) -> str:
        return f"http://127.0.0.1:{self.serve_port}/{name}"

    def build(self) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "topicfeeds", "build", "--json", "-c", str(self.root / "config.yaml")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        out: dict[str, Any] = json.loads(result.stdout)
        out["stderr"] = result.stderr
        return out


def configure(root: Path, serve_port: int, hubs: str, state: str = "") -> None:
    text = BASE_CONFIG.replace(
        "  base_url: https://news.example/feeds/",
        f"  base_url: http://127.0.0.1:{serve_port}/\n  hubs: {hubs}",
    ).replace(
        "    match: [Energy]\n",
        "    match: [Energy]\n  space:\n    title: Space\n    description: Up there.\n    match: [Space]\n",
    )
    make_config(root, text + state)


@pytest.fixture
def site(tmp_path: Path, backend: Backend) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    serve_port, hub_port = free_port(), free_port()
    configure(root, serve_port, f"[http://127.0.0.1:{hub_port}/hub]", backend.lines)
    (root / "seeds" / "1.txt").write_text(story(1, "Batteries", "Energy"), encoding="utf-8")
    (root / "seeds" / "2.txt").write_text(story(2, "Rockets", "Space"), encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "topicfeeds", "serve", "-c", str(root / "config.yaml"),
         "--port", str(serve_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert server.stderr is not None
    server.stderr.readline()  # "previewing ... at": it listens
    try:
        yield Site(root, serve_port, hub_port, backend.lines)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


ALL = sorted(f"{t}.{s}" for t in ("energy", "space") for s in ("atom", "rss", "json"))


@sqlite_only
def test_an_edit_pings_exactly_the_changed_feeds_and_the_hub_fetches_them(site: Site) -> None:
    hub = FakeHub()
    server = start_hub(hub, site.hub_port)
    try:
        first = site.build()
        assert first["status"] == 0 and first["pings"] == {"sent": 6, "waiting": 0}
        assert hub.urls() == [site.feed(n) for n in ALL]
        assert all(r.form["hub.mode"] == ["publish"] for r in hub.requests)

        seen = len(hub.requests)
        (site.root / "seeds" / "1.txt").write_text(story(1, "Batteries, revised", "Energy"), encoding="utf-8")
        second = site.build()
        assert second["pings"] == {"sent": 3, "waiting": 0}
        changed = [site.feed(f"energy.{s}") for s in ("atom", "json", "rss")]
        assert hub.urls(seen) == changed
        wait_for(lambda: all(b"Batteries, revised" in hub.fetched.get(u, (b"", []))[0] for u in changed))
        body, links = hub.fetched[site.feed("energy.atom")]
        assert f'<link href="{site.hub_url}" rel="hub"/>'.encode() in body
        assert f'<{site.hub_url}>; rel="hub"' in links
        assert f'<{site.feed("energy.atom")}>; rel="self"' in links
        rss, _ = hub.fetched[site.feed("energy.rss")]
        assert f'<atom:link href="{site.hub_url}" rel="hub"/>'.encode() in rss
        jsonfeed, _ = hub.fetched[site.feed("energy.json")]
        assert json.loads(jsonfeed)["hubs"] == [{"type": "WebSub", "url": site.hub_url}]

        seen = len(hub.requests)
        assert site.build()["pings"] == {"sent": 0, "waiting": 0}  # nothing changed: nobody told
        assert len(hub.requests) == seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_hub_that_is_down_never_fails_the_build_and_is_told_later(site: Site) -> None:
    down = site.build()  # nothing listens on the hub's port
    assert down["status"] == 0
    assert down["pings"] == {"sent": 0, "waiting": 6}
    assert "feeds wait for the next run" in down["stderr"]
    assert (site.root / "feeds" / "energy.atom").exists()

    hub = FakeHub()
    server = start_hub(hub, site.hub_port)
    try:
        later = site.build()
        assert later["status"] == 0 and later["written"] == []
        assert later["pings"] == {"sent": 6, "waiting": 0}
        assert hub.urls() == [site.feed(n) for n in ALL]
        assert site.build()["pings"] == {"sent": 0, "waiting": 0}
    finally:
        server.shutdown()
        server.server_close()


@sqlite_only
def test_503_with_retry_after_is_honoured(site: Site) -> None:
    # Four seconds: room for the next build to start within them on a loaded machine.
    hub = FakeHub(answers=[(503, {"Retry-After": "4"})])
    server = start_hub(hub, site.hub_port)
    try:
        asked = site.build()
        answered = time.monotonic()  # the hub answered before this
        assert asked["pings"] == {"sent": 0, "waiting": 6}
        assert len(hub.requests) == 1
        again = site.build()  # within the four seconds: the hub is left alone
        assert again["pings"] == {"sent": 0, "waiting": 6}
        assert len(hub.requests) == 1
        time.sleep(max(0.0, answered + 4.1 - time.monotonic()))
        assert site.build()["pings"] == {"sent": 6, "waiting": 0}
        assert hub.urls(1) == [site.feed(n) for n in ALL]
    finally:
        server.shutdown()
        server.server_close()


def test_a_slow_hub_does_not_stall_the_build(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    # The hub sleeps far longer than a build takes on a loaded machine: a build that
    # waited for it could not end within the bound below.
    hub = FakeHub(delay=10.0)
    server = start_hub(hub)
    port = server.server_address[1]
    configure(root, free_port(), f"[{{url: 'http://127.0.0.1:{port}/', timeout: 0.3, per_request: 10}}]")
    (root / "seeds" / "1.txt").write_text(story(1, "Batteries", "Energy"), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "--json", "-c", str(root / "config.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 8.0
    out = json.loads(result.stdout)
    assert out["status"] == 0 and out["pings"] == {"sent": 0, "waiting": 6}
    server.shutdown()
    server.server_close()


def test_a_sleeping_hub_never_holds_the_lock_from_the_next_build(site: Site) -> None:
    """Pings go out after the run has let go of the lock: while a hub sleeps over the
    first run's request, a second `build` (no --wait) takes the lock and finishes."""
    hub = FakeHub(delays=[6.0])
    configure(
        site.root, site.serve_port, f"[{{url: '{site.hub_url}', timeout: 10, per_request: 10}}]", site.state
    )
    server = start_hub(hub, site.hub_port)
    command = [sys.executable, "-m", "topicfeeds", "build", "--json", "-c", str(site.root / "config.yaml")]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: hub.arrived == 1, timeout=30)  # the first run's request: the hub sleeps
        (site.root / "seeds" / "3.txt").write_text(story(3, "More rockets", "Space"), encoding="utf-8")
        second = site.build()
        assert second["status"] == 0, second["stderr"]  # not 3: the lock was free
        assert first.poll() is None  # the first run still waits for the hub
        assert sorted(Path(p).name for p in second["written"]) == [
            "index.html", "space.atom", "space.html", "space.json", "space.rss"
        ]  # fmt: skip
        out, _ = first.communicate(timeout=30)
        assert json.loads(out)["pings"] == {"sent": 6, "waiting": 0}
        # Each run sent what it noted; the second run's space feeds were noted again after
        # the first read them, so the first run's answer never dropped them unsent.
        assert set(hub.urls()) == {site.feed(n) for n in ALL}
        assert site.build()["pings"] == {"sent": 0, "waiting": 0}
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
        server.shutdown()
        server.server_close()


def test_several_feeds_per_request_and_hub_topic_where_configured(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    hub = FakeHub()
    server = start_hub(hub)
    port = server.server_address[1]
    configure(root, free_port(), f"[{{url: 'http://127.0.0.1:{port}/', param: topic, per_request: 4}}]")
    (root / "seeds" / "1.txt").write_text(story(1, "Batteries", "Energy"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-c", str(root / "config.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "hubs told of 6 feeds, 0 waiting" in result.stdout
    assert [len(r.form["hub.topic"]) for r in hub.requests] == [4, 2]
    assert all("hub.url" not in r.form for r in hub.requests)
    server.shutdown()
    server.server_close()


@sqlite_only
@pytest.mark.usefixtures("linux_proc")
def test_watch_pings_the_hub_within_two_seconds_of_a_record_landing(site: Site) -> None:
    hub = FakeHub()
    server = start_hub(hub, site.hub_port)
    watch = subprocess.Popen(
        [sys.executable, "-m", "topicfeeds", "watch", "-q", "-c", str(site.root / "config.yaml")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(hub.requests) >= 6, timeout=30)  # the first run tells of every feed
        seen = len(hub.requests)
        seeds = site.root / "seeds"
        (seeds / ".3.tmp").write_text(story(3, "Comet sighted", "Space"), encoding="utf-8")
        landed = time.monotonic()
        (seeds / ".3.tmp").rename(seeds / "3.txt")
        changed = [site.feed(f"space.{s}") for s in ("atom", "json", "rss")]
        wait_for(lambda: hub.urls(seen) == changed, timeout=10)  # a request each (per_request 1)
        atom = next(r for r in hub.requests[seen:] if r.form["hub.url"] == [site.feed("space.atom")])
        assert atom.at - landed < 2.0
        wait_for(lambda: b"Comet sighted" in hub.fetched.get(site.feed("space.atom"), (b"", []))[0])
    finally:
        watch.terminate()
        _, err = watch.communicate(timeout=30)
        server.shutdown()
        server.server_close()
    assert watch.returncode == 0, err


# -- the pure parts


def test_changed_feeds_are_the_feeds_among_the_written_files(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    written = ["energy.atom", "energy.html", "energy.json", "index.html", "topics.opml", "energy.rss"]
    assert changed_feeds(config.site, written) == [
        "https://news.example/feeds/energy.atom",
        "https://news.example/feeds/energy.json",
        "https://news.example/feeds/energy.rss",
    ]


def test_publish_body() -> None:
    assert publish_body(Hub("https://hub.example/"), ["https://a/x.atom", "https://a/y z.rss"]) == (
        b"hub.mode=publish&hub.url=https%3A%2F%2Fa%2Fx.atom&hub.url=https%3A%2F%2Fa%2Fy+z.rss"
    )
    assert publish_body(Hub("https://hub.example/", "topic"), ["https://a/x.atom"]) == (
        b"hub.mode=publish&hub.topic=https%3A%2F%2Fa%2Fx.atom"
    )


def test_retry_after_takes_seconds_or_a_date() -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
    assert retry_after("120", now) == 120.0
    assert retry_after("Sun, 29 Nov 2026 08:00:30 GMT", now) == 30.0
    assert retry_after("Sun, 29 Nov 2026 07:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_hub_config_is_validated(tmp_path: Path) -> None:
    text = BASE_CONFIG.replace(
        "  author: Test Newsroom",
        "  author: Test Newsroom\n  hubs: [ftp://hub.example/, {url: 'https://h.example/', param: hub},"
        " {url: 'https://h.example/', per_request: 0}, {url: 'https://k.example/', extra: 1}]",
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.yaml")
    shown = "\n".join(str(p) for p in caught.value.problems)
    assert "site.hubs.0.url" in shown and "ftp://hub.example/" in shown
    assert "site.hubs.1.param" in shown
    assert "site.hubs.2.per_request" in shown
    assert "site.hubs.3.extra" in shown
    ok = parse_config(
        BASE_CONFIG.replace(
            "  author: Test Newsroom", "  author: Test Newsroom\n  hubs: [https://hub.example/]"
        ),
        tmp_path / "config.yaml",
    )
    assert ok.site.hubs == (Hub("https://hub.example/"),)


def test_a_hub_timeout_past_five_minutes_is_refused(tmp_path: Path) -> None:
    """`timeout: .inf` passed the check, and a socket cannot wait that long: the run
    would have ended with an OverflowError."""
    text = BASE_CONFIG.replace(
        "  author: Test Newsroom",
        "  author: Test Newsroom\n  hubs: [{url: 'https://h.example/', timeout: .inf},"
        " {url: 'https://k.example/', timeout: 300}]",
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.yaml")
    assert [str(p).split(": ", 1)[1] for p in caught.value.problems] == [
        "site.hubs.0.timeout: expected at most 300 seconds, got inf"
    ]


def test_a_state_of_schema_3_gains_the_websub_tables_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store, _ = StateStore.open(path)
    store.set_history("energy", {"https://news.example/1": History("h", 1, None)})
    store.close()
    with sqlite3.connect(path) as db:  # as schema 3 left it
        db.execute("DROP TABLE pings")
        db.execute("DROP TABLE hubs")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    db.close()
    store, notes = StateStore.open(path)
    try:
        assert notes == []
        assert store.history("energy") == {"https://news.example/1": History("h", 1, None)}
        store.add_pings("https://hub.example/", ["https://news.example/feeds/energy.atom"])
        assert store.pings() == {"https://hub.example/": ["https://news.example/feeds/energy.atom"]}
    finally:
        store.close()


def test_a_ping_noted_again_while_it_was_sent_is_kept(tmp_path: Path, backend: Backend) -> None:
    """Pings go out outside the lock: a run may note a feed again while an earlier run
    is telling the hub of it; that earlier answer must not forget the new noting."""
    store = backend.store(tmp_path)
    hub, feed = "https://hub.example/", "https://news.example/feeds/energy.atom"
    try:
        store.add_pings(hub, [feed])
        read = store.noted_pings()[hub]  # the earlier run reads, then sends
        store.add_pings(hub, [feed])  # meanwhile, a later run changed the feed again
        store.drop_pings(hub, [feed], read)  # the earlier run's answer
        assert store.pings() == {hub: [feed]}
        store.drop_pings(hub, [feed], store.noted_pings()[hub])
        assert store.pings() == {}
    finally:
        store.close()


# -- hubs that misbehave: each test fails, rather than hangs, on a client that trusts them


@dataclass
class RawHub:
    """A hub that writes its answers byte by byte, as a test needs: `answer(sock, hub)`
    writes one. It keeps each request's first line and body, and counts the bytes of
    answer it got to write."""

    answer: Callable[[socket.socket, RawHub], None]
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    written: int = 0
    done: threading.Event = field(default_factory=threading.Event)  # the test is over: stop writing
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub"

    def write(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        self.written += len(data)


@contextmanager
def raw_hub(answer: Callable[[socket.socket, RawHub], None]) -> Iterator[RawHub]:
    hub = RawHub(answer)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            first = self.rfile.readline().decode("latin-1").strip()
            length = 0
            while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            hub.requests.append((first, self.rfile.read(length)))
            with contextlib.suppress(OSError):  # the client has gone: as it should
                answer(self.connection, hub)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hub.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield hub
    finally:
        hub.done.set()
        server.shutdown()
        server.server_close()


def answering(status: str, *headers: str) -> Callable[[socket.socket, RawHub], None]:
    def answer(sock: socket.socket, hub: RawHub) -> None:
        hub.write(
            sock, "".join(f"{h}\r\n" for h in (f"HTTP/1.1 {status}", *headers, "Content-Length: 0")).encode()
        )
        hub.write(sock, b"\r\n")

    return answer


def trickle(sock: socket.socket, hub: RawHub) -> None:
    """A head that never ends: a byte every 0.2 s, well within any socket timeout."""
    hub.write(sock, b"HTTP/1.1 200 OK\r\nX-Wait: ")
    while not hub.done.wait(0.2):
        hub.write(sock, b".")


FLOOD = 64 << 20


def flood(sock: socket.socket, hub: RawHub) -> None:
    """An answer whose body goes on (64 MB here, for ever from a hostile hub)."""
    hub.write(sock, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    chunk = b"x" * (1 << 16)
    while hub.written < FLOOD and not hub.done.is_set():
        hub.write(sock, chunk)


def hub_site(tmp_path: Path, hub: str) -> Path:
    """A site whose single hub is `hub` (a YAML flow item); its feeds are "served" on a
    port nobody listens on."""
    root = tmp_path / "site"
    root.mkdir(exist_ok=True)
    configure(root, free_port(), f"[{hub}]")
    (root / "seeds" / "1.txt").write_text(story(1, "Batteries", "Energy"), encoding="utf-8")
    (root / "seeds" / "2.txt").write_text(story(2, "Rockets", "Space"), encoding="utf-8")
    return root


def run_build(root: Path, timeout: float = 60) -> tuple[dict[str, Any], str, float]:
    """`build --json` as a subprocess: its summary, its standard error and how long it took.
    `timeout` turns a run that would hang into a failure."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "--json", "-c", str(root / "config.yaml")],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout), result.stderr, time.monotonic() - started


def test_a_redirect_is_a_failed_delivery_never_followed(tmp_path: Path) -> None:
    """urllib followed a 301/302/303 as a GET without the body, to any host, and the run
    counted the pings as sent. A redirect is reported, and the pings wait for the next run."""
    statuses = ["301 Moved Permanently", "302 Found", "303 See Other"]
    with contextlib.ExitStack() as stack:
        elsewhere = stack.enter_context(raw_hub(answering("204 No Content")))
        target = f"http://127.0.0.1:{elsewhere.port}/elsewhere?key=abc"
        hubs = [stack.enter_context(raw_hub(answering(s, f"Location: {target}"))) for s in statuses]
        root = hub_site(tmp_path, ", ".join(f"{{url: '{hub.url}', per_request: 10}}" for hub in hubs))
        for run in (1, 2):
            out, err, _ = run_build(root)
            assert out["status"] == 0
            assert out["pings"] == {"sent": 0, "waiting": 18}  # queued, and tried again by the next run
            shown = f"http://127.0.0.1:{elsewhere.port}/elsewhere?key=***"
            for hub, status in zip(hubs, statuses, strict=True):
                assert f"{hub.url}: hub answered {status[:3]} (redirect to {shown}); not followed" in err
                assert len(hub.requests) == run and hub.requests[-1][0].startswith("POST /hub ")
        assert elsewhere.requests == []


def test_a_trickling_hub_is_cut_off_at_its_timeout(tmp_path: Path) -> None:
    """A byte every 0.2 s meets no socket timeout: a run used to wait for ever. Now the
    request is over at the hub's timeout, all told, and the pings wait."""
    with raw_hub(trickle) as hub:
        root = hub_site(tmp_path, f"{{url: '{hub.url}', timeout: 0.5}}")
        out, err, took = run_build(root, timeout=20)
        assert out["status"] == 0 and out["pings"] == {"sent": 0, "waiting": 6}
        assert f"{hub.url}: no answer within 0.5 s; 6 feeds wait for the next run" in err
        assert took < 15  # a run of about a second, the request's half second in it
        assert len(hub.requests) == 1


def test_a_slow_hub_gets_three_times_its_timeout_per_run_and_the_rest_waits(tmp_path: Path) -> None:
    """Each answer in 0.3 s, within the timeout of 0.5 s: a run used to wait for every
    one of them (39 feeds, a minute). Requests to the hub start only while a whole
    timeout fits in 1.5 s; the rest waits for the next run."""
    hub = FakeHub(delay=0.3)
    server = start_hub(hub)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        root = hub_site(tmp_path, f"{{url: '{url}', timeout: 0.5}}")
        out, err, _ = run_build(root)
        sent, waiting = out["pings"]["sent"], out["pings"]["waiting"]
        assert out["status"] == 0 and 1 <= sent <= 4 and sent + waiting == 6
        assert f"; {waiting} feeds wait for the next run" in err
        later, _, _ = run_build(root)  # the rest, within the next run's budget
        assert later["pings"] == {"sent": waiting, "waiting": 0}
        assert len(set(hub.urls())) == 6  # none lost
    finally:
        server.shutdown()
        server.server_close()


def test_only_the_head_of_an_endless_answer_is_read(tmp_path: Path) -> None:
    """The whole answer used to be read into memory (a hub's endless body took a run
    to 23.5 GB); a 2xx is all a publisher needs of it."""
    with raw_hub(flood) as hub:
        root = hub_site(tmp_path, f"{{url: '{hub.url}', per_request: 10}}")
        out, _, _ = run_build(root)
        assert out["status"] == 0 and out["pings"] == {"sent": 6, "waiting": 0}
        time.sleep(0.2)  # the hub finds the connection gone
        assert hub.written < FLOOD // 4  # what the sockets' buffers took, not the answer


@sqlite_only
def test_an_absurd_retry_after_is_held_to_a_day(site: Site) -> None:
    """A Retry-After of 10^20 seconds ended the run with an OverflowError traceback and
    status 1, after the feeds were published."""
    hub = FakeHub(answers=[(503, {"Retry-After": "99999999999999999999"})])
    server = start_hub(hub, site.hub_port)
    try:
        before = time.time()
        out, err, _ = run_build(site.root)
        assert out["status"] == 0 and out["pings"] == {"sent": 0, "waiting": 6}, err
        db = sqlite3.connect(site.root / ".topicfeeds-state.sqlite")
        try:
            (until,) = db.execute("SELECT not_before FROM hubs").fetchone()
        finally:
            db.close()
        assert before + 86400 - 5 <= until / 1e6 <= time.time() + 86400
    finally:
        server.shutdown()
        server.server_close()


def test_a_hubs_token_and_password_are_never_printed(tmp_path: Path) -> None:
    """A token in the hub URL's query was in every warning; a password in a refused one
    was quoted by the config check. Both are shown as ***; the request has the token."""
    with raw_hub(answering("500 Internal Server Error")) as hub:
        root = hub_site(tmp_path, f"'{hub.url}?token=s3cret-t0ken&v=2'")
        out, err, _ = run_build(root)
        assert out["pings"] == {"sent": 0, "waiting": 6}
        assert f"{hub.url}?token=***&v=***: HTTP 500; 6 feeds wait" in err
        assert any(f"{hub.url}?token=***&v=***: HTTP 500" in w for w in out["warnings"])  # --json too
        assert "s3cret-t0ken" not in err + json.dumps(out)
        assert hub.requests[0][0] == "POST /hub?token=s3cret-t0ken&v=2 HTTP/1.1"

    hubs = (
        "['https://publisher:hunter2@hub.example/', 'https://hub.example/?k=1', 'https://hub.example/?k=1']"
    )
    (root / "config.yaml").write_text(
        BASE_CONFIG.replace("  author: Test Newsroom", f"  author: Test Newsroom\n  hubs: {hubs}"),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-c", str(root / "config.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        "site.hubs.0.url: 'https://publisher:***@hub.example/' is not an absolute http(s) URL"
        in result.stderr
    )
    assert "site.hubs.2: https://hub.example/?k=*** is listed twice" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.usefixtures("linux_proc")
def test_a_watch_publishes_the_next_record_while_a_hub_trickles(tmp_path: Path) -> None:
    """The watch told the hubs inside its run: a hub trickling its answer held it there,
    and the next record was never published. Now a thread of its own tells them."""
    with raw_hub(trickle) as hub:
        root = hub_site(tmp_path, f"{{url: '{hub.url}', timeout: 60}}")
        watch = subprocess.Popen(
            [sys.executable, "-m", "topicfeeds", "watch", "-q", "-c", str(root / "config.yaml")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for(lambda: len(hub.requests) == 1, timeout=30)  # the first run's ping: it trickles
            seeds = root / "seeds"
            (seeds / ".3.tmp").write_text(story(3, "Comet sighted", "Space"), encoding="utf-8")
            (seeds / ".3.tmp").rename(seeds / "3.txt")
            atom = root / "feeds" / "space.atom"
            wait_for(lambda: b"Comet sighted" in atom.read_bytes(), timeout=10)
        finally:
            watch.terminate()
            _, err = watch.communicate(timeout=30)
        assert watch.returncode == 0, err
        assert len(hub.requests) == 1  # the round under way has its minute: no second one started


# -- the pure parts of a hub's answer


def test_retry_after_is_held_to_a_day_and_garbage_is_no_answer() -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
    assert retry_after("99999999999999999999", now) == 86400.0
    assert retry_after("86401", now) == 86400.0
    assert retry_after(" 7 ", now) == 7.0
    assert retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == 86400.0
    for garbage in ("-5", "1e9", "²", "٣", "nan", "inf", "", "Mon, 99 Foo 2026 99:99:99 GMT", "0x10"):
        assert retry_after(garbage, now) is None, garbage


def test_redact_url_hides_query_values_and_a_password() -> None:
    from topicfeeds.records.clean import redact_url

    assert redact_url("https://hub.example/p?token=abc&x=1#f") == "https://hub.example/p?token=***&x=***#f"
    assert redact_url("https://hub.example/p?abc") == "https://hub.example/p?***"
    assert redact_url("https://me:pw@hub.example/") == "https://me:***@hub.example/"
    assert redact_url("https://me:p@ss@hub.example/") == "https://me:***@hub.example/"
    assert redact_url("https://me@hub.example:8443/") == "https://me@hub.example:8443/"
    assert redact_url("ftp://me:pw@[::1/?k=v") == "ftp://me:***@[::1/?k=***"  # not a URL, shown redacted
    assert redact_url("https://hub.example/") == "https://hub.example/"
