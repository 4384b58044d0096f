"""A run that would empty the feeds because the records folder vanished changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from topicfeeds.cli import main
from topicfeeds.core.guard import removal_guard, settled_runs, subfolder_note

from .conftest import BASE_CONFIG, make_config, write_record

NOW = "2026-11-28T00:00:00Z"


def test_the_guard_refuses_only_large_shares_of_many_records() -> None:
    assert removal_guard(known=100, gone=51, share=0.5, minimum=10) is not None
    assert removal_guard(known=100, gone=50, share=0.5, minimum=10) is None
    assert removal_guard(known=9, gone=9, share=0.5, minimum=10) is None  # a tiny folder
    assert removal_guard(known=10, gone=10, share=0.5, minimum=10) is not None
    assert removal_guard(known=100, gone=100, share=1.0, minimum=10) is None  # switched off
    assert removal_guard(known=0, gone=0, share=0.5, minimum=0) is None
    assert removal_guard(known=15, gone=15, share=0.5, minimum=10) == (
        "15 of the 15 records the feeds were built from are gone (more than 50%)"
    )


def test_records_added_since_the_settled_run_and_withdrawn_do_not_count() -> None:
    # 12 settled, 20 added since, those 20 withdrawn: 20 of 32 gone, none of the settled ones.
    assert removal_guard(known=32, gone=20, share=0.5, minimum=10) is not None
    assert removal_guard(known=32, gone=20, share=0.5, minimum=10, settled=12) is None
    # The folder vanished: the settled records went with it.
    assert removal_guard(known=32, gone=32, share=0.5, minimum=10, settled=12) is not None
    assert removal_guard(known=12, gone=12, share=0.5, minimum=10, settled=12) == (
        "12 of the 12 records the feeds were built from are gone (more than 50%)"
    )
    # Half the settled ones withdrawn along with the new ones: no more than `share` of them.
    assert removal_guard(known=32, gone=26, share=0.5, minimum=10, settled=12) is None
    assert removal_guard(known=100, gone=60, share=0.5, minimum=10, settled=100) is not None
    # Fewer than `minimum` below the settled count: a small folder may still be emptied.
    assert removal_guard(known=40, gone=39, share=0.5, minimum=10, settled=9) is None
    # Never stricter than without a settled count (records went between earlier runs).
    assert removal_guard(known=60, gone=15, share=0.5, minimum=10, settled=100) is None


def test_the_settled_run_is_the_last_one_at_least_the_window_old() -> None:
    runs = ((0.0, 10), (100.0, 30), (590.0, 40), (700.0, 12))
    assert settled_runs(runs, now=650.0, window=600.0) == runs  # only the first is 600 s old
    assert settled_runs(runs, now=750.0, window=600.0) == runs[1:]
    assert settled_runs(runs, now=1250.0, window=600.0) == runs[2:]
    assert settled_runs(runs, now=10_000.0, window=600.0) == runs[3:]  # the last run is kept
    assert settled_runs((), now=5.0, window=600.0) == ()
    young = ((1.0, 5), (2.0, 50))
    assert settled_runs(young, now=3.0, window=600.0) == young  # the watch's first run stands in


def populated(project: Path, n: int = 20) -> None:
    for i in range(n):
        url = f"https://n.example/{i}"
        write_record(project / "seeds", f"{i:02}.txt", title=f"Story {i}", webUrl=url, originalUrl=url)


def cli(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        code = main(["build", "-q", "--now", NOW, *args])
    return code, capsys.readouterr().err.splitlines()


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in [*(root / "feeds").iterdir(), root / ".topicfeeds-state.sqlite"]
    }


def test_an_emptied_records_folder_changes_nothing_until_confirmed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populated(project)
    assert cli(project, capsys) == (0, [])
    before = snapshot(project)
    shutil.rmtree(project / "seeds")
    (project / "seeds").mkdir()  # a share that did not mount

    assert cli(project, capsys) == (
        5,
        [
            "error: seeds: 20 of the 20 records the feeds were built from are gone (more than 50%); "
            "nothing was changed; run with --allow-removals if that is intended"
        ],
    )
    assert cli(project, capsys)[0] == 5  # on every run
    assert snapshot(project) == before

    populated(project, 3)  # some came back: still most are gone
    assert cli(project, capsys)[0] == 5
    populated(project)  # all came back
    assert cli(project, capsys) == (0, [])
    assert b"Story 19" in (project / "feeds" / "energy.atom").read_bytes()

    shutil.rmtree(project / "seeds")
    (project / "seeds").mkdir()
    assert cli(project, capsys, "--allow-removals") == (0, [])
    assert b"<entry>" not in (project / "feeds" / "energy.atom").read_bytes()
    assert cli(project, capsys) == (0, [])  # the state agrees now


def test_present_but_unreadable_records_are_not_removals(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populated(project)
    assert cli(project, capsys) == (0, [])
    for path in (project / "seeds").iterdir():
        path.write_bytes(b"---\ntitle: [\n---\n")

    code, err = cli(project, capsys)

    assert code == 1
    assert len(err) == 20 and all(line.startswith("error: seeds/") for line in err)


def test_the_share_and_the_minimum_are_configurable(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_config(project, BASE_CONFIG + "guard_removals: 0.2\nguard_min_removals: 2\n")
    populated(project, 5)
    assert cli(project, capsys) == (0, [])
    for name in ("00.txt", "01.txt"):
        (project / "seeds" / name).unlink()
    assert cli(project, capsys)[0] == 5


def test_a_records_folder_with_only_subfolders_gets_a_warning(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nested = project / "seeds" / "2026" / "11"
    nested.mkdir(parents=True)
    write_record(nested, "a.txt")

    assert cli(project, capsys) == (
        0,
        ["warning: seeds: no record files, but 1 subfolder (2026); records in subfolders are not read"],
    )


def test_no_subfolder_warning_when_the_patterns_read_subfolders(project: Path) -> None:
    # `**/*.txt` reads the subfolders: that none of their files matched is no sign they are skipped.
    make_config(project, BASE_CONFIG + 'patterns: ["**/*.txt"]\n')
    nested = project / "seeds" / "2026" / "11"
    nested.mkdir(parents=True)
    (nested / "a.json").write_text("{}\n", encoding="utf-8")

    command = [sys.executable, "-m", "topicfeeds", "build", "-c", str(project / "config.yaml"), "--now", NOW]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_subfolder_names_are_shown_on_one_line() -> None:
    assert subfolder_note(0, ["b", "a\nz", os.fsdecode(b"caf\xe9")]) == (
        "no record files, but 3 subfolders (a\\nz, b, caf\\xe9); records in subfolders are not read"
    )
    assert subfolder_note(1, ["a"]) is None
    assert subfolder_note(0, []) is None
