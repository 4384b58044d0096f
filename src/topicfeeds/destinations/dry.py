"""A destination that writes nothing: for `--dry-run`, it notes what would be written."""

from __future__ import annotations

from pathlib import Path

from . import Destination, OutputStamp


class DryRun:
    """Wraps a destination; asks it what is there, never changes it."""

    def __init__(self, inner: Destination) -> None:
        self.inner = inner
        self.planned: list[tuple[Path | str, int]] = []  # (file, size) that would be written
        self.removals: list[Path | str] = []  # files that would be removed
        self.resending = False  # every file would be sent again (see Destination.resend)

    def check(self) -> None:
        """As the real destination would."""
        self.inner.check()

    def holds(self, name: str, data: bytes) -> bool:
        """As the real destination would say."""
        return self.inner.holds(name, data)

    def put(self, name: str, data: bytes) -> tuple[bool, OutputStamp]:
        """Note the file when it would be written."""
        if not self.resending and self.inner.holds(name, data):
            return False, self.inner.stamp(name) or (len(data), 0)
        self.planned.append((self.inner.location(name), len(data)))
        return True, (len(data), 0)

    def stamp(self, name: str) -> OutputStamp | None:
        """As the real destination would say."""
        return self.inner.stamp(name)

    def read(self, name: str) -> bytes | None:
        """As the real destination holds it."""
        return self.inner.read(name)

    def withdraw(self, name: str) -> bool:
        """Note the file; nothing is removed."""
        if self.inner.stamp(name) is None:
            return False
        self.removals.append(self.inner.location(name))
        return True

    def tidy(self) -> None:
        """Nothing is removed."""

    def resend(self) -> bool:
        """Note every file as one that would be sent, when the real destination would."""
        self.resending = self.inner.resend()
        return self.resending

    def location(self, name: str) -> Path | str:
        """As the real destination shows it."""
        return self.inner.location(name)
