"""Being told of changes to a records folder: inotify through watchfiles (the Rust
`notify` crate), falling back to polling where inotify cannot be used.

Events name the files that changed, and a run they start looks at those alone. They
are not trusted where they cannot be: a polling watcher's, those of a batch so large
that the kernel's queue may have overflowed, a failed watcher, and a folder replaced,
gone or back; every record is then looked at (`Heard.whole`). The folder above the
records folder is watched too, for the records folder's own name: inotify follows a
folder, not a name, so a folder moved away and another put in its place, or one that
goes and comes back, is noticed there, and the watcher turns to whatever now has the
name. With patterns that reach into subfolders the folder is watched to any depth (and
its own name looked at every second instead, since watchfiles takes one depth for all
it watches); a change to something there that is not a record file (a folder made,
moved or removed) cannot say which records it held, and every record is looked at.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time
from collections.abc import Sequence
from pathlib import Path

# The watcher itself (documented as watchfiles' Rust backend): unlike the `watch`
# generator, it can start watching before the first run, and notes changes while a
# run is under way.
from watchfiles._rust_notify import RustNotify

from ..runtime.signals import HELD_BY_WATCH
from . import Flag, Heard, Listening
from .names import RecordNames

POLL_MS = 300  # how often a polling watcher looks
# Seconds between looks at what the watcher gathered (and at the stop flag): a change is
# told of one to two steps after its event, once a step passed without another.
STEP = 0.02
LOOK_EVERY = 1.0  # seconds between looks at the folder's name, when it is watched to any depth
_MODIFIED = 2  # watchfiles' Change.modified: a file written where it lies (added is 1, deleted 3)
_QUEUED = Path("/proc/sys/fs/inotify/max_queued_events")

Seen = tuple[tuple[int, int] | None, tuple[str, ...]]
"""The records folder's identity (device and inode; None when no folder has the name),
and the paths watched for it."""


class FolderWatcher:
    """The watcher of the records folder and of the folder above it, made anew when
    the folder under the name is another one: replaced, gone, or back."""

    def __init__(self, folder: Path, names: RecordNames, listening: Listening) -> None:
        self.folder = folder
        self.names = names
        self.listening = listening
        self.seen: Seen = (None, ())  # what is watched
        self.notify = self._watcher(self.seen)
        self.trusted = _trusted_batch()
        self.look(again=True)

    def wait(self, timeout: float, stop: Flag) -> Heard | None:
        """Changes, once `listening.settle` seconds passed without a new one; None
        after `timeout` seconds without any (while the folder is there)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            looking = self.names.deep and self.seen[0] is not None  # the name is not watched
            try:
                found = self._gather(min(left, LOOK_EVERY) if looking else left, stop)
            except RuntimeError:  # the watcher failed: watch afresh, and check what it missed
                self.look(again=True)
                return None
            if not (looking and found == "timeout" and time.monotonic() < deadline):
                break
            if self.look():
                return Heard(whole=True)  # replaced or gone
        if found == "signal":  # a signal handler raised: as watchfiles' own `watch` does
            raise KeyboardInterrupt
        if found == "stop":
            return Heard()
        if self.look(again=_named(found, self.folder)):
            return Heard(whole=True)  # replaced, gone (the run reports it, once) or back
        if self.seen[0] is None:
            return Heard()  # nothing runs until the folder is back
        if isinstance(found, str):
            return None
        return self._heard(found)

    def _heard(self, found: set[tuple[int, str]]) -> Heard:
        """The record names of what the watcher gathered."""
        # Other files (an atomic writer's temporary file) do not count.
        top = os.fspath(self.folder) + os.sep
        names: set[str] = set()
        unknown = False
        for _, path in found:
            if not path.startswith(top):
                continue  # the folder above: only the records folder's own name counts there
            name = path[len(top) :].replace(os.sep, "/")
            if self.names(name):
                names.add(name)
            elif self.names.folder(name) and not _file(path):
                unknown = True  # a folder made, moved or removed: which records it held is unknown
        if (names or unknown) and (self.listening.polling or len(found) >= self.trusted or unknown):
            return Heard(whole=True)
        return Heard(frozenset(names))

    def _gather(self, timeout: float, stop: Flag) -> set[tuple[int, str]] | str:
        """What the watcher gathers until `settle` seconds pass without a new change
        (and no longer than `longest`); "timeout", "stop" or "signal" as the watcher says.

        Only a file written where it lies is waited for so long: a file renamed in (as
        an atomic writer puts it) or made and written at once, and a file removed, are
        whole when their events come, so a batch of nothing else is taken after one
        quiet step. A writer that pauses between making a file and writing it is heard
        again when it writes, and its file read again then."""
        settle, longest = self.listening.settle, self.listening.longest
        step = min(settle, STEP)
        ms = max(1, round(step * 1000))
        found = self.notify.watch(round(longest * 1000), ms, max(1, round(timeout * 1000)), stop)
        if isinstance(found, str):
            return found
        if all(change != _MODIFIED for change, _ in found):
            return found
        # The watcher returns after one quiet step: the rest of `settle` is waited here.
        began = time.monotonic()
        gathered = set(found)
        while settle > step and time.monotonic() - began < longest:
            more = self.notify.watch(round(longest * 1000), ms, max(1, round((settle - step) * 1000)), stop)
            if more == "timeout":
                break
            if isinstance(more, str):
                return more
            gathered |= more
        return gathered

    def look(self, *, again: bool = False) -> bool:
        """Watch the folder that has the name now; True when it is not the one watched
        until now. With `again` the watcher is made anew all the same, and a folder
        under the name counts as another (one made where one was removed may have its
        inode number)."""
        for _ in range(3):  # the folder may go between a look and the watcher being made
            seen = _seen(self.folder)
            if seen == self.seen and not again:
                return False
            try:
                notify = self._watcher(seen)
            except FileNotFoundError:
                continue
            self.notify.close()
            other = seen != self.seen or seen[0] is not None
            self.notify, self.seen = notify, seen
            return other
        return False

    def close(self) -> None:
        """Stop watching."""
        self.notify.close()

    def _watcher(self, seen: Seen) -> RustNotify:
        if self.names.deep and seen[0] is not None:  # the folder to any depth, its name looked at
            return _watcher(seen[1][:1], self.listening.polling, recursive=True)
        return _watcher(seen[1], self.listening.polling, recursive=False)


