"""Where the output goes: a local folder or a bucket, behind one small interface.

A destination is told "these bytes under this name" and writes them only when they
differ from what is there; it says what is there as a stamp per file, which the state
store keeps, so a run can tell cheaply whether the output is as it was left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..config import Config

OutputStamp = tuple[int, int]
"""What identifies a file's version at the destination: (size, a second number) — the
modification time in nanoseconds in a folder, the leading bits of the MD5 in a bucket."""


class Destination(Protocol):
    """A place the output files are put."""

    def check(self) -> None:
        """Refuse to start when the place is unusable (OutputError)."""

    def holds(self, name: str, data: bytes) -> bool:
        """Whether file `name` already holds exactly `data`."""

    def put(self, name: str, data: bytes) -> tuple[bool, OutputStamp]:
        """Make `name` hold `data`, whole or not at all; return whether anything was
        written and the file's stamp. Raises PublishError naming the file."""

    def stamp(self, name: str) -> OutputStamp | None:
        """File `name`'s stamp as it is now; None when it is missing."""

    def read(self, name: str) -> bytes | None:
        """File `name`'s bytes; None when it is missing. Raises OSError when it is there
        but cannot be read."""

    def withdraw(self, name: str) -> bool:
        """Remove file `name` on purpose; return whether there was one. Raises
        RemoveError naming the file; the caller decides what may be removed."""

    def tidy(self) -> None:
        """Remove what an interrupted run may have left behind."""

    def resend(self) -> bool:
        """From now on, send every file `put` is given, even one the place holds already:
        what goes with the bytes changed (a bucket object's Cache-Control). Return
        whether the place keeps anything besides the bytes (a folder does not, and does
        nothing)."""

    def location(self, name: str) -> Path | str:
        """File `name` as messages and summaries show it."""


def open_destination(config: Config, *, dry_run: bool = False) -> Destination:
    """The destination `config` names; with `dry_run`, one that only notes what it would write."""
    destination: Destination
    if config.output_url is not None:
        from .bucket import BucketDestination  # only a bucket needs the client library

        destination = BucketDestination(config.output_url, config.s3)
    else:
        from .folder import FolderDestination

        destination = FolderDestination(config.output_dir)
    if dry_run:
        from .dry import DryRun

        return DryRun(destination)
    return destination


__all__ = ["Destination", "OutputStamp", "open_destination"]
