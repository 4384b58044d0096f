"""The Cloudflare purger against a loopback server that speaks the purge-by-URL API's
requests and answers (`{"success": true, ...}`), and misbehaves on purpose; over TLS
with a certificate the test makes."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from topicfeeds.notify.cdn import CdnSettings, CloudflareOptions, PurgeResult, open_purger
from topicfeeds.notify.cdn.purger import NOT_STARTED
from topicfeeds.notify.cdn.wire import BODY_LIMIT

from .cdnpeers import Request, build, flood, make_site, peer, refused_url, reply, trickle
from .conftest import require_program

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "cf-t0ken-never-to-be-shown"
ENV = {"CF_TOKEN": TOKEN}
OK = json.dumps({"success": True, "errors": [], "messages": [], "result": {"id": "abc"}}).encode()


def purge(
    api: str, urls: list[str], seconds: float = 5.0, environ: dict[str, str] = ENV, per_request: int = 30
) -> tuple[PurgeResult, float]:
    options = CloudflareOptions(ZONE, "CF_TOKEN", f"{api}/client/v4/", per_request)
    purger = open_purger(CdnSettings("cloudflare", options, seconds), environ)
    start = time.monotonic()
    result = purger.purge(urls, start + seconds)
    return result, time.monotonic() - start


def urls(n: int) -> list[str]:
    return [f"https://news.example.com/feeds/topic-{i}.atom" for i in range(n)]


def api_answer(answer: Callable[[list[str]], tuple[int, bytes]]) -> Callable[[Request, socket.socket], None]:
    """An API endpoint: `answer` is given the request's files and gives the status and body."""

    def respond(request: Request, conn: socket.socket) -> None:
        status, body = answer(json.loads(request.body)["files"])
        reply(status, body, (("Content-Type", "application/json"),))(request, conn)

    return respond


def test_urls_are_purged_in_batches_with_the_token() -> None:
    with peer(api_answer(lambda files: (200, OK))) as api:
        result, _ = purge(api.url, urls(65))
    assert result.complete and result.in_time and result.purged == tuple(urls(65))
    assert [len(json.loads(r.body)["files"]) for r in api.requests] == [30, 30, 5]
    assert [f for r in api.requests for f in json.loads(r.body)["files"]] == urls(65)
    for request in api.requests:
        assert (request.method, request.target) == ("POST", f"/client/v4/zones/{ZONE}/purge_cache")
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["content-type"] == "application/json"


def test_an_error_answer_fails_its_batch_and_says_why_without_the_token() -> None:
    refusal = {
        "success": False,
        "errors": [{"code": 1012, "message": f"Request must contain one of files; token {TOKEN} rejected"}],
        "messages": [],
        "result": None,
    }

    def answer(files: list[str]) -> tuple[int, bytes]:
        return (400, json.dumps(refusal).encode()) if urls(4)[2] in files else (200, OK)

    with peer(api_answer(answer)) as api:
        result, _ = purge(api.url, urls(4), per_request=2)
    assert result.purged == tuple(urls(4)[:2]) and result.in_time
    reason = "Cloudflare refused (HTTP 400): 1012 Request must contain one of files; token *** rejected"
    assert {f.url: f.reason for f in result.failed} == dict.fromkeys(urls(4)[2:], reason)
    assert TOKEN not in repr(result)


def test_success_false_in_a_200_answer_is_a_failure() -> None:
    body = json.dumps({"success": False, "errors": [], "messages": []}).encode()
    with peer(api_answer(lambda files: (200, body))) as api:
        result, _ = purge(api.url, urls(1))
    assert [f.reason for f in result.failed] == ["Cloudflare refused (HTTP 200): no reason given"]


@pytest.mark.parametrize(
    ("status", "headers", "said"),
    [
        (403, (), "Cloudflare refused (HTTP 403): 10000 Authentication error"),
        (
            429,
            (("Retry-After", "60"),),
            "Cloudflare refused (HTTP 429): rate limited, retry after 60 s; 971 Please wait",
        ),
    ],
)
def test_a_refused_token_or_rate_stops_the_requests_that_would_follow(
    status: int, headers: tuple[tuple[str, str], ...], said: str
) -> None:
    code, message = (10000, "Authentication error") if status == 403 else (971, "Please wait")
    body = json.dumps({"success": False, "errors": [{"code": code, "message": message}]}).encode()
    with peer(reply(status, body, headers)) as api:
        result, _ = purge(api.url, urls(5), per_request=2)
    assert len(api.requests) == 1
    assert result.purged == () and result.in_time
    assert [f.reason for f in result.failed] == [said] * 2 + [
        f"not sent: an earlier request was refused ({said})"
    ] * 3


def test_a_slow_answer_is_cut_at_the_deadline_and_the_rest_not_sent() -> None:
    with peer(api_answer(lambda files: (time.sleep(1.0), (200, OK))[1])) as api:
        result, took = purge(api.url, urls(6), seconds=1.6, per_request=2)
    assert took < 1.6 + 1.0
    assert not result.in_time and result.purged == tuple(urls(2))
    assert [f.reason for f in result.failed] == ["no answer by the deadline"] * 2 + [NOT_STARTED] * 2


