"""The preview server: media types, negotiation, caching, compression, confinement."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import re
import selectors
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import pytest

from topicfeeds import build, load_config
from topicfeeds.serve import REQUEST_SECONDS, WORKERS, Preview, answer, make_server, origin_of, request_body

from .conftest import require_program, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
READER = "application/atom+xml, application/rss+xml;q=0.9, application/xml;q=0.8, */*;q=0.1"


@pytest.fixture
def built(project: Path) -> Path:
    write_record(project / "seeds", "a.txt")
    config = load_config(project / "config.yaml")
    build(config, NOW)
    return config.output_dir


def get(root: Path, target: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    result = answer(root, method, target, {k.replace("_", "-").lower(): v for k, v in headers.items()})
    return result.status.value, dict(result.headers), result.body


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("energy.atom", "application/atom+xml; charset=utf-8"),
        ("energy.rss", "application/rss+xml; charset=utf-8"),
        ("energy.json", "application/feed+json; charset=utf-8"),
        ("energy.html", "text/html; charset=utf-8"),
        ("topics.opml", "text/x-opml; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("feed.css", "text/css; charset=utf-8"),
    ],
)
def test_media_types(built: Path, name: str, media_type: str) -> None:
    status, headers, body = get(built, f"/{name}", accept=READER)
    assert status == 200 and headers["Content-Type"] == media_type
    assert body == (built / name).read_bytes()
    assert headers["Content-Length"] == str(len(body))


@pytest.mark.parametrize("name", ["energy.atom", "energy.rss"])
def test_a_browser_gets_a_feed_as_xml_it_styles_and_readers_the_registered_type(
    built: Path, name: str
) -> None:
    _, as_page, _ = get(built, f"/{name}", accept=BROWSER)
    _, as_feed, _ = get(built, f"/{name}", accept=READER)
    _, no_accept, _ = get(built, f"/{name}")
    assert as_page["Content-Type"] == "application/xml; charset=utf-8"
    assert as_feed["Content-Type"] == no_accept["Content-Type"] != as_page["Content-Type"]
    assert all("Accept" in h["Vary"].split(", ") for h in (as_page, as_feed, no_accept))
    _, refused, _ = get(built, f"/{name}", accept="text/html;q=0, application/atom+xml")
    assert refused["Content-Type"] == as_feed["Content-Type"]


def test_the_root_serves_the_index(built: Path) -> None:
    status, headers, body = get(built, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == (built / "index.html").read_bytes()
    assert get(built, "/?utm_source=x")[2] == body


def test_conditional_requests_get_304(built: Path) -> None:
    _, headers, _ = get(built, "/energy.atom")
    etag, modified = headers["ETag"], headers["Last-Modified"]
    status, again, body = get(built, "/energy.atom", if_none_match=etag)
    assert (status, body) == (304, b"") and again["ETag"] == etag
    assert get(built, "/energy.atom", if_none_match=f'"other", W/{etag}')[0] == 304
    assert get(built, "/energy.atom", if_none_match='"other"')[0] == 200
    assert get(built, "/energy.atom", if_modified_since=modified)[0] == 304
    assert get(built, "/energy.atom", if_modified_since="Sat, 01 Jan 2000 00:00:00 GMT")[0] == 200
    # If-None-Match wins over If-Modified-Since.
    assert get(built, "/energy.atom", if_none_match='"other"', if_modified_since=modified)[0] == 200
    # A changed file gets a new ETag.
    os.utime(built / "energy.atom", ns=(0, 10**18))
    assert get(built, "/energy.atom")[1]["ETag"] != etag


def test_head_gives_the_headers_alone(built: Path) -> None:
    status, headers, body = get(built, "/energy.rss", "HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == str((built / "energy.rss").stat().st_size)


def test_gzip_when_asked(built: Path) -> None:
    _, plain, body = get(built, "/energy.atom")
    status, headers, packed = get(built, "/energy.atom", accept_encoding="br, gzip;q=0.8")
    assert status == 200 and headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(packed) == body and headers["Content-Length"] == str(len(packed))
    assert headers["ETag"] != plain["ETag"] and "Accept-Encoding" in headers["Vary"]
    assert "Content-Encoding" not in get(built, "/energy.atom", accept_encoding="gzip;q=0")[1]


@pytest.mark.parametrize(
    "target",
    [
        "/.topicfeeds-energy.atom.1.tmp",
        "/.hidden/energy.atom",
        "/../config.yaml",
        "/%2e%2e/config.yaml",
        "/..%2fconfig.yaml",
        "/feeds/../../config.yaml",
        "/outside",
        "/sub",
        "/nothing.atom",
        "/energy.atom%00.html",
        "/%ff",
        "energy.atom",
        "/link.atom",
        "/into/energy.atom",
    ],
)
def test_nothing_outside_the_folder_and_no_dot_files(built: Path, target: str) -> None:
    (built / ".topicfeeds-energy.atom.1.tmp").write_text("temporary")
    (built / ".hidden").mkdir()
    (built / ".hidden" / "energy.atom").write_text("hidden")
    (built / "link.atom").symlink_to(".topicfeeds-energy.atom.1.tmp")  # links to dot-files
    (built / "into").symlink_to(".hidden")
    (built / "outside").symlink_to(built.parent / "config.yaml")
    (built / "sub").mkdir()
    status, _, body = get(built, target)
    assert status == 404, target
    assert b"temporary" not in body and b"hidden" not in body and b"site:" not in body


def test_other_methods_are_refused(built: Path) -> None:
    status, headers, _ = get(built, "/energy.atom", "POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"


@pytest.fixture
def server(built: Path) -> Iterator[tuple[str, int]]:
    httpd = make_server(built, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_over_a_socket(server: tuple[str, int], built: Path) -> None:
    connection = http.client.HTTPConnection(*server, timeout=10)
    connection.request("GET", "/energy.atom", headers={"Accept": BROWSER, "Accept-Encoding": "gzip"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/xml; charset=utf-8"
    assert gzip.decompress(response.read()) == (built / "energy.atom").read_bytes()
    etag = response.getheader("ETag")
    # The same connection is kept for the next request (HTTP/1.1).
    connection.request(
        "GET", "/energy.atom", headers={"If-None-Match": etag, "Accept": BROWSER, "Accept-Encoding": "gzip"}
    )
    response = connection.getresponse()
    assert response.status == 304 and response.read() == b""
    connection.request("HEAD", "/")
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b""
    connection.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_command_serves_until_stopped_and_then_exits_0(built: Path, signum: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = built.parent / "config.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "topicfeeds", "serve", "-c", str(config), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith(f"topicfeeds: previewing {built} at http://127.0.0.1:{port}/")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_a_port_in_use_is_a_clean_error(built: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "topicfeeds",
                "serve",
                "-c",
                str(built.parent / "config.yaml"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1 port {port}: ")


def test_serving_a_folder_not_built_yet_is_a_clean_error(project: Path) -> None:
    (project / "feeds").rmdir()
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "serve", "-c", str(project / "config.yaml"), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.endswith("feeds: output folder does not exist; build the feeds first\n")
    assert not (project / "feeds").exists()


# -- the preview's own address in the files


def test_the_preview_names_itself_where_the_files_name_the_production_address(built: Path) -> None:
    production = "https://news.example/feeds/"
    here = Preview(production, "http://127.0.0.1:8123/")
    for name in ("topics.opml", "energy.atom", "energy.rss", "energy.json"):
        assert production.encode() in (built / name).read_bytes(), name
        result = answer(built, "GET", f"/{name}", {}, preview=here)
        headers = dict(result.headers)
        assert result.status == 200 and production.encode() not in result.body, name
        assert result.body == (built / name).read_bytes().replace(production.encode(), here.origin.encode())
        assert headers["Content-Length"] == str(len(result.body))
    # The tag is that of the bytes sent: another address, another tag; and 304 on it.
    tag = dict(answer(built, "GET", "/energy.atom", {}, preview=here).headers)["ETag"]
    other = Preview(production, "http://localhost:8123/")
    assert dict(answer(built, "GET", "/energy.atom", {}, preview=other).headers)["ETag"] != tag
    assert answer(built, "GET", "/energy.atom", {}, preview=Preview(production, production)).headers == (
        answer(built, "GET", "/energy.atom", {}).headers
    )
    assert answer(built, "GET", "/energy.atom", {"if-none-match": tag}, preview=here).status == 304
    packed = answer(built, "GET", "/energy.atom", {"accept-encoding": "gzip"}, preview=here)
    assert gzip.decompress(packed.body) == answer(built, "GET", "/energy.atom", {}, preview=here).body
    # A stylesheet is sent as it is.
    assert answer(built, "GET", "/style.css", {}, preview=here).body == (built / "style.css").read_bytes()


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("LocalHost:8000", "http://localhost:8000/"),
        ("[::1]:8000", "http://[::1]:8000/"),
        ("news.lan", "http://news.lan/"),
        (None, "http://fallback:1/"),
        ("", "http://fallback:1/"),
        ("evil.example/path?", "http://fallback:1/"),
        ('a"><script>', "http://fallback:1/"),
        ("a b", "http://fallback:1/"),
    ],
)
def test_the_origin_is_the_host_a_client_reached(host: str | None, origin: str) -> None:
    assert origin_of(host, "http://fallback:1/") == origin


@pytest.mark.parametrize(
    ("lengths", "codings", "expected"),
    [
        ([], [], 0),
        (["12"], [], 12),
        (["12", "12"], [], 12),
        (["65536"], [], 65536),
        (["65537"], [], 413),
        (["99999999999999999999"], [], 413),
        (["12", "13"], [], 400),
        (["-1"], [], 400),
        (["1e3"], [], 400),
        (["١٢"], [], 400),
        ([], ["chunked"], 411),
        (["12"], ["chunked"], 411),
    ],
)
def test_request_bodies_are_bounded(lengths: list[str], codings: list[str], expected: int) -> None:
    result = request_body(lengths, codings)
    if isinstance(result, int):
        assert result == expected
    else:
        assert result.status.value == expected and ("Connection", "close") in result.headers


# -- the command, driven over sockets


class Running:
    """`topicfeeds serve` running in a process, its standard error collected."""

    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "topicfeeds", "serve", "-c", str(config), "--port", "0"],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        first = self.process.stderr.readline()
        found = re.search(r"at http://127\.0\.0\.1:(\d+)/", first)
        assert found, first
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"
        self.lines: list[str] = [first]
        self.reader = threading.Thread(target=self._collect, args=(self.process.stderr,), daemon=True)
        self.reader.start()

    def _collect(self, stream: TextIO) -> None:
        for line in stream:
            self.lines.append(line)

    def threads(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="utf-8")
        found = re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)
        assert found, status
        return int(found.group(1))

    def get(self, target: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stop(self) -> str:
        """End the server; its standard error."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return "".join(self.lines)


