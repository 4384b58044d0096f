from __future__ import annotations

import os
import stat
import time
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


def test_a_file_rewritten_within_a_second_moves_to_a_later_second(tmp_path: Path) -> None:
    """HTTP's validators count whole seconds (Last-Modified; nginx's ETag of time and
    size): each version of a file must show a later second than the one it replaced,
    or a conditional GET would answer 304 for a changed feed of the same length."""
    path = tmp_path / "a.atom"
    seconds = []
    for version in (b"v1", b"v2", b"v3"):  # the same length, in far less than a second
        assert publish(path, version) is True
        seconds.append(path.stat().st_mtime_ns // 1_000_000_000)
    assert seconds[0] < seconds[1] < seconds[2]
    assert seconds[2] - seconds[0] == 2  # one second on each time, not more
    assert path.read_bytes() == b"v3"


def test_a_file_rewritten_in_a_later_second_keeps_the_time_it_was_written(tmp_path: Path) -> None:
    path = tmp_path / "a.atom"
    publish(path, b"v1")
    os.utime(path, (1_000_000_000, 1_000_000_000))  # long ago
    assert publish(path, b"v2") is True
    assert abs(path.stat().st_mtime - time.time()) < 60


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
