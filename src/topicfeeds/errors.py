"""The exception tree: every error names the thing that failed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class TopicfeedsError(Exception):
    """Base class of every error topicfeeds raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file, located as precisely as the file allows."""

    path: str  # file as the user named it (relative where possible)
    line: int | None  # 1-based line, when the parser knows it
    field: str | None  # dotted key, e.g. "images[1].url"
    message: str  # what is wrong, in plain words

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"


class ConfigError(TopicfeedsError):
    """The configuration cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RecordError(TopicfeedsError):
    """A record file was rejected; it is reported and the run goes on without it."""

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.problem = Problem(path, line, field, message)
        super().__init__(str(self.problem))

    @property
    def path(self) -> str:
        """The rejected file."""
        return self.problem.path


class PublishError(TopicfeedsError):
    """A feed file could not be written; the previous file is left as it was."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: cannot write: {reason}")


class OutputError(TopicfeedsError):
    """The output or records folder cannot be used; nothing was written."""


class LockedError(TopicfeedsError):
    """Another run holds the lock on the output."""

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        super().__init__(f"{lock_path}: another topicfeeds run is in progress")
