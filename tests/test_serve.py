"""The preview server: media types, negotiation, caching, compression, confinement."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from topicfeeds import build, load_config
from topicfeeds.serve import answer, make_server

from .conftest import write_record

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
    ],
)
def test_nothing_outside_the_folder_and_no_dot_files(built: Path, target: str) -> None:
    (built / ".topicfeeds-energy.atom.1.tmp").write_text("temporary")
    (built / ".hidden").mkdir()
    (built / ".hidden" / "energy.atom").write_text("hidden")
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
