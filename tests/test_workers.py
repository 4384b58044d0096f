"""The parse pool: a worker that dies costs the run nothing but time."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from topicfeeds import workers


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
