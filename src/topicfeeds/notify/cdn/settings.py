"""The `cdn:` settings: what they may hold, their defaults, and the check of a loaded mapping.

Pure: no environment, no network. Credentials are never here, only the names of the
environment variables that hold them; `open_purger` reads those.

    cdn:
      kind: http                       # Varnish, Fastly, nginx proxy_cache_purge, Squid
      endpoint: http://127.0.0.1:6081  # optional: where PURGE goes; else to each URL itself
    cdn:
      kind: cloudfront
      distribution: E2QWRUHAPOMQZL
    cdn:
      kind: cloudflare
      zone: 023e105f4ecef8ad9ca31a8372d0c353
      token_env: CLOUDFLARE_API_TOKEN
"""

from __future__ import annotations

import ipaddress
import math
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ...errors import dotted, printable
from ...records.clean import redact_url

CdnKind = Literal["http", "cloudfront", "cloudflare"]
KINDS: tuple[CdnKind, ...] = get_args(CdnKind)

# Seconds a run's purge may take, all told, by kind: a Varnish answers at once, Cloudflare
# within seconds, a CloudFront invalidation within minutes.
DEFAULT_TIMEOUT: dict[CdnKind, float] = {"http": 10.0, "cloudfront": 300.0, "cloudflare": 30.0}
TIMEOUT_LIMIT = 3600.0  # an hour: beyond it the pings are better sent by the next run
PARALLEL_LIMIT = 16  # PURGE requests at once: a CDN's edge, not a load test
# CloudFront holds at most 3,000 file paths in progress per distribution (wildcards
# apart, which are never sent here), so no invalidation may name more.
CLOUDFRONT_PATHS = 3000
# Cloudflare's purge by URL takes at most 100 URLs a request on Free, Pro and Business
# plans and 500 on Enterprise (its purge-cache page, 2026); it was 30 for years, and 30
# still works everywhere, so that is the default.
CLOUDFLARE_PER_REQUEST = 30
CLOUDFLARE_LIMIT = 500
CLOUDFLARE_API = "https://api.cloudflare.com/client/v4/"

