"""The `cdn:` settings: what a loaded mapping gives, every problem named by its key and
no secret in any message; and the purger each kind opens."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from topicfeeds.notify.cdn import (
    CdnSettings,
    CloudflareOptions,
    CloudFrontOptions,
    HttpOptions,
    SettingProblem,
    open_purger,
    parse_cdn,
)
from topicfeeds.notify.cdn.cloudflare import CloudflarePurger
from topicfeeds.notify.cdn.cloudfront import CloudFrontPurger
from topicfeeds.notify.cdn.http import HttpPurger
from topicfeeds.notify.cdn.purger import Secret

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


def parsed(text: str) -> CdnSettings | list[SettingProblem]:
    return parse_cdn(yaml.safe_load(text)["cdn"])


def problems(text: str) -> list[str]:
    got = parsed(text)
    assert isinstance(got, list), got
    return [str(p) for p in got]


def test_each_kind_with_its_defaults() -> None:
    assert parsed("cdn: {kind: http}") == CdnSettings("http", HttpOptions(), 10.0)
    assert parsed("cdn: {kind: cloudfront, distribution: E2QWRUHAPOMQZL}") == CdnSettings(
        "cloudfront", CloudFrontOptions("E2QWRUHAPOMQZL", None, 3000), 300.0
    )
    assert parsed(f"cdn: {{kind: cloudflare, zone: {ZONE}}}") == CdnSettings(
        "cloudflare",
        CloudflareOptions(ZONE, "CLOUDFLARE_API_TOKEN", "https://api.cloudflare.com/client/v4/", 30),
        30.0,
    )


def test_each_kind_with_every_setting_given() -> None:
    http = """
cdn:
  kind: http
  timeout: 4.5
  endpoint: http://127.0.0.1:6081/
  parallel: 8
  token_env: FASTLY_API_TOKEN
  token_header: Fastly-Key
