"""One run at a time: a lock on a file beside the state store.

It is a POSIX record lock (`fcntl.lockf`), not an `flock`: an `flock` belongs to the
open file, which every forked parse worker shares, so a worker that outlived a killed
run would keep it; a record lock belongs to the process alone and is never inherited.
The kernel drops it when that process ends, however it ends. Record locks do not
exclude each other within one process, so the process also keeps a set of the locks
it holds (a second build in the same process, such as a test, is refused the same way).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockedError

_POLL_SECONDS = 0.1
_held: set[str] = set()
_guard = threading.Lock()


@contextmanager
def exclusive(path: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the block; raise LockedError when another
    run holds it for longer than `wait` seconds."""
    key = os.path.abspath(path)  # noqa: PTH100 - a plain key, not a file operation
    deadline = time.monotonic() + wait
    while not _claim(key):
        if time.monotonic() >= deadline:
            raise LockedError(path)
        time.sleep(_POLL_SECONDS)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            while True:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:  # EAGAIN or EACCES: another process holds it
                    if time.monotonic() >= deadline:
                        raise LockedError(path) from None
                    time.sleep(_POLL_SECONDS)
            # For whoever looks at the file: which process holds it.
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock
    finally:
        with _guard:
            _held.discard(key)


def _claim(key: str) -> bool:
    with _guard:
        if key in _held:
            return False
        _held.add(key)
        return True
