from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from topicfeeds.destinations.atomic import publish, remove_stale_temp_files
from topicfeeds.errors import PublishError


def test_writes_new_file_world_readable_not_executable(tmp_path: Path) -> None:
    path = tmp_path / "a.atom"
    assert publish(path, b"<feed/>") is True
    assert path.read_bytes() == b"<feed/>"
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o644


def test_unchanged_bytes_are_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "a.atom"
    publish(path, b"<feed/>")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    assert publish(path, b"<feed/>") is False
    assert path.stat().st_mtime == 1_000_000_000
    assert publish(path, b"<feed>new</feed>") is True
    assert path.read_bytes() == b"<feed>new</feed>"


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    publish(tmp_path / "a.atom", b"1")
    publish(tmp_path / "a.atom", b"2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.atom"]


def test_failed_write_keeps_the_old_file_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.atom"
    publish(path, b"old")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(PublishError) as caught:
        publish(path, b"new")
    assert str(caught.value) == f"{path}: cannot write: No space left on device"
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.atom"]


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".topicfeeds-a.atom.x1y2.tmp"
    stale.write_bytes(b"half a fe")
    keep = tmp_path / "a.atom"
    keep.write_bytes(b"<feed/>")
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.atom"]
