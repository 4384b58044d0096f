"""Where the records come from: a local folder or a bucket, behind one small interface.

A source lists its record files with a version stamp each, which the state store
keeps, so a run reads only what is new or changed; and it reads those files into
the rows the store keeps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # what these import imports the package's stamps and chunks
    from ..config import Config
    from ..core.model import Record
    from ..errors import Problem
    from ..records.rows import Row
    from .stamps import Listing


class RecordSource(Protocol):
    """A place record files are listed and read from."""

    where: str  # the place, as messages name it

    def check(self) -> None:
        """Refuse to start when the place is unusable (OutputError)."""

    def scan(self, stamps: bool = True) -> Listing:
        """Every record file's stamp, by name. Without `stamps` the names may come
        alone (`Listing.stamped` says): for a run that reads every file, and takes
        each one's stamp from its row."""

    def rows(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[Row]:
        """Read and parse the files `names`, in any order, as rows for the store."""

    def named(self, text: str) -> str | None:
        """The name of the record that `text` (a command's argument) addresses in this
        place's own form, such as an s3:// address; None for a local file's path."""

    def read(self, name: str, max_bytes: int) -> tuple[Record, list[Problem]]:
        """Record `name` and the warnings about it (RecordError when it cannot be used)."""

    def shown(self, name: str) -> str:
        """Record file `name` as the user would write it."""

    def subfolders(self) -> list[str]:
        """Folders (or prefixes) inside the place, for the note when no records are found."""


def open_source(config: Config) -> RecordSource:
    """The record source `config` names."""
    if config.records_url is not None:
        from .bucket import BucketSource  # only a bucket needs the client library

        return BucketSource(config.records_url, config.s3, config.patterns)
    from .folder import FolderSource

    return FolderSource(config.records_dir, config.patterns)


__all__ = ["RecordSource", "open_source"]