@pytest.fixture
def preview(built: Path) -> Iterator[Running]:
    running = Running(built.parent / "config.yaml")
    try:
        yield running
    finally:
        running.stop()


def raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """The next `count` answers on a connection: status, headers (names lowercase), body."""
    found = []
    with sock.makefile("rb") as stream:
        for _ in range(count):
            status = int(stream.readline().split()[1])
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            found.append((status, headers, stream.read(int(headers.get("content-length", "0")))))
        if found and found[-1][1].get("connection") == "close":
            assert stream.read() == b""  # and it was closed: nothing more comes
    return found


def test_the_command_serves_no_link_to_a_dot_file(preview: Running, built: Path) -> None:
    (built / ".topicfeeds-energy.atom.1.tmp").write_text("temporary")
    (built / "link.atom").symlink_to(".topicfeeds-energy.atom.1.tmp")
    (built / ".hidden").mkdir()
    (built / ".hidden" / "energy.atom").write_text("hidden")
    (built / "into").symlink_to(".hidden")
    (built / "fine.atom").symlink_to("energy.atom")  # a link to a served file is served
    for target in ("/link.atom", "/into/energy.atom"):
        status, _, body = preview.get(target)
        assert status == 404 and b"temporary" not in body and b"hidden" not in body, target
    assert preview.get("/fine.atom")[0] == 200


