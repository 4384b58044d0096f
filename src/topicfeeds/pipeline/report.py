"""What a run tells its caller: what a build did, topic by topic, and what telling the
CDN and the WebSub hubs came to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..errors import Problem, PublishError, printable
from ..sources import RecordSource
from ..store import StateStore

Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as a run advances: stage is "records" or "feeds"."""


def quiet(stage: str, done: int, total: int) -> None:
    """The progress of a run no one watches."""


@dataclass(frozen=True, slots=True)
class TopicReport:
    """What one topic's run did."""

    slug: str
    written: tuple[Path | str, ...]  # files whose bytes changed (a bucket's as s3:// addresses)
    unchanged: tuple[Path | str, ...]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the summary line and the exit status."""

    files: int  # record files in the folder
    parsed: int  # of which this run read and parsed
    records: int  # good records in the folder
    errors: tuple[Problem, ...]  # rejected records (all of them, parsed now or before)
    warnings: tuple[Problem, ...]  # about records parsed in this run, and about the state
    topics: tuple[TopicReport, ...]  # the topics this run rebuilt
    feeds: int  # output files there are (feeds, pages, site files), rebuilt or not
    failures: tuple[PublishError, ...]  # feeds that could not be written
    seconds: float = 0.0
    site_written: tuple[Path | str, ...] = ()  # site-level files (index, OPML, stylesheets) that changed
    planned: tuple[tuple[Path | str, int], ...] | None = None  # a dry run's: (file, size) it would write
    pings_sent: int = 0  # changed feed URLs the WebSub hubs confirmed (once per hub)
    pings_waiting: int = 0  # changed feed URLs hubs are still to be told of, by a later run
    pings_retry: datetime | None = None  # when a hub's Retry-After lets waiting pings go out
    removed: tuple[Path | str, ...] = ()  # published files no longer made, removed (dry run: would be)
    kept: tuple[Path | str, ...] = ()  # published files no longer made, left in place
    removals_refused: str | None = None  # why none was removed although removals were asked for
    purge: PurgeReport | None = None  # what telling the CDN came to; None: no CDN, or it was not told

    @property
    def written_files(self) -> tuple[Path | str, ...]:
        """Every file whose bytes changed."""
        return (*(p for t in self.topics for p in t.written), *self.site_written)

    @property
    def written(self) -> int:
        """How many files changed."""
        return sum(len(t.written) for t in self.topics) + len(self.site_written)

    @property
    def unchanged(self) -> int:
        """How many feed files were left as they were."""
        return self.feeds - self.written - len(self.failures)

    @property
    def no_changes(self) -> bool:
        """Whether the run found nothing to do."""
        return (
            self.parsed == 0
            and not self.topics
            and not self.site_written
            and not self.failures
            and not self.removed
            and self.removals_refused is None
        )


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What telling the CDN to drop the changed files' copies came to (why a URL was
    not purged is a warning, as a hub's failure is)."""

    purged: int  # URLs it dropped
    waiting: int  # URLs it may still hold, to be purged by a later run: their pings wait
    in_time: bool  # False when the timeout came first

    def summary(self) -> str:
        """As the summary line says it, before the hubs; "" when there was nothing to purge."""
        if not (self.purged or self.waiting):
            return ""
        return f"CDN purged {self.purged} URL{'' if self.purged == 1 else 's'}, {self.waiting} waiting"

    def as_json(self) -> dict[str, int | bool]:
        """For `--json`: present only with a CDN configured."""
        return {"purged": self.purged, "waiting": self.waiting, "in_time": self.in_time}


@dataclass(frozen=True, slots=True)
class HubsReport:
    """What telling the CDN and the hubs came to."""

    sent: int  # changed feed URLs the hubs confirmed (once per hub)
    waiting: int  # changed feed URLs hubs are still to be told of
    retry: datetime | None  # when a hub's Retry-After lets waiting pings go out
    warnings: tuple[Problem, ...]  # a line per hub that did not take them all
    seconds: float
    purge: PurgeReport | None = None  # None without a CDN


def shown_key(source: RecordSource, key: str) -> str:
    """A record's file as the user would name it: records are kept by key."""
    return printable(source.shown(key))


def shown_problem(source: RecordSource, problem: Problem) -> Problem:
    """`problem`, naming its record's file as the user would."""
    return replace(problem, path=shown_key(source, problem.path))


def build_report(
    store: StateStore,
    source: RecordSource,
    files: int,
    parsed: int,
    warnings: Sequence[Problem],
    topics: Sequence[TopicReport] = (),
    feeds: int = 0,
    failures: Sequence[PublishError] = (),
) -> BuildReport:
    """The report of a build that listed `files` record files and parsed `parsed` of
    them, with the rejected ones as the store holds them."""
    # The store holds a row for each listed file, and no other: counting the rejected
    # ones through their index costs nothing, counting every row a second at a million.
    return BuildReport(
        files=files,
        parsed=parsed,
        records=files - store.rejected_count(),
        errors=tuple(shown_problem(source, p) for p in store.errors()),
        warnings=tuple(warnings),
        topics=tuple(topics),
        feeds=feeds,
        failures=tuple(failures),
    )
