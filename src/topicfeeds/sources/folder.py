"""A local folder of record files: one listing and one stat a file tell what changed."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import OutputError
from ..reader import Stamp, display_path, name_matcher, stamp_of
from ..state import Row, read_row
from ..workers import iter_files


class FolderSource:
    """The records folder on this machine."""

    def __init__(self, folder: Path, patterns: Sequence[str]) -> None:
        self.folder = folder
        self.patterns = tuple(patterns)
        self.where = display_path(folder)

    def check(self) -> None:
        """The folder must exist."""
        if not self.folder.is_dir():
            raise OutputError(f"{self.folder}: records folder does not exist")

    def scan(self) -> dict[str, Stamp]:
        """Every record file's stamp, by name: one directory listing and one stat a file."""
        listing = {}
        matches = name_matcher(self.patterns)
        try:
            entries = os.scandir(self.folder)
        except OSError as exc:
            raise OutputError(
                f"{self.folder}: cannot read the records folder: {exc.strerror or exc}"
            ) from exc
        with entries:
            for entry in entries:
                name = entry.name
                if not matches(name):
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:  # removed since it was listed
                    continue
                if stat.S_ISREG(st.st_mode):
                    listing[name] = stamp_of(st)
        return listing

    def rows(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[Row]:
        """Parsed in `jobs` processes when there are many (see workers.py)."""
        read = functools.partial(read_row, max_bytes=max_bytes)
        return iter_files([self.folder / name for name in names], read, jobs)

    def shown(self, name: str) -> str:
        """The file's path, relative to the working directory when below it."""
        return display_path(self.folder / name)

    def subfolders(self) -> list[str]:
        """The visible folders directly inside."""
        with os.scandir(self.folder) as entries:
            return [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]
