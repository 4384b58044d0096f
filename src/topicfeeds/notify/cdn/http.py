"""Purging with an HTTP `PURGE` request per URL: Varnish (`return (purge)` in its VCL,
deploy/varnish.vcl), Fastly, nginx's `proxy_cache_purge` and Squid.

The request goes to the URL itself, or to a configured endpoint (the cache's own
address) with the URL's host in the Host header, which is how a cache finds the copy.
What these caches answer: 200 or 204 when a copy was dropped, 404 when none was held,
which is as good; a refusal (403, 405), an error or a redirect keeps the URL failed. A
redirect is never followed: a PURGE sent on to another host is not a purge of this one.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ...errors import printable
from ...records.clean import redact_url
from .purger import NOT_STARTED, PurgeResult, Secret, distinct, settle, short
from .settings import HttpOptions, is_loopback
from .wire import exchange, reason_of


class HttpPurger:
    """Sends `PURGE` for each URL, `options.parallel` at once, all by the deadline."""

    def __init__(self, options: HttpOptions, token: Secret | str | None = None) -> None:
        self.options = options
        self.token = token  # a Secret, why there is none (its variable unset), or None: no token

    def purge(self, urls: Sequence[str], deadline: float, *, change: str | None = None) -> PurgeResult:
        """Drop each of `urls` from the cache; see Purger.purge. (`change` is not needed:
        purging twice drops nothing more.)"""
        todo = distinct(urls)
        if isinstance(self.token, str):
            return settle(todo, dict.fromkeys(todo, self.token), in_time=True)
        if not todo:
            return settle(todo, {}, in_time=True)
        with ThreadPoolExecutor(max_workers=min(self.options.parallel, len(todo))) as pool:
            answers = list(pool.map(lambda url: self._one(url, deadline), todo))
        failures = {url: reason for url, (reason, _) in zip(todo, answers, strict=True) if reason is not None}
        return settle(todo, failures, in_time=not any(late for _, late in answers))

    def _one(self, url: str, deadline: float) -> tuple[str | None, bool]:
        """Why `url` was not purged (None: it was), and whether time ran out."""
        headers = []
        if isinstance(self.token, Secret):
            peer = urllib.parse.urlsplit(self.options.endpoint or url)
            if peer.scheme != "https" and not is_loopback(peer.hostname):
                return f"not sent: {self.options.token_header} would go unencrypted; use https", False
            headers.append((self.options.token_header, self.token.reveal()))
        if time.monotonic() >= deadline:  # waited for a place among the parallel requests
            return NOT_STARTED, True
        try:
            reply = exchange(url, "PURGE", deadline, via=self.options.endpoint, headers=headers)
        except TimeoutError as exc:
            return reason_of(exc), True
        except (OSError, ValueError) as exc:
            return self._scrub(reason_of(exc)), False
        status = reply.status
        if 200 <= status < 300 or status == 404:  # 404: not cached, nothing to drop
            return None, False
        if 300 <= status < 400:
            where = reply.headers.get("location")
            shown = f" (redirect to {printable(redact_url(short(where)))})" if where else ""
            return self._scrub(f"answered {status}{shown}; not followed"), False
        if status in (403, 405):
            return f"HTTP {status}: purging refused (does the cache allow PURGE from this machine?)", False
        return f"HTTP {status}", False

    def _scrub(self, text: str) -> str:
        return self.token.scrub(text) if isinstance(self.token, Secret) else text
