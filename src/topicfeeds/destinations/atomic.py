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