"""
    assert parsed(http) == CdnSettings(
        "http", HttpOptions("http://127.0.0.1:6081", 8, "FASTLY_API_TOKEN", "Fastly-Key"), 4.5
    )
    cloudfront = (
        "cdn: {kind: cloudfront, distribution: E1, endpoint: 'http://127.0.0.1:5000', per_invalidation: 10, "
        "timeout: 60}"
    )
    assert parsed(cloudfront) == CdnSettings(
        "cloudfront", CloudFrontOptions("E1", "http://127.0.0.1:5000", 10), 60.0
    )
    cloudflare = (
        f"cdn: {{kind: cloudflare, zone: {ZONE}, token_env: CF, api: 'http://localhost:8787/v4', "
        "per_request: 100}"
    )
    assert parsed(cloudflare) == CdnSettings(
        "cloudflare", CloudflareOptions(ZONE, "CF", "http://localhost:8787/v4/", 100), 30.0
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cdn: varnish", ["cdn: expected a mapping with kind: http, cloudfront, cloudflare"]),
        ("cdn: {}", ["cdn.kind: missing; one of http, cloudfront, cloudflare"]),
        ("cdn: {kind: fastly}", ["cdn.kind: 'fastly' is not one; one of http, cloudfront, cloudflare"]),
        (
            "cdn: {kind: http, zone: abc}",
            [
                "cdn.zone: not a setting of kind http; its settings: "
                "kind, timeout, endpoint, parallel, token_env, token_header"
            ],
        ),
        ("cdn: {kind: http, timeout: 0}", ["cdn.timeout: expected a number from 0.1 to 3600, got 0"]),
        ("cdn: {kind: http, timeout: .nan}", ["cdn.timeout: expected a number from 0.1 to 3600, got nan"]),
        ("cdn: {kind: http, parallel: 2.5}", ["cdn.parallel: expected a whole number from 1 to 16, got 2.5"]),
        (
            "cdn: {kind: http, parallel: true}",
            ["cdn.parallel: expected a whole number from 1 to 16, got True"],
        ),
        (
            "cdn: {kind: http, endpoint: 'varnish:6081'}",
            ["cdn.endpoint: 'varnish:6081' is not an absolute http(s) URL"],
        ),
        (
            "cdn: {kind: http, endpoint: 'http://v:x/'}",
            ["cdn.endpoint: 'http://v:x/' is not an absolute http(s) URL"],
        ),
        (
            "cdn: {kind: http, endpoint: 'http://127.0.0.1:6081/purge'}",
            ["cdn.endpoint: 'http://127.0.0.1:6081/purge': only a scheme, a host and a port are used here"],
        ),
        (
            "cdn: {kind: http, token_env: 'my token'}",
            ["cdn.token_env: expected an environment variable's name, got 'my token'"],
        ),
        ("cdn: {kind: http, token_header: 'A: b'}", ["cdn.token_header: expected a header name, got 'A: b'"]),
        (
            "cdn: {kind: cloudfront}",
            ["cdn.distribution: missing; a distribution's id, such as E2QWRUHAPOMQZL"],
        ),
        (
            "cdn: {kind: cloudfront, distribution: d111.cloudfront.net}",
            [
                "cdn.distribution: expected a distribution's id, such as E2QWRUHAPOMQZL, "
                "got 'd111.cloudfront.net'"
            ],
        ),
        (
            "cdn: {kind: cloudfront, distribution: E1, per_invalidation: 3001}",
            ["cdn.per_invalidation: expected a whole number from 1 to 3000, got 3001"],
        ),
        (
            "cdn: {kind: cloudflare}",
            ["cdn.zone: missing; the zone's id: 32 hex digits, on its overview page"],
        ),
        (
            f"cdn: {{kind: cloudflare, zone: {ZONE}, per_request: 501}}",
            ["cdn.per_request: expected a whole number from 1 to 500, got 501"],
        ),
        (
            f"cdn: {{kind: cloudflare, zone: {ZONE}, api: 'http://cf-proxy.internal/v4/'}}",
            ["cdn.api: 'http://cf-proxy.internal/v4/' must be https: the token goes with every request"],
        ),
    ],
)
def test_every_problem_is_named_by_its_key(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_all_problems_at_once() -> None:
    text = "cdn: {kind: cloudflare, zone: nope, timeout: -1, per_request: 0, token_env: 1, endpoint: x}"
    assert [p.split(":")[0] for p in problems(text)] == [
        "cdn.endpoint",
        "cdn.timeout",
        "cdn.zone",
        "cdn.token_env",
        "cdn.per_request",
    ]


def test_problems_carry_their_key_path_for_the_config_to_locate() -> None:
    [problem] = parse_cdn({"kind": "http", "parallel": 0}, path=("site", "cdn"))  # type: ignore[misc]
    assert problem == SettingProblem(
        ("site", "cdn", "parallel"), "expected a whole number from 1 to 16, got 0"
    )


def test_a_password_or_token_in_a_url_is_never_shown() -> None:
    texts = [
        "cdn: {kind: http, endpoint: 'http://admin:hunter2@127.0.0.1:6081/'}",
        "cdn: {kind: http, endpoint: 'ftp://127.0.0.1/?key=hunter2'}",
        f"cdn: {{kind: cloudflare, zone: {ZONE}, api: 'http://example.com/?token=hunter2'}}",
    ]
    for text in texts:
        [shown] = problems(text)
        assert "hunter2" not in shown and "***" in shown, shown


def test_settings_of_the_wrong_kind_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="cloudflare needs CloudflareOptions"):
        CdnSettings("cloudflare", HttpOptions(), 1.0)


def test_open_purger_makes_each_kind_and_reads_only_the_named_variable() -> None:
    env = {"CLOUDFLARE_API_TOKEN": "cf-secret", "FASTLY": "f-secret"}
    http = open_purger(CdnSettings("http", HttpOptions(token_env="FASTLY"), 1.0), env)
    assert (
        isinstance(http, HttpPurger) and isinstance(http.token, Secret) and http.token.reveal() == "f-secret"
    )
    assert isinstance(open_purger(CdnSettings("http", HttpOptions(), 1.0), env), HttpPurger)
    cf = open_purger(CdnSettings("cloudflare", CloudflareOptions(ZONE), 1.0), env)
    assert isinstance(cf, CloudflarePurger) and isinstance(cf.token, Secret)
    assert "cf-secret" not in repr(vars(cf))
    assert isinstance(
        open_purger(CdnSettings("cloudfront", CloudFrontOptions("E1"), 1.0), env), CloudFrontPurger
    )


def test_no_urls_is_an_empty_complete_result() -> None:
    kinds: list[Any] = [
        CdnSettings("http", HttpOptions(), 1.0),
        CdnSettings("cloudflare", CloudflareOptions(ZONE), 1.0),
        CdnSettings("cloudfront", CloudFrontOptions("E1", "http://127.0.0.1:9"), 1.0),
    ]
    for settings in kinds:
        result = open_purger(settings, {"CLOUDFLARE_API_TOKEN": "t"}).purge([], time.monotonic() + 1)
        assert (result.purged, result.failed, result.in_time, result.complete) == ((), (), True, True)
