"""The parse pool: a worker that dies costs the run nothing but time."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from topicfeeds.runtime import workers


def _parse_or_die(path: Path, parent: int) -> str:
    """Dies (as a worker killed from outside would) on file 3, when in a worker."""
    if path.name == "3" and os.getpid() != parent:
        os._exit(1)
    return path.name


def test_a_dead_worker_leaves_its_chunks_and_those_not_handed_out_to_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(workers, "CHUNK_FILES", 2)  # 30 chunks: most are handed out after the death
    paths = [Path(str(n)) for n in range(60)]
    got = list(workers.iter_files(paths, partial(_parse_or_die, parent=os.getpid()), jobs=2))
    assert got == [str(n) for n in range(60)]


def _die_everywhere(path: Path, parent: int) -> str:
    """Dies in every worker, at its first file."""
    if os.getpid() != parent:
        os._exit(1)
    return path.name


def test_with_every_worker_dead_the_run_parses_all_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(workers, "CHUNK_FILES", 3)
    paths = [Path(str(n)) for n in range(40)]
    got = list(workers.iter_files(paths, partial(_die_everywhere, parent=os.getpid()), jobs=3))
    assert got == [str(n) for n in range(40)]


def _refuse(path: Path) -> str:
    if path.name == "17":
        raise ValueError(f"cannot parse {path.name}")
    return path.name


def test_an_error_in_a_worker_reaches_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(workers, "CHUNK_FILES", 4)
    got = []
    with pytest.raises(ValueError, match="cannot parse 17"):
        for name in workers.iter_files([Path(str(n)) for n in range(40)], _refuse, jobs=2):
            got.append(name)
    assert got == [str(n) for n in range(16)]  # every chunk before the one that failed
    assert _gone_soon()


def _slow(path: Path) -> str:
    time.sleep(0.001)
    return path.name


def test_a_run_that_stops_early_leaves_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(workers, "CHUNK_FILES", 20)
    results = workers.iter_files([Path(str(n)) for n in range(2000)], _slow, jobs=2)
    assert [next(results) for _ in range(30)] == [str(n) for n in range(30)]
    results.close()  # as when the run stops on an exception or a signal
    assert _gone_soon()


def _gone_soon(seconds: float = 2.0) -> bool:
    """Whether every worker ended within `seconds` (reaping those that did)."""
    deadline = time.monotonic() + seconds
    while multiprocessing.active_children():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _note_chunk(chunk: list[Path], folder: Path) -> None:
    (folder / f"ahead-{chunk[0].name}-{os.getpid()}").write_text(",".join(p.name for p in chunk))


def test_each_worker_is_told_of_each_chunk_before_it_parses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(workers, "CHUNK_FILES", 5)
    paths = [Path(str(n)) for n in range(20)]

    got = list(workers.iter_files(paths, _name, jobs=2, ahead=partial(_note_chunk, folder=tmp_path)))

    assert got == [str(n) for n in range(20)]
    notes = {p.name.split("-")[1]: p.read_text() for p in tmp_path.iterdir()}
    assert notes == {str(n): ",".join(str(m) for m in range(n, n + 5)) for n in range(0, 20, 5)}
    assert all(not p.name.endswith(f"-{os.getpid()}") for p in tmp_path.iterdir())  # in the workers


def _name(path: Path) -> str:
    return path.name


def test_reading_ahead_passes_over_what_it_cannot_open_and_never_waits(tmp_path: Path) -> None:
    from topicfeeds.sources import folder

    (tmp_path / "a.txt").write_text("---\ntitle: A\n---\n")
    os.mkfifo(tmp_path / "pipe.txt")  # opened for reading without a writer: would block

    names = ["a.txt", "gone.txt", "pipe.txt", "sub/none.txt"]
    # In a thread, so that a read-ahead stuck on the FIFO fails the test rather than hangs it.
    reading = threading.Thread(target=folder._read_ahead, args=(names, os.fspath(tmp_path)), daemon=True)
    reading.start()
    reading.join(10)

    assert not reading.is_alive()
