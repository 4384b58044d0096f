"""The HTTP purger (a PURGE request per URL) against loopback peers that answer as caches
do, and as caches should not: every fault is reported for its URL, within the deadline.
(tests/test_cdn_varnish.py has it against Varnish itself.)"""

from __future__ import annotations

import socket
import time

import pytest

from topicfeeds.notify.cdn import CdnSettings, HttpOptions, PurgeResult, open_purger
from topicfeeds.notify.cdn.purger import NOT_STARTED
from topicfeeds.notify.cdn.wire import HEAD_LIMIT

from .cdnpeers import Request, flood, peer, refused_url, reply, trickle

TOKEN = "fastly-s3cr3t-t0ken"


def purge(
    urls: list[str], seconds: float = 5.0, environ: dict[str, str] | None = None, **options: object
) -> tuple[PurgeResult, float]:
    """The result of purging `urls` within `seconds`, and how long it took."""
    purger = open_purger(CdnSettings("http", HttpOptions(**options), seconds), environ or {})  # type: ignore[arg-type]
    start = time.monotonic()
    result = purger.purge(urls, start + seconds)
    return result, time.monotonic() - start


def reasons(result: PurgeResult) -> dict[str, str]:
    return {f.url: f.reason for f in result.failed}


def test_what_caches_answer_on_success_counts_as_purged() -> None:
    statuses = {"/purged": 200, "/varnish": 200, "/nginx-plus": 204, "/not-cached": 404}

    def answer(request: Request, conn: socket.socket) -> None:
        reply(statuses[request.target])(request, conn)

    with peer(answer) as cache:
        urls = [f"{cache.url}{path}" for path in statuses]
        result, _ = purge([*urls, urls[0]])  # a URL named twice is purged once
    assert result.complete and result.in_time and result.purged == tuple(urls)
    assert sorted((r.method, r.target) for r in cache.requests) == sorted(("PURGE", p) for p in statuses)
    assert {r.headers["host"] for r in cache.requests} == {f"127.0.0.1:{cache.port}"}


def test_through_an_endpoint_the_url_s_host_goes_in_the_host_header() -> None:
    with peer(reply(200)) as cache:
        url = "https://news.example.com/feeds/ai.atom?x=1"
        result, _ = purge([url], endpoint=cache.url)
    assert result.complete
    [request] = cache.requests
    assert (request.method, request.target, request.headers["host"]) == (
        "PURGE",
        "/feeds/ai.atom?x=1",
        "news.example.com",
    )
    assert request.body == b""


def test_every_fault_of_a_purge_endpoint_is_reported_for_its_url_in_time() -> None:
    with (
        peer(reply(200)) as elsewhere,
        peer(reply(301, headers=(("Location", f"{elsewhere.url}/moved?token=abc"),))) as redirecting,
        peer(trickle) as trickling,
        peer(flood(b"")) as flooding,
        peer(flood(b"HTTP/1.1 200 OK\r\nX-Flood: ")) as flooding_head,
        peer(reply(503, b"busy")) as failing,
        peer(reply(405)) as refusing,
    ):
        refused = refused_url()
        urls = {
            "redirect": f"{redirecting.url}/ai.atom",
            "trickle": f"{trickling.url}/ai.atom",
            "flood": f"{flooding.url}/ai.atom",
            "flood-head": f"{flooding_head.url}/ai.atom",
            "5xx": f"{failing.url}/ai.atom",
            "405": f"{refusing.url}/ai.atom",
            "refused": f"{refused}/ai.atom",
        }
        result, took = purge(list(urls.values()), seconds=1.5, parallel=8)
    assert took < 1.5 + 1.0
    assert result.purged == () and not result.in_time  # the trickle was cut by the deadline
    got = reasons(result)
    assert (
        got[urls["redirect"]] == f"answered 301 (redirect to {elsewhere.url}/moved?token=***); not followed"
    )
    assert elsewhere.requests == []
    assert got[urls["trickle"]] == "no answer by the deadline"
    assert got[urls["flood"]] == "the answer is not HTTP"
    assert got[urls["flood-head"]] == f"the answer's head is longer than {HEAD_LIMIT} bytes"
    assert got[urls["5xx"]] == "HTTP 503"
    assert got[urls["405"]].startswith("HTTP 405: purging refused")
    assert got[urls["refused"]] == "connection refused"
    assert [line.split(": ", 1)[0] for line in result.problems()] == [
        u.replace("?token=abc", "?token=***") for u in urls.values()
    ]


def test_requests_run_in_parallel_up_to_the_limit() -> None:
    with peer(reply(200, delay=0.3)) as slow:
        urls = [f"{slow.url}/{n}.atom" for n in range(9)]
        result, took = purge(urls, parallel=3)
    assert result.complete
    assert slow.most_active == 3
    assert took < 9 * 0.3  # three rounds, not nine


def test_a_deadline_that_comes_first_leaves_the_rest_unsent() -> None:
    with peer(reply(200, delay=0.4)) as slow:
        urls = [f"{slow.url}/{n}.atom" for n in range(8)]
        result, took = purge(urls, seconds=1.5, parallel=1)
    assert took < 1.5 + 1.5
    assert not result.in_time and not result.complete
    assert 1 <= len(result.purged) <= 3
    assert set(result.purged) == set(urls[: len(result.purged)])
    assert len(slow.requests) <= len(result.purged) + 1
    assert {f.reason for f in result.failed} <= {NOT_STARTED, "no answer by the deadline"}
    assert NOT_STARTED in {f.reason for f in result.failed}


def test_the_token_goes_in_its_header_and_never_in_a_reason() -> None:
    echo = reply(302, headers=(("Location", f"http://127.0.0.1:9/{TOKEN}"),))
    with peer(reply(200)) as cache, peer(echo) as echoing:
        env = {"FASTLY_KEY": TOKEN}
        result, _ = purge(
            [f"{cache.url}/a.atom", f"{echoing.url}/b.atom"], environ=env, token_env="FASTLY_KEY"
        )
    assert result.purged == (f"{cache.url}/a.atom",)
    assert cache.requests[0].headers["fastly-key"] == TOKEN
    assert TOKEN not in repr(result) and TOKEN not in "\n".join(result.problems())
    assert "redirect to http://127.0.0.1:9/***" in result.failed[0].reason


def test_the_token_is_not_sent_unencrypted_off_this_machine() -> None:
    url = "http://cdn.example.invalid/a.atom"
    result, took = purge([url], environ={"FASTLY_KEY": TOKEN}, token_env="FASTLY_KEY")
    assert reasons(result) == {url: "not sent: Fastly-Key would go unencrypted; use https"}
    assert took < 2  # no connection was tried


@pytest.mark.parametrize("value", ["", "  ", "a\r\nX-Injected: 1"])
def test_a_token_variable_unset_or_unfit_fails_every_url_naming_it(value: str) -> None:
    with peer(reply(200)) as cache:
        urls = [f"{cache.url}/a.atom", f"{cache.url}/b.atom"]
        result, _ = purge(urls, environ={"FASTLY_KEY": value}, token_env="FASTLY_KEY")
    assert cache.requests == []
    assert result.purged == () and result.in_time
    assert {f.reason.split(" ", 4)[3] for f in result.failed} == {"FASTLY_KEY"}
