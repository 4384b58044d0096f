"""Purging through Cloudflare's API: purge by URL.

    POST {api}zones/{zone}/purge_cache
    Authorization: Bearer <API token with the zone's Cache Purge permission>
    {"files": ["https://news.example.com/feeds/ai.atom", ...]}

answered `{"success": true, "errors": [], "messages": [], "result": {"id": ...}}`, or
`"success": false` with `errors` of `{"code": ..., "message": ...}`. Requests go one
after another, `per_request` URLs each (Cloudflare limits the rate of purge requests,
five a minute on the Free plan). A refusal of the token (401, 403) or of the rate (429)
stops the rest: they would be refused alike. The token comes from the environment
variable the settings name; it is sent only over https (or to this machine) and never
appears in a reason, even where the API echoes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from ...errors import printable
from ...records.clean import redact_url
from .purger import NOT_STARTED, PurgeResult, Secret, distinct, settle, short
from .settings import CloudflareOptions
from .wire import exchange, reason_of

# Answers after which no further request is made in this purge: the same token or rate
# would be refused again.
STOPPING = (401, 403, 429)
ERRORS_SHOWN = 3  # of a refusal's `errors`, the first few say enough


class CloudflarePurger:
    """Purges by URL in zone `options.zone`."""

    def __init__(self, options: CloudflareOptions, token: Secret | str) -> None:
        self.options = options
        self.token = token  # a Secret, or why there is none (its variable unset)

    def purge(self, urls: Sequence[str], deadline: float, *, change: str | None = None) -> PurgeResult:
        """Drop each of `urls` from Cloudflare's cache; see Purger.purge. (`change` is not
        needed: purging twice drops nothing more.)"""
        todo = distinct(urls)
        if isinstance(self.token, str):
            return settle(todo, dict.fromkeys(todo, self.token), in_time=True)
        endpoint = f"{self.options.api}zones/{self.options.zone}/purge_cache"
        failures: dict[str, str] = {}
        in_time, stopped = True, ""
        for start in range(0, len(todo), self.options.per_request):
            batch = todo[start : start + self.options.per_request]
            if stopped:
                failures.update(dict.fromkeys(batch, f"not sent: {stopped}"))
                continue
            if time.monotonic() >= deadline:
                in_time = False
                failures.update(dict.fromkeys(batch, NOT_STARTED))
                continue
            reason, late, stop = self._request(endpoint, batch, deadline, self.token)
            if reason is not None:
                failures.update(dict.fromkeys(batch, reason))
                in_time = in_time and not late
                if stop:
                    stopped = f"an earlier request was refused ({reason})"
        return settle(todo, failures, in_time=in_time)

    def _request(
        self, endpoint: str, batch: list[str], deadline: float, token: Secret
    ) -> tuple[str | None, bool, bool]:
        """Why `batch` was not purged (None: it was), whether the deadline came first, and
        whether the rest are to be left unsent (the token or the rate was refused)."""
        headers = [
            ("Authorization", f"Bearer {token.reveal()}"),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ]
        body = json.dumps({"files": batch}).encode("utf-8")
        try:
            reply = exchange(endpoint, "POST", deadline, headers=headers, body=body, read_body=True)
        except TimeoutError as exc:
            return reason_of(exc), True, False
        except (OSError, ValueError) as exc:
            return token.scrub(reason_of(exc)), False, False
        status = reply.status
        if 300 <= status < 400:
            where = reply.headers.get("location")
            shown = f" (redirect to {printable(redact_url(short(where)))})" if where else ""
            return token.scrub(f"the API answered {status}{shown}; not followed"), False, False
        try:
            answer = json.loads(reply.body)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            return f"HTTP {status}: the answer is not the API's JSON", False, status in STOPPING
        if 200 <= status < 300 and answer.get("success") is True:
            return None, False, False
        said = _errors(answer.get("errors"))
        if status == 429:
            wait = reply.headers.get("retry-after")
            said = f"rate limited{f', retry after {short(wait)} s' if wait else ''}; {said}"
        return token.scrub(f"Cloudflare refused (HTTP {status}): {said}"), False, status in STOPPING


def _errors(errors: object) -> str:
    """The API's `errors` in a few words: "10000 Authentication error"."""
    if not isinstance(errors, list) or not errors:
        return "no reason given"
    shown = []
    for error in errors[:ERRORS_SHOWN]:
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            shown.append(" ".join(str(part) for part in (code, message) if part is not None))
        else:
            shown.append(str(error))
    return short("; ".join(shown)) or "no reason given"
