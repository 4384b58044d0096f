"""The whole job: read records, select per topic, render, publish. The CLI calls `build`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .config import Config
from .errors import Problem, PublishError, TopicfeedsError
from .publisher import publish, remove_stale_temp_files
from .reader import available_cpus, read_records
from .selector import candidates, index_by_topic, select, topics_for
from .writer import render


class OutputError(TopicfeedsError):
    """The output or records folder cannot be used; nothing was written."""


@dataclass(frozen=True, slots=True)
class TopicReport:
    """What one topic's run did."""

    slug: str
    entries: int
    written: tuple[Path, ...]  # files whose bytes changed
    unchanged: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the summary line and the exit status."""

    files: int  # record files looked at
    records: int  # records read successfully
    errors: tuple[Problem, ...]  # rejected records
    warnings: tuple[Problem, ...]  # parts of kept records that were dropped
    topics: tuple[TopicReport, ...]
    failures: tuple[PublishError, ...]  # feeds that could not be written

    @property
    def written(self) -> int:
        """How many feed files changed."""
        return sum(len(t.written) for t in self.topics)

    @property
    def unchanged(self) -> int:
        """How many feed files already held the right bytes."""
        return sum(len(t.unchanged) for t in self.topics)


def check_folders(config: Config) -> None:
    """Refuse to start when the records or output folder is unusable (exit status 2)."""
    if not config.records_dir.is_dir():
        raise OutputError(f"{config.records_dir}: records folder does not exist")
    out = config.output_dir
    if not out.exists():
        raise OutputError(f"{out}: output folder does not exist; create it first")
    if not out.is_dir():
        raise OutputError(f"{out}: output path is not a folder")
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: output folder is not writable")


def build(config: Config, now: datetime | None = None, jobs: int | None = None) -> BuildReport:
    """Publish every topic's feeds from the records folder; `now` is the reference
    time for max_age_days (the current time when not given), `jobs` how many
    processes may parse records (all available processors when not given)."""
    check_folders(config)
    now = now or datetime.now(timezone.utc)
    remove_stale_temp_files(config.output_dir)
    jobs = jobs or available_cpus()
    result = read_records(config.records_dir, config.patterns, config.max_record_bytes, jobs)
    reports = []
    failures = []
    index = index_by_topic(result.records)
    for topic in topics_for(config, result.records):
        selection = select(candidates(result.records, index, topic), topic, now)
        feed = render(config.site, topic, selection.entries, __version__)
        written: list[Path] = []
        unchanged: list[Path] = []
        for suffix, data in ((".atom", feed.atom), (".rss", feed.rss)):
            path = config.output_dir / f"{topic.slug}{suffix}"
            try:
                (written if publish(path, data) else unchanged).append(path)
            except PublishError as exc:
                failures.append(exc)
        reports.append(TopicReport(topic.slug, len(selection.entries), tuple(written), tuple(unchanged)))
    return BuildReport(
        result.files, len(result.records), result.errors, result.warnings, tuple(reports), tuple(failures)
    )
