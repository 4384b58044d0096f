"""Purging Amazon CloudFront: invalidations, waited for until CloudFront says Completed.

The URLs' paths are named in invalidations of at most `per_invalidation` paths; as
CloudFront holds at most 3,000 paths in progress per distribution, a new one is made
only while those in progress leave room (and, refused for that by CloudFront, because
someone else's are in progress too, is tried again as they complete). Each is then
asked after, at growing intervals, until it is Completed or the deadline comes: an
invalidation still in progress then is a failure of its URLs, which a later purge of
the same change waits for again rather than making anew.

Each invalidation's caller reference is made from the change and its paths: CloudFront
takes a second request with the same reference and paths as the first one, so a retry
(botocore's, after an answer lost on the way, or a later run's) never costs a second
invalidation, while the same files changed again make a new one.

Credentials are found as for the bucket: the environment, the shared files, the
instance's role; never read, kept or printed here.
"""

from __future__ import annotations

import hashlib
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from typing import Any

from .purger import NOT_STARTED, PurgeResult, distinct, settle, short
from .settings import CLOUDFRONT_PATHS, CloudFrontOptions

# CloudFront's answers to an invalidation that cannot start yet: try again later.
WAIT_CODES = ("TooManyInvalidationsInProgress", "Throttling", "ThrottlingException", "RequestLimitExceeded")
POLL_LONGEST = 10.0  # seconds between two questions about one invalidation, at most


class CloudFrontPurger:
    """Invalidates paths in distribution `options.distribution`."""

    def __init__(self, options: CloudFrontOptions, timeout: float, *, poll: float = 1.0) -> None:
        self.options = options
        self.timeout = timeout  # the settings' timeout: no one request waits longer
        self.poll = poll  # seconds before the first question; doubled each time after
        self._made: Any = None  # the client, made at the first purge

    def purge(self, urls: Sequence[str], deadline: float, *, change: str | None = None) -> PurgeResult:
        """Invalidate the paths of `urls` and wait until CloudFront has; see Purger.purge."""
        todo = distinct(urls)
        by_path: dict[str, list[str]] = {}
        for url in todo:
            by_path.setdefault(invalidation_path(url), []).append(url)
        size = self.options.per_invalidation
        ordered = sorted(by_path)
        queue = [ordered[i : i + size] for i in range(0, len(ordered), size)]
        change = change if change is not None else uuid.uuid4().hex
        failed: dict[str, str] = {}  # path → reason
        flight: list[tuple[list[str], str]] = []  # (paths, invalidation id) in progress
        waiting_because = ""  # CloudFront's last reason to wait before making one
        pause = self.poll
        client = self._client() if queue else None
        while client is not None and (queue or flight) and time.monotonic() < deadline:
            while queue and sum(len(p) for p, _ in flight) + len(queue[0]) <= CLOUDFRONT_PATHS:
                paths = queue[0]
                made, reason, wait = self._create(client, paths, change)
                if wait:
                    waiting_because = reason
                    break
                queue.pop(0)
                if made is None:  # refused: so would the rest be
                    failed.update(dict.fromkeys(paths, reason))
                    failed.update(dict.fromkeys((p for rest in queue for p in rest), f"not sent: {reason}"))
                    queue.clear()
                elif made != "":
                    flight.append((paths, made))
            still = []
            for paths, ident in flight:
                done, reason = self._completed(client, ident)
                if reason:
                    failed.update(dict.fromkeys(paths, reason))
                elif not done:
                    still.append((paths, ident))
            flight = still
            if queue or flight:
                time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
                pause = min(pause * 2, POLL_LONGEST)
        late = bool(queue or flight)
        for paths, ident in flight:
            failed.update(dict.fromkeys(paths, f"invalidation {ident} still in progress at the deadline"))
        for paths in queue:
            why = f" (CloudFront: {waiting_because})" if waiting_because else ""
            failed.update(dict.fromkeys(paths, f"{NOT_STARTED}{why}"))
        failures = {url: failed[path] for path, same in by_path.items() if path in failed for url in same}
        return settle(todo, failures, in_time=not late)

    def _client(self) -> Any:
        if self._made is None:
            # Here, not at the top: boto3 takes a third of a second to import.
            import boto3
            import botocore.config

            wait = max(1.0, min(30.0, self.timeout))
            config = botocore.config.Config(
                retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=wait, read_timeout=wait
            )
            # CloudFront is global; its API lives in us-east-1.
            self._made = boto3.session.Session().client(
                "cloudfront", endpoint_url=self.options.endpoint, region_name="us-east-1", config=config
            )
        return self._made

    def _create(self, client: Any, paths: list[str], change: str) -> tuple[str | None, str, bool]:
        """Make the invalidation of `paths`: its id ("" when already Completed, None when
        refused), why not, and whether to try again later."""
        reference = caller_reference(self.options.distribution, change, paths)
        batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}
        try:
            answer = client.create_invalidation(
                DistributionId=self.options.distribution, InvalidationBatch=batch
            )
        except Exception as exc:  # botocore's ClientError and BotoCoreError; see _reason
            code, reason = _reason(exc)
            return None, reason, code in WAIT_CODES
        made = answer["Invalidation"]
        return ("" if made.get("Status") == "Completed" else str(made["Id"])), "", False

    def _completed(self, client: Any, ident: str) -> tuple[bool, str]:
        """Whether invalidation `ident` is Completed, and why it never will be (else "")."""
        try:
            answer = client.get_invalidation(DistributionId=self.options.distribution, Id=ident)
        except Exception as exc:
            code, reason = _reason(exc)
            # Refused (no such invalidation, access denied): final. Anything else
            # (throttled, no connection) may pass: asked again until the deadline.
            final = code not in WAIT_CODES and code != ""
            return False, (f"invalidation {ident}: {reason}" if final else "")
        return answer["Invalidation"].get("Status") == "Completed", ""


def invalidation_path(url: str) -> str:
    """The path CloudFront is told to invalidate for `url`: its path as viewers request
    it (the distribution, not the host, says which files)."""
    path = urllib.parse.urlsplit(url).path or "/"
    return urllib.parse.quote(path, safe="".join(chr(c) for c in range(33, 127)))


def caller_reference(distribution: str, change: str, paths: Sequence[str]) -> str:
    """The same text for the same distribution, change and paths; another otherwise."""
    digest = hashlib.sha256("\n".join([distribution, change, *paths]).encode("utf-8")).hexdigest()
    return f"topicfeeds-{digest[:40]}"


def _reason(exc: Exception) -> tuple[str, str]:
    """An error's code ("" for one with none: a connection's) and its words."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        return code or "error", short(f"{code}: {error.get('Message', '')}".rstrip(": "))
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return "", short(str(exc) or type(exc).__name__)
    raise exc