def test_every_fault_of_the_api_is_reported_in_time() -> None:
    with (
        peer(reply(200)) as elsewhere,
        peer(reply(307, headers=(("Location", f"{elsewhere.url}/v4/"),))) as redirecting,
        peer(trickle) as trickling,
        peer(flood(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")) as flooding,
        peer(reply(502, b"<html>Bad gateway</html>")) as failing,
    ):
        cases = {
            redirecting.url: f"the API answered 307 (redirect to {elsewhere.url}/v4/); not followed",
            trickling.url: "no answer by the deadline",
            flooding.url: f"the answer is longer than {BODY_LIMIT} bytes",
            failing.url: "HTTP 502: the answer is not the API's JSON",
            refused_url(): "connection refused",
        }
        for api, said in cases.items():
            result, took = purge(api, urls(3), seconds=1.0)
            assert took < 1.0 + 1.0, api
            assert [f.reason for f in result.failed] == [said] * 3, api
        assert elsewhere.requests == []


def test_a_missing_token_fails_every_url_and_sends_nothing() -> None:
    with peer(api_answer(lambda files: (200, OK))) as api:
        result, _ = purge(api.url, urls(2), environ={})
    assert api.requests == []
    assert [f.reason for f in result.failed] == ["the environment variable CF_TOKEN is not set"] * 2


# -- over TLS, as the real API is reached


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key."""
    openssl = require_program("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def tls_api(cert: Path, key: Path) -> Iterator[str]:
    """An https API on loopback answering every purge with success."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    reply(200, OK)(Request("POST", "/", {}, b""), conn)  # type: ignore[arg-type]
            except OSError:  # the client refused the certificate
                raw.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"https://localhost:{port}"
    finally:
        listener.close()


def test_over_tls_the_certificate_is_checked(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    for api in tls_api(cert, key):
        refused, _ = purge(api, urls(1))
        assert [f.reason for f in refused.failed] == ["TLS: self-signed certificate"]
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now trusted, as a CA's would be
        trusted, _ = purge(api, urls(1))
        assert trusted.complete


# -- through the command


def test_build_purges_the_changed_urls_through_the_api_before_the_hub_is_told(tmp_path: Path) -> None:
    heard: list[str] = []  # what the API and the hub were asked, in order

    def api_ok(request: Request, conn: socket.socket) -> None:
        heard.append("purge")
        reply(200, OK, (("Content-Type", "application/json"),))(request, conn)

    def hub_ok(request: Request, conn: socket.socket) -> None:
        heard.append("ping")
        reply(202)(request, conn)

    with peer(api_ok) as api, peer(hub_ok) as hub:
        cdn = f"{{kind: cloudflare, zone: {ZONE}, token_env: CF_TOKEN, api: '{api.url}/client/v4/'}}"
        config = make_site(tmp_path, hub=hub.url, cdn=cdn)
        env = {k: v for k, v in os.environ.items() if k != "CF_TOKEN"}
        without = build(config, env)
        # No token: nothing sent anywhere, the variable named, the pings held.
        assert without["status"] == 0 and heard == []
        assert without["pings"] == {"sent": 0, "waiting": 3}
        [warning] = without["warnings"]
        assert ": the environment variable CF_TOKEN is not set; " in warning
        out = build(config, {**env, "CF_TOKEN": TOKEN})
        assert out["status"] == 0 and out["pings"] == {"sent": 3, "waiting": 0}
        assert heard == ["purge", "ping", "ping", "ping"]  # one request for the lot, then the hub
    written = sorted(Path(p).name for p in without["written"])
    [request] = api.requests
    assert request.target == f"/client/v4/zones/{ZONE}/purge_cache"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    base = "https://news.example/feeds/"
    assert sorted(json.loads(request.body)["files"]) == sorted([base, *(base + n for n in written)])
    assert out["purge"] == {"purged": len(written) + 1, "waiting": 0, "in_time": True}
    for run in (without, out):
        assert TOKEN not in run["stdout"] + run["stderr"]


def test_a_token_the_api_refuses_is_never_printed_and_keeps_the_pings(tmp_path: Path) -> None:
    refusal = {"success": False, "errors": [{"code": 10000, "message": f"Authentication error {TOKEN}"}]}
    with peer(api_answer(lambda files: (403, json.dumps(refusal).encode()))) as api, peer(reply(202)) as hub:
        cdn = f"{{kind: cloudflare, zone: {ZONE}, token_env: CF_TOKEN, api: '{api.url}/client/v4/'}}"
        config = make_site(tmp_path, hub=hub.url, cdn=cdn)
        out = build(config, {**os.environ, "CF_TOKEN": TOKEN})
    assert out["status"] == 0 and out["pings"] == {"sent": 0, "waiting": 3} and hub.requests == []
    [warning] = out["warnings"]
    assert ": Cloudflare refused (HTTP 403): 10000 Authentication error ***; " in warning
    assert TOKEN not in out["stdout"] + out["stderr"]