def test_a_request_body_is_read_not_taken_for_the_next_request(preview: Running) -> None:
    smuggled = b"GET /energy.atom HTTP/1.1\r\nHost: x\r\n\r\n"
    with raw(preview.port) as sock:
        sock.sendall(
            b"POST /energy.atom HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
            + smuggled
            + b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        (refused, _, _), (status, headers, _) = responses(sock, 2)
    assert refused == 405
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"


REFUSED_BODIES = [
    (b"Content-Length: 100000000\r\n", b"x" * 1000, 413),
    (b"Content-Length: 100000000\r\nExpect: 100-continue\r\n", b"", 413),
    (b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n", 411),
    (b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!", 400),
]


def test_a_long_or_chunked_body_is_refused_and_the_connection_closed(preview: Running) -> None:
    for headers, sent, status in REFUSED_BODIES:  # one server for all: each starts in a second
        with raw(preview.port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + sent)
            [(answered, answer_headers, _)] = responses(sock, 1)  # and then closed
        assert answered == status and answer_headers["connection"] == "close", headers


def test_a_burst_of_readers_waits_in_the_listen_queue(preview: Running) -> None:
    # The server stopped, connections can only wait in the kernel's listen queue: a
    # queue of 5 lets 6 in and drops the others' handshakes.
    burst = 100
    preview.process.send_signal(signal.SIGSTOP)
    sockets = []
    try:
        with selectors.DefaultSelector() as waiting:
            for _ in range(burst):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", preview.port))
                waiting.register(sock, selectors.EVENT_WRITE, sock)
                sockets.append(sock)
            connected = 0
            deadline = time.monotonic() + 5
            while connected < burst and time.monotonic() < deadline:
                for key, _ in waiting.select(timeout=0.1):
                    waiting.unregister(key.fileobj)
                    connected += key.data.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        assert connected == burst
        for sock in sockets:
            sock.setblocking(True)
            sock.settimeout(30)
            sock.sendall(b"GET /energy.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        preview.process.send_signal(signal.SIGCONT)
        assert all(responses(sock, 1)[0][0] == 200 for sock in sockets)
    finally:
        preview.process.send_signal(signal.SIGCONT)
        for sock in sockets:
            sock.close()


def test_silent_connections_are_closed_and_hold_no_more_than_the_workers(preview: Running) -> None:
    first = raw(preview.port)
    others = []
    try:
        time.sleep(0.3)  # the first is taken by a worker
        started = time.monotonic()
        others = [raw(preview.port) for _ in range(2 * WORKERS)]
        time.sleep(1)
        assert preview.threads() <= WORKERS + 2  # the others wait in the listen queue
        for sock in others:
            sock.close()
        # The silent first connection is closed after a few seconds, without a word.
        assert first.recv(100) == b""
        assert time.monotonic() - started < REQUEST_SECONDS + 5
    finally:
        first.close()
        for sock in others:
            sock.close()
    assert preview.get("/")[0] == 200
    deadline = time.monotonic() + 10
    while preview.threads() > 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert preview.threads() <= 2


def test_a_client_hanging_up_leaves_no_traceback(preview: Running, built: Path) -> None:
    (built / "big.html").write_bytes(os.urandom(4 << 20).hex().encode())
    reset = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close with a reset
    for request in (b"GET /big.html HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):
        for wait in (False, True):
            with raw(preview.port) as sock:
                sock.sendall(request)
                if wait:
                    assert sock.recv(100).startswith(b"HTTP/1.1 200")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset)
    with raw(preview.port) as sock:  # a reader that stops reading a large answer
        sock.sendall(b"GET /big.html HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(100)
    assert preview.get("/")[0] == 200
    time.sleep(0.5)
    log = preview.stop()
    assert "Traceback" not in log and "Error" not in log, log
    assert log.count('"GET /big.html HTTP/1.1" 200') >= 2


def test_newsboat_reads_the_preview_through_its_opml_file(preview: Running, tmp_path: Path) -> None:
    newsboat = require_program("newsboat")
    status, _, opml = preview.get("/topics.opml")
    assert status == 200
    (tmp_path / "topics.opml").write_bytes(opml)
    (tmp_path / "config").write_text("", encoding="utf-8")
    files = ["-C", str(tmp_path / "config"), "-u", str(tmp_path / "urls"), "-c", str(tmp_path / "cache.db")]
    env = {
        **{k: v for k, v in os.environ.items() if "proxy" not in k.lower()},
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
    }
    run = {"env": env, "capture_output": True, "timeout": 60, "check": True}
    subprocess.run([newsboat, *files, "-i", str(tmp_path / "topics.opml")], **run)  # type: ignore[call-overload]
    urls = (tmp_path / "urls").read_text(encoding="utf-8").split()
    # Checked before reloading, so that nothing is ever fetched from elsewhere.
    assert urls == [f"{preview.url}energy.atom"]
    subprocess.run([newsboat, *files, "-x", "reload"], **run)  # type: ignore[call-overload]
    with contextlib.closing(sqlite3.connect(tmp_path / "cache.db")) as cache:
        feeds = dict(cache.execute("SELECT rssurl, title FROM rss_feed").fetchall())
        items = cache.execute("SELECT feedurl, title FROM rss_item").fetchall()
    assert feeds == {urls[0]: "Test Site: Energy"}
    assert items == [(urls[0], "Grid batteries smooth out the evening peak")]


def test_the_command_serves_without_a_records_folder(built: Path) -> None:
    (built.parent / "seeds" / "a.txt").unlink()
    (built.parent / "seeds").rmdir()
    running = Running(built.parent / "config.yaml")
    try:
        assert running.get("/energy.atom")[0] == 200
    finally:
        running.stop()


def test_a_signal_while_connections_keep_coming_ends_the_server(built: Path) -> None:
    """SIGTERM while clients connect without pause: the server ends at once with 0.
    (A signal raised while the server started a connection's thread was taken for a
    failed start and lost, and the server went on serving: a moment hit about once in
    sixty stops under load, so this test catches it only now and then.)"""
    for _ in range(3):
        running = Running(built.parent / "config.yaml")
        done = threading.Event()

        def hammer(port: int = running.port, done: threading.Event = done) -> None:
            while not done.is_set():
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()

        clients = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
        for client in clients:
            client.start()
        try:
            time.sleep(0.3)
            running.process.terminate()
            status = running.process.wait(timeout=10)
        finally:
            done.set()
            for client in clients:
                client.join(timeout=5)
            err = running.stop()
        assert status == 0, err
        assert "Traceback" not in err, err