_COMMON = ("kind", "timeout")
KEYS: dict[CdnKind, tuple[str, ...]] = {
    "http": (*_COMMON, "endpoint", "parallel", "token_env", "token_header"),
    "cloudfront": (*_COMMON, "distribution", "endpoint", "per_invalidation"),
    "cloudflare": (*_COMMON, "zone", "token_env", "api", "per_request"),
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_DISTRIBUTION = re.compile(r"[A-Z0-9]{1,32}")
_ZONE = re.compile(r"[0-9a-f]{32}")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """A `PURGE` request per URL (Varnish, Fastly, nginx `proxy_cache_purge`, Squid)."""

    endpoint: str | None = None  # scheme://host[:port] PURGE is sent to; None: each URL's own host
    parallel: int = 4  # requests at once
    token_env: str | None = None  # environment variable whose value goes in `token_header`
    token_header: str = "Fastly-Key"  # Fastly's, for services that require an authenticated purge


@dataclass(frozen=True, slots=True)
class CloudFrontOptions:
    """Amazon CloudFront invalidations, credentials found as for the bucket."""

    distribution: str  # the distribution's id, E2QWRUHAPOMQZL
    endpoint: str | None = None  # None: AWS's; a compatible server's API otherwise
    per_invalidation: int = CLOUDFRONT_PATHS  # paths one invalidation names


@dataclass(frozen=True, slots=True)
class CloudflareOptions:
    """Cloudflare's purge by URL through its API, with an API token."""

    zone: str  # the zone's id: 32 hex digits
    token_env: str = "CLOUDFLARE_API_TOKEN"  # environment variable holding the API token
    api: str = CLOUDFLARE_API  # the API's base, ending with "/"
    per_request: int = CLOUDFLARE_PER_REQUEST  # URLs one request names


Options = HttpOptions | CloudFrontOptions | CloudflareOptions
_OPTIONS: dict[CdnKind, type[Any]] = {
    "http": HttpOptions,
    "cloudfront": CloudFrontOptions,
    "cloudflare": CloudflareOptions,
}


@dataclass(frozen=True, slots=True)
class CdnSettings:
    """The CDN in front of the output, which is told to drop changed files."""

    kind: CdnKind
    options: Options  # of the class that goes with `kind`
    timeout: float  # seconds a run's purge may take, all told

    def __post_init__(self) -> None:
        if not isinstance(self.options, _OPTIONS[self.kind]):
            raise ValueError(f"{self.kind} needs {_OPTIONS[self.kind].__name__}")


@dataclass(frozen=True, slots=True)
class SettingProblem:
    """One thing wrong with the `cdn:` settings."""

    path: Path_  # the key, from the top of the config: ("cdn", "zone")
    message: str  # what is wrong, no secret in it

    def __str__(self) -> str:
        return f"{dotted(self.path)}: {self.message}"


def parse_cdn(value: Any, path: Path_ = ("cdn",)) -> CdnSettings | list[SettingProblem]:
    """The settings a loaded `cdn:` mapping gives, or every problem with it."""
    check = _Check(path)
    if not isinstance(value, dict):
        check.problem((), f"expected a mapping with kind: {', '.join(KINDS)}")
        return check.problems
    m = {str(k): v for k, v in value.items()}
    kind = m.get("kind")
    if kind not in KINDS:
        choices = ", ".join(KINDS)
        given = "missing" if kind is None else f"{_quoted(kind)} is not one"
        check.problem(("kind",), f"{given}; one of {choices}")
        return check.problems
    for key in m:
        if key not in KEYS[kind]:
            check.problem((key,), f"not a setting of kind {kind}; its settings: {', '.join(KEYS[kind])}")
    timeout = check.number(m, "timeout", DEFAULT_TIMEOUT[kind], low=0.1, high=TIMEOUT_LIMIT)
    env_name = "an environment variable's name"
    options: Options
    if kind == "http":
        options = HttpOptions(
            check.endpoint(m, "endpoint", bare=True),
            check.whole(m, "parallel", 4, high=PARALLEL_LIMIT),
            check.matching(m, "token_env", _ENV_NAME, env_name),
            check.matching(m, "token_header", _HEADER_NAME, "a header name") or "Fastly-Key",
        )
    elif kind == "cloudfront":
        options = CloudFrontOptions(
            check.required(m, "distribution", _DISTRIBUTION, "a distribution's id, such as E2QWRUHAPOMQZL"),
            check.endpoint(m, "endpoint", bare=False),
            check.whole(m, "per_invalidation", CLOUDFRONT_PATHS, high=CLOUDFRONT_PATHS),
        )
    else:
        api = check.endpoint(m, "api", bare=False, secret_bearing=True) or CLOUDFLARE_API
        options = CloudflareOptions(
            check.required(m, "zone", _ZONE, "the zone's id: 32 hex digits, on its overview page"),
            check.matching(m, "token_env", _ENV_NAME, env_name) or "CLOUDFLARE_API_TOKEN",
            api if api.endswith("/") else api + "/",
            check.whole(m, "per_request", CLOUDFLARE_PER_REQUEST, high=CLOUDFLARE_LIMIT),
        )
    if check.problems:
        return check.problems
    return CdnSettings(kind, options, timeout)


def is_loopback(host: str | None) -> bool:
    """Whether `host` names this machine: a secret may go there unencrypted."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Check:
    """Collects the problems of one `cdn:` mapping instead of stopping at the first."""

    def __init__(self, path: Path_) -> None:
        self.path = path
        self.problems: list[SettingProblem] = []

    def problem(self, key: Path_, message: str) -> None:
        self.problems.append(SettingProblem((*self.path, *key), message))

    def number(
        self, m: dict[str, Any], key: str, default: float, *, low: float, high: float, whole: bool = False
    ) -> float:
        value = m.get(key)
        if value is None:
            return default
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and whole and not float(value).is_integer():
            ok = False
        if not ok or not low <= value <= high:
            kind = "a whole number" if whole else "a number"
            self.problem((key,), f"expected {kind} from {low:g} to {high:g}, got {_quoted(value)}")
            return default
        return float(value)

    def whole(self, m: dict[str, Any], key: str, default: int, *, high: int) -> int:
        return int(self.number(m, key, default, low=1, high=high, whole=True))

    def matching(self, m: dict[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = m.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.problem((key,), f"expected {what}, got {_quoted(value)}")
            return None
        return value

    def required(self, m: dict[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
        if m.get(key) is None:
            self.problem((key,), f"missing; {what}")
            return ""
        return self.matching(m, key, pattern, what) or ""

    def endpoint(
        self, m: dict[str, Any], key: str, *, bare: bool, secret_bearing: bool = False
    ) -> str | None:
        """An http(s) URL with a host and no credentials in it; `bare`: nothing after the
        host and port; `secret_bearing`: https unless it is this machine."""
        value = m.get(key)
        if value is None:
            return None
        shown = _quoted(redact_url(value) if isinstance(value, str) else value)
        try:
            parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
            if parts is not None:
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem((key,), f"{shown} is not an absolute http(s) URL")
            return None
        if parts.username is not None or parts.password is not None:
            self.problem((key,), f"{shown} has a user or password in it; secrets come from the environment")
            return None
        if parts.fragment or (bare and (parts.path not in ("", "/") or parts.query)):
            self.problem((key,), f"{shown}: only a scheme, a host and a port are used here")
            return None
        if secret_bearing and parts.scheme != "https" and not is_loopback(parts.hostname):
            self.problem((key,), f"{shown} must be https: the token goes with every request")
            return None
        url: str = value
        return url.rstrip("/") if bare else url


def _quoted(value: Any) -> str:
    text = printable(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."
