"""The CloudFront purger through boto3 against moto's server, which implements
CreateDistribution, CreateInvalidation, GetInvalidation and ListInvalidations (moto 5:
an invalidation is Completed at once, and a repeated caller reference makes a new one).
A proxy in front of it can hold invalidations InProgress and refuse new ones, as
CloudFront does while others are in progress."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from topicfeeds.notify.cdn import CdnSettings, CloudFrontOptions, PurgeResult, open_purger
from topicfeeds.notify.cdn.cloudfront import CloudFrontPurger, caller_reference
from topicfeeds.notify.cdn.purger import NOT_STARTED

from .cdnpeers import Peer, Request, build, make_site, peer, refused_url, reply
from .s3server import HOP_BY_HOP, S3Server, dummy_credentials, running_s3

TOO_MANY = (
    b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
    b"<Code>TooManyInvalidationsInProgress</Code>"
    b"<Message>Processing your request will cause you to exceed the maximum number of in-progress "
    b"wildcard invalidations.</Message></Error></ErrorResponse>"
)


@dataclass
class Faults:
    """What the proxy does to CloudFront's answers."""

    in_progress: int = 0  # answers to show InProgress instead of Completed (-1: all)
    refuse_creates: int = 0  # next CreateInvalidation requests answered TooManyInvalidationsInProgress
    calls: list[str] = field(default_factory=list)  # "create" / "get", in order
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class CloudFront:
    distribution: str
    url: str  # the proxy's
    faults: Faults
    client: Any  # straight to moto

    def invalidations(self) -> list[dict[str, Any]]:
        """Every invalidation made, oldest first, with its batch."""
        listed = self.client.list_invalidations(DistributionId=self.distribution)["InvalidationList"]
        found = [
            self.client.get_invalidation(DistributionId=self.distribution, Id=item["Id"])["Invalidation"]
            for item in listed.get("Items", [])
        ]
        return sorted(found, key=lambda i: i["CreateTime"])


def proxy(upstream: str, faults: Faults) -> Peer:
    """Passes requests on to moto at `upstream`, doing to them what `faults` say."""
    host, port = upstream.removeprefix("http://").split(":")

    def answer(request: Request, conn: socket.socket) -> None:
        creating = request.method == "POST" and request.target.endswith("/invalidation")
        with faults.lock:
            faults.calls.append("create" if creating else "get")
            refuse = creating and faults.refuse_creates > 0
            faults.refuse_creates -= refuse
        if refuse:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\n")
            conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(TOO_MANY), TOO_MANY))
            return
        upstream_conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
        upstream_conn.request(request.method, request.target, body=request.body, headers=headers)
        got = upstream_conn.getresponse()
        body = got.read()
        upstream_conn.close()
        with faults.lock:
            if faults.in_progress != 0 and b"<Status>Completed</Status>" in body:
                body = body.replace(b"<Status>Completed</Status>", b"<Status>InProgress</Status>")
                faults.in_progress -= faults.in_progress > 0
        lines = [f"HTTP/1.1 {got.status} {got.reason}"]
        lines += [
            f"{k}: {v}" for k, v in got.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}
        ]
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    return Peer(answer)


