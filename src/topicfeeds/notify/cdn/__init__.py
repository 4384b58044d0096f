"""Telling the CDN in front of the output to drop the copies of changed files, so that a
hub told of a change fetches the new bytes, not a copy cached minutes ago.

One module per kind of CDN behind the `Purger` protocol (purger.py): `http` (a `PURGE`
request per URL: Varnish, Fastly, nginx, Squid), `cloudfront` (invalidations through
boto3) and `cloudflare` (purge by URL through its API). The `cdn:` settings are
described and checked in settings.py; `open_purger` makes the purger they name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .purger import Failure, Purger, PurgeResult, Secret, read_secret
from .settings import (
    CdnKind,
    CdnSettings,
    CloudflareOptions,
    CloudFrontOptions,
    HttpOptions,
    SettingProblem,
    parse_cdn,
)

__all__ = [
    "CdnKind",
    "CdnSettings",
    "CloudFrontOptions",
    "CloudflareOptions",
    "Failure",
    "HttpOptions",
    "PurgeResult",
    "Purger",
    "SettingProblem",
    "open_purger",
    "parse_cdn",
]


def open_purger(settings: CdnSettings, environ: Mapping[str, str] | None = None) -> Purger:
    """The purger `settings` describe, its credential read from `environ` (the process's
    environment by default). Never fails: a credential missing from the environment
    makes every purge fail, saying which variable to set."""
    env = os.environ if environ is None else environ
    options = settings.options
    if isinstance(options, HttpOptions):
        from .http import HttpPurger

        token: Secret | str | None = read_secret(env, options.token_env) if options.token_env else None
        return HttpPurger(options, token)
    if isinstance(options, CloudflareOptions):
        from .cloudflare import CloudflarePurger

        return CloudflarePurger(options, read_secret(env, options.token_env))
    from .cloudfront import CloudFrontPurger

    return CloudFrontPurger(options, settings.timeout)