def _file(path: str) -> bool:
    """Whether `path` is a file (not a folder); a path gone counts as a folder."""
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)  # noqa: PTH116
    except OSError:
        return False


def _trusted_batch() -> int:
    """Changes in one batch from which the kernel's event queue may have overflowed (the
    notify crate drops the overflow's notice): a quarter of the queue, each change of a
    file being a few events."""
    with contextlib.suppress(OSError, ValueError):
        return max(64, int(_QUEUED.read_text(encoding="ascii")) // 4)
    return 4096


def _seen(folder: Path) -> Seen:
    """The records folder's identity and what to watch for it: the folder, and the
    nearest folder above it."""
    try:
        info = folder.stat()
        identity = (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None
    except OSError:
        identity = None
    above = folder.parent
    while not above.is_dir() and above != above.parent:
        above = above.parent
    return identity, ((str(folder),) if identity is not None else ()) + (str(above),)


def _named(found: set[tuple[int, str]] | str, folder: Path) -> bool:
    """Whether `found` says the records folder's own name was added or removed (a folder
    made where one was removed may have the same inode number)."""
    if isinstance(found, str):
        return False
    return any(change != _MODIFIED and path == str(folder) for change, path in found)


def _watcher(paths: Sequence[str], polling: bool | None, *, recursive: bool) -> RustNotify:
    """A watcher of `paths` (to any depth when `recursive`), which notes changes from
    now on.

    Its threads start with the watch's signals held back. A signal goes to any thread
    that does not hold it back, and Python then runs its handler in the main thread
    even where that thread holds it back (publish, forking the parse workers); and
    after the interpreter has put the default actions back, as it ends, a signal that
    lands in such a thread would kill the process, whose status would be lost."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_BY_WATCH)
    try:
        if not polling:
            try:
                return RustNotify(list(paths), False, False, POLL_MS, recursive, False)
            except FileNotFoundError:
                raise
            except (OSError, RuntimeError):
                pass  # inotify is unavailable (no watches left, an odd file system): poll
        return RustNotify(list(paths), False, True, POLL_MS, recursive, False)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