@pytest.fixture(scope="module")
def moto() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture
def cloudfront(moto: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudFront]:
    dummy_credentials(monkeypatch)
    moto.reset()
    import boto3

    client = boto3.client("cloudfront", endpoint_url=moto.direct, region_name="us-east-1")
    origin = {
        "Id": "bucket",
        "DomainName": "feeds.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    made = client.create_distribution(
        DistributionConfig={
            "CallerReference": "topicfeeds-tests",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    faults = Faults()
    front = proxy(moto.direct, faults)
    try:
        yield CloudFront(made["Distribution"]["Id"], front.url, faults, client)
    finally:
        front.close()


def purge(
    cf: CloudFront, urls: list[str], seconds: float = 10.0, change: str | None = None, **options: Any
) -> tuple[PurgeResult, float]:
    settings = CdnSettings("cloudfront", CloudFrontOptions(cf.distribution, cf.url, **options), seconds)
    purger = open_purger(settings)
    assert isinstance(purger, CloudFrontPurger)
    purger.poll = 0.05
    start = time.monotonic()
    result = purger.purge(urls, start + seconds, change=change)
    return result, time.monotonic() - start


def feeds(n: int, host: str = "news.example.com") -> list[str]:
    return [f"https://{host}/feeds/topic-{i}.atom" for i in range(n)]


def test_paths_are_invalidated_in_batches(cloudfront: CloudFront) -> None:
    urls = [*feeds(5), "http://d111111abcdef8.cloudfront.net/feeds/topic-0.atom"]  # one path, two hosts
    result, _ = purge(cloudfront, urls, per_invalidation=2)
    assert result.complete and result.in_time and result.purged == tuple(urls)
    batches = [i["InvalidationBatch"]["Paths"]["Items"] for i in cloudfront.invalidations()]
    assert sorted(len(b) for b in batches) == [1, 2, 2]
    assert sorted(p for b in batches for p in b) == [f"/feeds/topic-{i}.atom" for i in range(5)]


def test_the_purge_waits_for_invalidations_in_progress(cloudfront: CloudFront) -> None:
    cloudfront.faults.in_progress = 4  # the create's answer and the first three questions
    result, took = purge(cloudfront, feeds(3))
    assert result.complete and result.in_time
    assert cloudfront.faults.calls == ["create", "get", "get", "get", "get"]
    assert took < 5


def test_an_invalidation_still_in_progress_at_the_deadline_fails_its_urls(cloudfront: CloudFront) -> None:
    cloudfront.faults.in_progress = -1
    # Seconds enough for the invalidation to be made on a loaded machine, then wait on.
    result, took = purge(cloudfront, feeds(3), seconds=3.0)
    assert 3.0 <= took < 3.0 + 1.5
    assert not result.in_time and result.purged == ()
    [made] = cloudfront.invalidations()
    assert {f.reason for f in result.failed} == {
        f"invalidation {made['Id']} still in progress at the deadline"
    }


def test_no_more_than_3000_paths_are_in_progress_at_once(cloudfront: CloudFront) -> None:
    cloudfront.faults.in_progress = 2  # the first two invalidations' answers
    result, _ = purge(cloudfront, feeds(3500), per_invalidation=1500)
    assert result.complete
    calls = cloudfront.faults.calls
    # Two of 1,500 at once; the third only once one of them is Completed.
    assert calls[:2] == ["create", "create"] and calls.count("create") == 3
    assert calls.index("create", 2) > calls.index("get")


def test_too_many_in_progress_elsewhere_is_waited_out(cloudfront: CloudFront) -> None:
    cloudfront.faults.refuse_creates = 2
    result, _ = purge(cloudfront, feeds(2))
    assert result.complete and len(cloudfront.invalidations()) == 1
    assert cloudfront.faults.calls[:3] == ["create", "create", "create"]


def test_refused_until_the_deadline_says_what_cloudfront_said(cloudfront: CloudFront) -> None:
    cloudfront.faults.refuse_creates = 10_000
    # Long enough for a refusal to come back on a loaded machine, before the deadline
    # that the retries then run into.
    result, took = purge(cloudfront, feeds(2), seconds=3.0)
    assert took < 3.0 + 1.5 and not result.in_time
    assert {f.reason for f in result.failed} == {
        f"{NOT_STARTED} (CloudFront: TooManyInvalidationsInProgress: Processing your request will cause you "
        "to exceed the maximum number of in-progress wildcard invalidations.)"
    }


def test_the_same_change_gives_the_same_caller_reference(cloudfront: CloudFront) -> None:
    purger = open_purger(
        CdnSettings("cloudfront", CloudFrontOptions(cloudfront.distribution, cloudfront.url), 5)
    )
    for change in ("run-1", "run-1", "run-2", None, None):
        assert purger.purge(feeds(2), time.monotonic() + 5, change=change).complete
    references = [i["InvalidationBatch"]["CallerReference"] for i in cloudfront.invalidations()]
    paths = ["/feeds/topic-0.atom", "/feeds/topic-1.atom"]
    assert references[:3] == [
        caller_reference(cloudfront.distribution, c, paths) for c in ("run-1", "run-1", "run-2")
    ]
    assert len(set(references)) == 4  # each purge without a change is a new one


def test_an_unknown_distribution_fails_every_url_with_cloudfront_s_words(cloudfront: CloudFront) -> None:
    settings = CdnSettings("cloudfront", CloudFrontOptions("E0NOSUCHDIST", cloudfront.url, 2), 5.0)
    result = open_purger(settings).purge(feeds(5), time.monotonic() + 5)
    assert result.purged == () and result.in_time
    said = "NoSuchDistribution: The specified distribution does not exist."
    assert [f.reason for f in result.failed] == [said] * 2 + [f"not sent: {said}"] * 3
    assert cloudfront.faults.calls == ["create"]


def test_an_unreachable_api_fails_every_url_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = CdnSettings("cloudfront", CloudFrontOptions("E2QWRUHAPOMQZL", refused_url()), 5.0)
    start = time.monotonic()
    result = open_purger(settings).purge(feeds(2), start + 5)
    assert time.monotonic() - start < 5 and result.purged == ()
    assert all("Could not connect to the endpoint URL" in f.reason for f in result.failed)


def test_no_credentials_fail_every_url_saying_so(
    cloudfront: CloudFront, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result, _ = purge(cloudfront, feeds(1))
    assert [f.reason for f in result.failed] == ["Unable to locate credentials"]


# -- through the command


def test_build_holds_the_pings_while_the_invalidation_runs_past_the_timeout_and_the_next_run_sends_them(
    cloudfront: CloudFront, tmp_path: Path
) -> None:
    cloudfront.faults.in_progress = -1  # every invalidation stays InProgress
    where = f"distribution: {cloudfront.distribution}, endpoint: '{cloudfront.url}'"
    # Time for a run's boto3 to load and make the invalidation, then to wait on it.
    cdn = f"{{kind: cloudfront, {where}, timeout: 4}}"
    with peer(reply(202)) as hub:
        config = make_site(tmp_path, hub=hub.url, cdn=cdn)
        late = build(config)
        assert late["status"] == 0 and late["pings"] == {"sent": 0, "waiting": 3}
        assert late["purge"]["in_time"] is False and late["purge"]["purged"] == 0
        [made] = cloudfront.invalidations()
        [warning] = late["warnings"]
        assert f": invalidation {made['Id']} still in progress at the deadline; " in warning
        assert hub.requests == []
        cloudfront.faults.in_progress = 0
        done = build(config)  # nothing changed: the same purge asked for again, then the pings
        assert done["status"] == 0 and done["written"] == []
        purged = late["purge"]["waiting"]
        assert done["purge"] == {"purged": purged, "waiting": 0, "in_time": True}
        assert done["pings"] == {"sent": 3, "waiting": 0} and len(hub.requests) == 3
    first, again = (i["InvalidationBatch"] for i in cloudfront.invalidations())
    # The same run's purge: the same caller reference, so CloudFront would give the
    # invalidation in progress rather than make another (moto makes another).
    assert again == first
    written = sorted(Path(p).name for p in late["written"])
    assert first["Paths"]["Items"] == sorted(["/feeds/", *(f"/feeds/{n}" for n in written)])
