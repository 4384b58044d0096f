"""What every purger promises: the protocol, its result, and a secret that never prints.

A purger is told a set of URLs whose bytes changed and a deadline; it answers, for each
URL, whether the CDN dropped its copy, and if not why not. It never raises for what the
CDN does (down, slow, refusing, redirecting): that is a failure in the result, which the
caller reports, keeping the pings that wait on those URLs for a later run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ...errors import printable
from ...records.clean import redact_url

# Why a request was never made: the time went to the ones before it.
NOT_STARTED = "not sent: the deadline came first"
# The longest reason kept: a CDN's error message is quoted, and it may be anything.
REASON_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Failure:
    """One URL the CDN may still hold an old copy of."""

    url: str  # as the caller gave it; shown through redact_url
    reason: str  # why, fit to print: no secret, one line

    def __str__(self) -> str:
        return f"{printable(redact_url(self.url))}: {self.reason}"


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one purge came to. Every URL asked for is in `purged` or in `failed`, once."""

    purged: tuple[str, ...]  # URLs the CDN no longer holds (dropped, or never cached)
    failed: tuple[Failure, ...]  # URLs it may still hold, each with its reason
    in_time: bool  # False when the deadline came before every URL was settled

    @property
    def complete(self) -> bool:
        """Whether every URL was purged: only then may the hubs be told of them."""
        return not self.failed

    def problems(self) -> tuple[str, ...]:
        """One line per reason, naming how many URLs it kept and the first of them."""
        by_reason: dict[str, list[str]] = {}
        for failure in self.failed:
            by_reason.setdefault(failure.reason, []).append(failure.url)
        lines = []
        for reason, urls in by_reason.items():
            first = printable(redact_url(urls[0]))
            more = f" and {len(urls) - 1} more" if len(urls) > 1 else ""
            lines.append(f"{first}{more}: {reason}")
        return tuple(lines)


class Purger(Protocol):
    """Tells one CDN to drop its copies of some URLs."""

    def purge(self, urls: Sequence[str], deadline: float, *, change: str | None = None) -> PurgeResult:
        """Drop the CDN's copies of `urls` by `deadline` (a `time.monotonic()` value).

        `change` names what changed (a run's identity, say): a purger whose CDN
        deduplicates requests (CloudFront's caller reference) gives the same request for
        the same change and URLs, so a retry waits for the earlier one instead of making
        another; None makes the request new. Never raises for what the CDN does."""
        ...


class Secret:
    """A credential read from the environment: its text is only had by asking for it,
    so no repr, message or traceback's locals can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The credential itself, for the one header that carries it."""
        return self._value

    def scrub(self, text: str) -> str:
        """`text` with the credential, wherever a peer echoed it, replaced by `***`."""
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def read_secret(environ: Mapping[str, str], name: str) -> Secret | str:
    """The credential in environment variable `name`, or why there is none (naming the
    variable, never a value)."""
    value = environ.get(name, "").strip()
    if not value:
        return f"the environment variable {name} is not set"
    if not value.isprintable() or not value.isascii():
        # It goes in a header: a line break there would be a header of its own.
        return f"the environment variable {name} holds a character a header cannot carry"
    return Secret(value)


def short(text: str) -> str:
    """A peer's text as a reason quotes it: one printable line, cut to REASON_LIMIT."""
    line = printable(" ".join(text.split()))
    return line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 3] + "..."


def distinct(urls: Iterable[str]) -> list[str]:
    """`urls` without repeats, in their order: a URL is purged once however often named."""
    return list(dict.fromkeys(urls))


def time_left(deadline: float) -> float:
    """Seconds until `deadline`; TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def settle(urls: Sequence[str], failures: Mapping[str, str], *, in_time: bool) -> PurgeResult:
    """The result for `urls` when those in `failures` (URL → reason) failed and the rest
    were purged."""
    purged = tuple(u for u in urls if u not in failures)
    failed = tuple(Failure(u, failures[u]) for u in urls if u in failures)
    return PurgeResult(purged, failed, in_time)
