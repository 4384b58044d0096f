"""Put feed files in place atomically, and only when their bytes change."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path

from ..errors import PublishError, RemoveError
from ..runtime.signals import ENDING

_TEMP_PREFIX = ".topicfeeds-"
_TEMP_SUFFIX = ".tmp"


def publish(path: Path, data: bytes) -> bool:
    """Make `path` hold `data`; return False, touching nothing, when it already does.

    The bytes go to a temporary file in the same folder that is renamed over
    `path`, so a reader or a crash sees the old file or the new one, never a part.
    """
    if holds(path, data):
        return False
    replaced = _mtime_ns(path)
    # SIGTERM and SIGINT wait while the temporary file is made and named: their handler
    # raises, and raised in between it would leave a file whose name nobody knows. They
    # are let through inside the block below, which removes the file.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    try:
        fd, temp_name = _mkstemp(path)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    temp = Path(temp_name)
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if replaced is not None:
                _after_second_of(fh.fileno(), replaced)
            os.fsync(fh.fileno())
        temp.chmod(0o644)  # served files: world-readable, not executable
        temp.replace(path)
    except BaseException as exc:
        # Interrupted or failed: no half-written temporary file stays to be served.
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise PublishError(path, exc.strerror or str(exc)) from exc
        raise
    _sync_folder(path.parent)
    return True


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files a killed run left in `folder`; return what was removed."""
    removed = []
    for temp in folder.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed.append(temp)
    return removed


def withdraw(path: Path) -> bool:
    """Remove a feed file on purpose; return whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise RemoveError(path, exc.strerror or str(exc)) from exc
    _sync_folder(path.parent)
    return True


def holds(path: Path, data: bytes) -> bool:
    """Whether file `path` holds exactly `data` (False when it is missing or unreadable)."""
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False  # missing or unreadable: write it anew


def _mtime_ns(path: Path) -> int | None:
    """When file `path` was last written; None when there is none."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


_SECOND = 1_000_000_000


def _after_second_of(fd: int, replaced_ns: int) -> None:
    """Give the file open as `fd` a time in a later second than `replaced_ns`, the time
    of the file it replaces, when it has none yet.

    HTTP's validators count whole seconds: Last-Modified, and the ETag nginx makes of
    the time and the size. A feed written again within the second of its last version
    (a `watch` publishing a correction, two runs in a row) at the same length would
    answer a conditional GET, a reader's or a cache's revalidation, with 304 and the
    reader would keep the old entries. Each such rewrite moves the time one second on
    from its last version's, a second or so ahead of the clock at most."""
    written = os.fstat(fd).st_mtime_ns
    if written // _SECOND <= replaced_ns // _SECOND:
        later = (replaced_ns // _SECOND + 1) * _SECOND
        os.utime(fd, ns=(later, later))


def _mkstemp(path: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=f"{_TEMP_PREFIX}{path.name}.", suffix=_TEMP_SUFFIX)
    except OSError as exc:
        raise PublishError(path, exc.strerror or str(exc)) from exc


def _sync_folder(folder: Path) -> None:
    # The rename itself must reach the disk for the new file to survive a power cut.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
