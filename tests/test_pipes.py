"""The command line in a pipeline: output to a closed pipe ends quietly with status 141."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T00:00:00Z"
RECORD = "seeds/000_d61a9c0cd27bc914.txt"


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "feeds").mkdir()
    return tmp_path


def into_closed_pipe(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command with standard output a pipe whose reading end is already closed,
    as after `| head -1` has read its line and gone."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "topicfeeds", *args],
            cwd=cwd,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "--now", NOW, RECORD],
        ["build", "--now", NOW],
        ["build", "--json", "--now", NOW],
    ],
)
def test_output_to_a_closed_pipe_ends_quietly_with_status_141(shipped: Path, args: list[str]) -> None:
    result = into_closed_pipe(shipped, *args)
    assert (result.returncode, result.stderr) == (141, "")


def test_help_into_a_closed_pipe_is_quiet(shipped: Path) -> None:
    # argparse swallows the error of a write that fills the buffer: it may end with 0.
    result = into_closed_pipe(shipped, "--help")
    assert (result.returncode in (0, 141), result.stderr) == (True, "")


def test_build_into_a_closed_pipe_still_publishes(shipped: Path) -> None:
    assert into_closed_pipe(shipped, "build", "--now", NOW).returncode == 141
    assert len(list((shipped / "feeds").glob("*.atom"))) == 6


def test_explain_piped_to_head(shipped: Path) -> None:
    command = f'"{sys.executable}" -m topicfeeds explain --now {NOW} {RECORD}'
    script = f'{command} | head -1; echo "${{PIPESTATUS[0]}}"'
    result = subprocess.run(
        ["bash", "-c", script], cwd=shipped, capture_output=True, text=True, check=False, timeout=120
    )
    first, status = result.stdout.splitlines()
    assert first == f"{RECORD}: Schools suspend use of facial recognition after backlash"
    assert status in ("0", "141")  # 0 when head read everything before it closed the pipe
    assert result.stderr == ""
