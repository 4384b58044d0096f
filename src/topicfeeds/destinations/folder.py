"""A local folder as the destination: atomic replacement, only when the bytes change."""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputError, PublishError
from . import OutputStamp
from .atomic import holds, publish, remove_stale_temp_files, withdraw


class FolderDestination:
    """The output folder on this machine (see atomic.py for how a file is replaced)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def check(self) -> None:
        """The folder must exist by now (the pipeline creates a missing one)."""
        if not self.folder.is_dir():
            raise OutputError(f"{self.folder}: output folder does not exist")

    def holds(self, name: str, data: bytes) -> bool:
        """Whether the file already holds `data`."""
        return holds(self.folder / name, data)

    def put(self, name: str, data: bytes) -> tuple[bool, OutputStamp]:
        """Replace the file atomically when its bytes change."""
        path = self.folder / name
        written = publish(path, data)
        try:
            st = path.stat()
        except OSError as exc:
            raise PublishError(path, exc.strerror or str(exc)) from exc
        return written, (st.st_size, st.st_mtime_ns)

    def stamp(self, name: str) -> OutputStamp | None:
        """(size, mtime_ns) as stat gives them."""
        try:
            st = (self.folder / name).stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def read(self, name: str) -> bytes | None:
        """The file's bytes."""
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None

    def withdraw(self, name: str) -> bool:
        """Delete the file."""
        return withdraw(self.folder / name)

    def tidy(self) -> None:
        """Delete temporary files a killed run left."""
        remove_stale_temp_files(self.folder)

    def resend(self) -> bool:
        """A file is its bytes alone: nothing to send again."""
        return False

    def location(self, name: str) -> Path:
        """The file's path."""
        return self.folder / name
