"""A local folder of record files: one listing and one stat a file tell what changed;
told which files changed (by `watch`, through inotify), one stat of each of them.

Patterns that hold "/" (`**/*.txt`, `2026/*/*.txt`) reach into subfolders, as
newsrooms that file records by date do; the record's name is then its path below
the folder (see names.py).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import stat
import struct
import time
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.model import Record
from ..errors import OutputError, Problem, display_path
from ..records.reader import read_record
from ..records.rows import Row, read_row
from ..runtime.workers import iter_files
from . import Changes, Known, Listening
from .listed import listed_changes, named_changes
from .names import RecordNames
from .stamps import PACKED, Listing, Stamp, stamp_of

if TYPE_CHECKING:
    from .inotify import FolderWatcher


class FolderSource:
    """The records folder on this machine."""

    def __init__(self, folder: Path, patterns: Sequence[str]) -> None:
        self.folder = folder
        self.names = RecordNames.of(patterns)
        self.where = display_path(folder)
        self.nested = self.names.deep

    def check(self) -> None:
        """The folder must exist."""
        if not self.folder.is_dir():
            raise OutputError(f"{self.folder}: records folder does not exist")

    def changes(self, known: Known, named: Collection[str] | None = None) -> Changes:
        """A listing compared with what the state knows; `named` files alone, a stat each."""
        started = time.time_ns()
        if named is None:
            # With no file known, every one is read and stamped as it is (see refresh.py):
            # the names alone are listed, and the cold build spares a stat a file.
            return listed_changes(known, self.scan(stamps=known.holds_files()), started)
        named = [name for name in named if self.names(name)]
        return named_changes(known, self._stamps(named), named, started)

    def _stamps(self, names: Sequence[str]) -> dict[str, Stamp]:
        """The stamps of those of `names` that are regular files (or links to one)."""
        found = {}
        folder = os.fspath(self.folder)
        for name in names:
            try:
                st = os.stat(os.path.join(folder, name))  # noqa: PTH116, PTH118 - as the listing stats
            except (FileNotFoundError, NotADirectoryError):  # gone since the event
                continue
            except OSError as exc:
                raise OutputError(f"{self.shown(name)}: cannot read: {exc.strerror or exc}") from exc
            if stat.S_ISREG(st.st_mode):
                found[name] = stamp_of(st)
        return found

    def listed(self) -> list[str]:
        """Every record file's name, sorted."""
        return self.scan(stamps=False).names

    def scan(self, stamps: bool = True) -> Listing:
        """Every record file's stamp, by name: one directory listing and one stat a file;
        without `stamps`, the listing alone (its entries' types tell the files)."""
        if self.nested:
            return Listing.of(self._scan_nested())
        if not stamps:
            return Listing.unstamped(list(self._names()))
        # The names are sorted before the files are stat-ed, not after: the stamps are
        # packed in the listing's order as they come, with none to move, and files
        # named in order were mostly made in order, so their inodes are read in order
        # (at a million files, 3.7 to 4.7 s against 5.7 to 7.0 s in the folder's order).
        names = sorted(entry.name for entry in self._entries())
        packed = bytearray()
        kept: list[str] = []
        add_name, add_packed, pack, regular = kept.append, packed.extend, PACKED.pack, stat.S_ISREG
        try:
            folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise self._unreadable(exc) from exc
        try:
            # No object is kept for a file but its name: a million pass through here.
            for name in names:
                try:
                    st = os.stat(name, dir_fd=folder)
                except FileNotFoundError:  # removed since it was listed
                    continue
                if regular(st.st_mode):
                    add_packed(pack(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns))
                    add_name(name)
        except struct.error:  # a stamp beyond 64 bits: listed again, as tuples
            return Listing.of({name: stamp_of(st) for name, st in self._files()})
        finally:
            os.close(folder)
        return Listing(kept, packed)

    def _files(self) -> Iterator[tuple[str, os.stat_result]]:
        """Each record file's name and stat result."""
        regular = stat.S_ISREG
        for entry in self._entries():
            try:
                st = entry.stat()
            except FileNotFoundError:  # removed since it was listed
                continue
            if regular(st.st_mode):
                yield entry.name, st

    def _names(self) -> Iterator[str]:
        """Each record file's name: a regular file, or a link to one, as `_files` finds."""
        for entry in self._entries():
            # The entry's type, from the listing itself; a stat only for links (which
            # `is_file` follows) and where the file system gives no type.
            if entry.is_file():
                yield entry.name

    def _entries(self) -> Iterator[os.DirEntry[str]]:
        """The entries of the folder whose names the patterns take."""
        endings = self.names.endings
        matches = self.names
        try:
            entries = os.scandir(self.folder)
        except OSError as exc:
            raise self._unreadable(exc) from exc
        with entries:
            for entry in entries:
                name = entry.name
                # Plain endings are checked in C; an expression only for other patterns.
                if endings is not None:
                    if not name.endswith(endings) or name.startswith("."):
                        continue
                elif not matches(name):
                    continue
                yield entry

    def _unreadable(self, exc: OSError) -> OutputError:
        return OutputError(f"{self.folder}: cannot read the records folder: {exc.strerror or exc}")

    def _scan_nested(self) -> dict[str, Stamp]:
        """Every record file below the folder, by its path relative to it; hidden
        files and folders are skipped."""
        matches = self.names
        listing = {}
        if not self.folder.is_dir():
            raise OutputError(f"{self.folder}: cannot read the records folder")
        for top, folders, files in os.walk(self.folder):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            below = os.path.relpath(top, self.folder)
            prefix = "" if below == "." else below.replace(os.sep, "/") + "/"
            for name in files:
                if not matches(prefix + name):
                    continue
                try:
                    st = (Path(top) / name).stat()
                except OSError:  # removed since it was listed
                    continue
                if stat.S_ISREG(st.st_mode):
                    listing[prefix + name] = stamp_of(st)
        return listing

    def rows(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[Row]:
        """Parsed in `jobs` processes when there are many (see workers.py)."""
        # Names, not paths, go to the workers: each makes its files' paths itself.
        work = functools.partial(_read, folder=os.fspath(self.folder), max_bytes=max_bytes)
        ahead = functools.partial(_read_ahead, folder=os.fspath(self.folder)) if _ADVISE else None
        return map(Row._make, iter_files(names, work, jobs, ahead=ahead))

    def digests(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[tuple[str, Stamp, str]]:
        """Read in `jobs` processes when there are many, as `rows` parses."""
        work = functools.partial(_digest, folder=os.fspath(self.folder), max_bytes=max_bytes)
        for found in iter_files(names, work, jobs):
            if found is not None:
                yield found[0], Stamp._make(found[1]), found[2]

    def watcher(self, listening: Listening) -> FolderWatcher:
        """inotify on the folder (and the folder above it, for its own name)."""
        from .inotify import FolderWatcher  # only a watch needs watchfiles

        return FolderWatcher(self.folder, self.names, listening)

    def named(self, text: str) -> str | None:
        """A record file is named by its path, which the caller reads itself."""
        return None

    def read(self, name: str, max_bytes: int) -> tuple[Record, list[Problem]]:
        """The record file `name` in the folder."""
        return read_record(self.folder / name, max_bytes=max_bytes)

    def shown(self, name: str) -> str:
        """The file's path, relative to the working directory when below it."""
        return display_path(self.folder / name)

    def subfolders(self) -> list[str]:
        """The visible folders directly inside, when the patterns leave them unread."""
        if self.nested:
            return []  # a pattern with "/" reads them: no record file matched there either
        with os.scandir(self.folder) as entries:
            return [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]


# A worker sends rows back as plain tuples, which pickle in half the time.


_ADVISE = hasattr(os, "posix_fadvise")  # not on macOS


def _read_ahead(names: Sequence[str], folder: str) -> None:
    """Ask the system to read the files `names` in `folder`, without waiting for them.
    A worker reads one small file at a time, so a disk asked for them one by one sits
    idle while each is parsed: a cold build whose records were not in memory took
    twice as long as one whose were. Asked for a chunk at once, the disk works ahead of
    the parser. A file already in memory costs three system calls; one that cannot be
    opened is reported when it is read."""
    for name in names:
        try:
            # Non-blocking: a hint must not wait, not even for a FIFO among the records.
            fd = os.open(os.path.join(folder, name), os.O_RDONLY | os.O_NONBLOCK)  # noqa: PTH118
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _read(name: str, folder: str, max_bytes: int) -> tuple[Any, ...]:
    """Record file `name` in `folder` (its path below it, in a subfolder), as a Row's
    fields."""
    path = os.path.join(folder, name)  # noqa: PTH118 - a Path a file costs more than reading it
    # Noted before the stat: a file changed well before it is read cannot change again
    # unseen by its stamp, however long before the run began listing.
    taken = time.time_ns()
    row = read_row(path, name, max_bytes)
    if row.stamp is None:
        # Not opened (no permission, say): stamped as the listing stamps it, so that a
        # run that listed the names alone (see `scan`) keeps the stamp a listing gives.
        with contextlib.suppress(OSError):
            row = row._replace(stamp=stamp_of(os.stat(path)))  # noqa: PTH116
    return (*row[:-1], taken)  # its fields, the last (taken_ns) noted here


def _digest(name: str, folder: str, max_bytes: int) -> tuple[str, tuple[int, ...], str] | None:
    """Record file `name`'s stamp and the digest of its bytes; None when it cannot be
    read, or is larger than `max_bytes` (it is then read in full, to say why)."""
    try:
        fd = os.open(os.path.join(folder, name), os.O_RDONLY)  # noqa: PTH118
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        hashed, total = hashlib.sha256(), 0
        while chunk := os.read(fd, 1 << 16):
            total += len(chunk)
            if total > max_bytes:  # grown since: read in full, to say so
                return None
            hashed.update(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return name, tuple(stamp_of(st)), hashed.hexdigest()
