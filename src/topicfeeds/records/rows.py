"""A record file in the form the state store keeps: made where the file is read (in
a worker process, or as a bucket's object arrives), so the run stores text rather than
records to encode again."""

from __future__ import annotations

from typing import NamedTuple

from ..sources.stamps import Stamp
from . import codec
from .reader import Tracked, read_tracked


class Row(NamedTuple):
    """One record file in the form the store keeps: made where the file is parsed,
    so a worker process sends back text rather than records to decode again. A
    tuple, since a cold build makes 100,000 of them and sends them between processes."""

    name: str
    id: str | None  # the record's entry id; None if rejected
    id_hash: int | None  # the id's digest, for its index (see codec.id_hash)
    stamp: Stamp | None
    sha256: str | None
    light: str | None  # JSON of the record without images and related articles; None if rejected
    extra: bytes | None  # its images and related articles, compressed (see codec)
    topics: tuple[str, ...]
    folded: tuple[str, ...]  # the topics casefolded
    problems: str  # JSON: the error if rejected, else the warnings
    # time.time_ns() before the file was stat-ed, when the reader noted it (0: not
    # noted; the run's start stands for it). Not stored: it tells whether the stamp
    # is too close to the reading to be trusted (see pipeline/refresh.py).
    taken_ns: int = 0

    @property
    def rejected(self) -> bool:
        """Whether the file was rejected."""
        return self.light is None


def row_of(tracked: Tracked, name: str) -> Row:
    """The stored form of what reading file `name` (its key) gave."""
    record, problems = tracked.outcome
    encoded = codec.encode_problems(list(problems)) if problems else "[]"  # most records have none
    if record is None:
        return Row(name, None, None, tracked.stamp, tracked.sha256, None, None, (), (), encoded)
    light, extra = codec.encode_light_and_extra(record)
    topics = record.topics
    # The digest and the casefolded topics are worked out here, where the file is
    # parsed: in a worker process rather than in the run storing every row.
    return Row(name, record.id, codec.id_hash(record.id), tracked.stamp, tracked.sha256, light, extra, topics,
               tuple(t.casefold() for t in topics), encoded)  # fmt: skip


def read_row(path: str, key: str, max_bytes: int) -> Row:
    """Read, parse and encode the record file at `path`, whose key is `key` (its name
    within the records folder). Its problems name it by its key; a run shows them as
    paths when it reports them. The path is text: a cold build reads 100,000 files,
    and a `Path` for each costs more than reading it does."""
    return row_of(read_tracked(path, max_bytes, shown=key, key=key), key)
