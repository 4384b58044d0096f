"""Stamps and listings: telling, by stat alone, whether a record file changed. Which names
are records is names.py's; naming files in messages, errors.display_path."""

from __future__ import annotations

import bisect
import hashlib
import marshal
import os
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple


class Stamp(NamedTuple):
    """What stat says of a file: enough to notice any ordinary change to it. A tuple,
    since a run over 100,000 files makes and compares that many."""

    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int  # changes on every write or rename, and cannot be set back


def stamp_of(st: os.stat_result) -> Stamp:
    """The stamp of a stat result."""
    return Stamp(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


PACKED = struct.Struct("=qqQq")
"""A stamp as 32 bytes: size, mtime, inode (unsigned, as the system gives it), ctime."""


@dataclass(frozen=True, slots=True, eq=False)
class Listing:
    """Every record file's stamp, by name, packed: the names sorted in one list, and
    their stamps in one byte array beside them, 32 bytes a name (`PACKED`). A million
    files take about a third of the memory a dict of Stamp tuples takes, and a run of
    them hashes in C."""

    names: list[str]  # sorted
    stamps: bytearray | list[Stamp]  # in name order; Stamp tuples when a value does not fit PACKED
    stamped: bool = True  # False: the names alone were listed, each stamp is set as the file is read

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Where `name` is among the names; -1 when it is not listed."""
        at = bisect.bisect_left(self.names, name)
        return at if at < len(self.names) and self.names[at] == name else -1

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.index(name) >= 0

    def get(self, name: str) -> Stamp | None:
        """The stamp of file `name`, or None when it is not listed."""
        at = self.index(name)
        return None if at < 0 else self.stamp_at(at)

    def __getitem__(self, name: str) -> Stamp:
        at = self.index(name)
        if at < 0:
            raise KeyError(name)
        return self.stamp_at(at)

    def stamp_at(self, at: int) -> Stamp:
        """The stamp of the `at`-th name."""
        if isinstance(self.stamps, bytearray):
            return Stamp._make(PACKED.unpack_from(self.stamps, at * PACKED.size))
        return self.stamps[at]

    def finder(self, seen: bytearray | None = None) -> Callable[[str], tuple[int, int, int, int] | None]:
        """`get` for many names in a row (a store's rows, the racy files after a cold
        build), as a plain tuple: a search that starts where the last ended when the
        names come in order, and no call beyond it; `get` costs a search over every name
        and four calls. Each name found is marked in `seen`, when given: a byte a name,
        in name order (a million names take a megabyte, where a set of them takes a
        hundred)."""
        listed, count = self.names, len(self.names)
        unpack, size = PACKED.unpack_from, PACKED.size
        at, last = 0, ""

        def find(name: str) -> tuple[int, int, int, int] | None:
            nonlocal at, last
            at = bisect.bisect_left(listed, name, at if name >= last else 0)
            last = name
            if at >= count or listed[at] != name:
                return None
            if seen is not None:
                seen[at] = 1
            stamps = self.stamps
            return unpack(stamps, at * size) if isinstance(stamps, bytearray) else stamps[at]

        return find

    def stamps_of(self, names: Sequence[str]) -> list[Stamp | None]:
        """The stamps of `names`, None for a name not listed (see `finder`)."""
        find = self.finder()
        return [None if (found := find(name)) is None else Stamp._make(found) for name in names]

    def set_stamp(self, at: int, stamp: Stamp) -> None:
        """Give the `at`-th name its stamp (in a listing of names alone)."""
        stamps = self.stamps
        if isinstance(stamps, bytearray):
            try:
                PACKED.pack_into(stamps, at * PACKED.size, *stamp)
                return
            except struct.error:  # beyond 64 bits: every stamp as a tuple from now on
                stamps = [Stamp._make(s) for s in PACKED.iter_unpack(stamps)]
                object.__setattr__(self, "stamps", stamps)
        stamps[at] = stamp

    def digest(self, start: int = 0, end: int | None = None) -> str:
        """A digest of the names from `start` to `end` and their stamps."""
        end = len(self.names) if end is None else end
        hashed = hashlib.sha256("\0".join(self.names[start:end]).encode("utf-8", "surrogateescape"))
        if isinstance(self.stamps, bytearray):
            hashed.update(memoryview(self.stamps)[start * PACKED.size : end * PACKED.size])
        else:
            hashed.update(marshal.dumps([tuple(stamp) for stamp in self.stamps[start:end]]))
        return hashed.hexdigest()

    @classmethod
    def of(cls, stamps: Mapping[str, Stamp]) -> Listing:
        """The listing of a mapping of names to stamps."""
        names = sorted(stamps)
        try:
            return cls(names, bytearray(b"".join(PACKED.pack(*stamps[name]) for name in names)))
        except struct.error:  # beyond 64 bits
            return cls(names, [stamps[name] for name in names])

    @classmethod
    def unstamped(cls, names: list[str]) -> Listing:
        """The listing of `names` in any order, every stamp still to be set (zero)."""
        return cls(sorted(names), bytearray(PACKED.size * len(names)), stamped=False)
