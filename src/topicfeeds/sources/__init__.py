"""Where the records come from: a change feed, behind one small interface.

A source tells a run what changed since the state last heard from it (`changes`):
the records added or changed (names to read), the records removed, whether that is a
full account, and where it stopped. The run reads the names it reported (`rows`)
into the rows the state keeps; it never asks a source what kind it is.

- A source that can be listed (a folder, a bucket) answers from a listing compared
  with the stamps the state keeps (listed.py): only the name ranges whose digests
  changed since the last full account are compared (chunks.py), files written too
  recently to trust their stamp are checked by their content (`digests`), and records
  no longer listed are removed. Told which names changed (by `watch`, which heard of
  them), a folder looks at those alone: an account that is not full.
- A source that cannot be listed (a queue, a table) would answer from a cursor it
  keeps in the state (`Changes.cursor`, noted through `noting`): records pushed since
  are changed, records withdrawn are removed, and the account is not full. The
  protocol leaves room for one; none ships yet.
- A source may offer a way to be told of changes (`watcher`): a folder through
  inotify, a bucket by listing it every few seconds. `watch` runs whenever it tells.

A new source is one module here and one line in `open_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .stamps import Listing, Stamp

if TYPE_CHECKING:  # what these import imports the package's stamps and chunks
    from ..config import Config
    from ..core.model import Record
    from ..errors import Problem
    from ..records.rows import Row
    from ..store.records import Cached
    from .chunks import Span

Noting = Callable[[Set[str], bool], Mapping[str, str]]
"""What the state notes of an account once the run has stored it, given the names whose
stored stamp may not be their listed one (unsettled) and whether the run left every
file in place (no write failed, no removal held back): meta keys and values."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed in a records source since the state last heard from it."""

    changed: Sequence[str]  # names to read: added, or changed since the state stored them
    removed: Collection[str]  # names the state knows that are gone
    complete: bool  # a full account: every name not in `changed` is as the state has it
    listed: Listing  # the stamp each name to read was listed with (every name, when complete)
    started: int  # time.time_ns() as the source began looking: files changed since may change unseen
    stored: Mapping[str, Cached]  # what the state knows of the names in `changed` (none: new)
    quiet: bool  # nothing to read or remove, and the last run left every record settled
    noting: Noting  # what the state notes of this account after the run
    cursor: str | None = None  # where the source stopped, for its next account (see Noting)


def no_notes(unsettled: Set[str], whole: bool) -> Mapping[str, str]:
    """Noting for a source that keeps nothing in the state."""
    return {}


class Known(Protocol):
    """What the state knows of the records, as a source may ask it (the state store)."""

    def meta(self, key: str) -> str | None:
        """A value the state notes (see Noting), or None."""

    def holds_files(self) -> bool:
        """Whether the state knows any record."""

    def changed(
        self, listing: Listing, spans: Sequence[Span] | None = None
    ) -> tuple[bytearray, dict[str, Cached]]:
        """Which of `listing`'s names the state knows (a byte a name, in order; among
        those in `spans`, when given), and what it knows of each known name whose stamp
        differs from `listing`'s, or is gone from it, or that is racy."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What a watcher heard: which records changed, or that every record must be looked at."""

    names: frozenset[str] = frozenset()  # records that changed (added, written, renamed, removed)
    whole: bool = False  # look at everything: events were lost or cannot name the records


class Flag(Protocol):
    """What a watcher looks at to stop waiting early (threading.Event)."""

    def is_set(self) -> bool:
        """Whether to stop waiting."""


class Watcher(Protocol):
    """How a source tells of changes."""

    def wait(self, timeout: float, stop: Flag) -> Heard | None:
        """Wait up to `timeout` seconds, or until `stop` is set, for changes to settle;
        None when nothing came (time for a periodic check). An empty Heard: something
        came, but nothing to run for."""

    def close(self) -> None:
        """Stop watching."""


@dataclass(frozen=True, slots=True)
class Listening:
    """How a watcher listens."""

    settle: float = 0.05  # seconds without a new change before the watcher tells
    longest: float = 2.0  # a burst that goes on longer than this is told anyway
    every: float = 10.0  # seconds between listings, for a source that can only be listed
    polling: bool | None = None  # a folder: True polls; None: inotify, polling where unavailable


class RecordSource(Protocol):
    """A place records are told of and read from."""

    where: str  # the place, as messages name it

    def check(self) -> None:
        """Refuse to start when the place is unusable (OutputError)."""

    def changes(self, known: Known, named: Collection[str] | None = None) -> Changes:
        """What changed since the state `known` last heard; with `named` (as a watcher
        heard them), the changes among those names alone, which a source that cannot
        look at names alone may answer with a full account."""

    def rows(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[Row]:
        """Read and parse the records `names`, in any order, as rows for the store."""

    def digests(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[tuple[str, Stamp, str]]:
        """(name, stamp, SHA-256 in hex) of what each of `names` holds, read but not
        parsed: for records too recently written to trust their stamp, parsed only when
        their content changed. A name left out is read in full."""

    def named(self, text: str) -> str | None:
        """The name of the record that `text` (a command's argument) addresses in this
        place's own form, such as an s3:// address; None for a local file's path."""

    def read(self, name: str, max_bytes: int) -> tuple[Record, list[Problem]]:
        """Record `name` and the warnings about it (RecordError when it cannot be used)."""

    def shown(self, name: str) -> str:
        """Record `name` as the user would write it."""

    def subfolders(self) -> list[str]:
        """Folders (or prefixes) inside the place, for the note when no records are found."""

    def watcher(self, listening: Listening) -> Watcher | None:
        """How to be told of changes from now on; None: only the periodic checks find them."""


def open_source(config: Config) -> RecordSource:
    """The record source `config` names."""
    if config.records_url is not None:
        from .bucket import BucketSource  # only a bucket needs the client library

        return BucketSource(config.records_url, config.s3, config.patterns)
    from .folder import FolderSource

    return FolderSource(config.records_dir, config.patterns)


__all__ = [
    "Changes",
    "Flag",
    "Heard",
    "Known",
    "Listening",
    "Noting",
    "RecordSource",
    "Watcher",
    "no_notes",
    "open_source",
]
