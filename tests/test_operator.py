"""What an operator meets running the installed command: a dry run that previews the
run it stands for, one JSON object from every `build --json`, an output folder a web
server can read whatever the umask, the `topics` listing, and `explain` of several
records."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from topicfeeds import load_config
from topicfeeds.pipeline import refresh
from topicfeeds.pipeline import run as pipeline
from topicfeeds.pipeline.explanations import Explanation, explain_each
from topicfeeds.runtime.lock import exclusive

from .conftest import BASE_CONFIG, make_config, require_program, write_record

COMMAND = Path(sys.executable).with_name("topicfeeds")  # the entry point pip installed
NOW = "2026-11-28T00:00:00Z"
NOW_TIME = datetime(2026, 11, 28, tzinfo=timezone.utc)
BAD = "---\ntitle: [\n---\n"  # not YAML: rejected


def topicfeeds(root: Path, *args: str, umask: int = -1) -> subprocess.CompletedProcess[str]:
    """The installed command run in `root`, as an operator or cron runs it."""
    assert COMMAND.is_file(), f"{COMMAND}: not installed (pip install -e '.[test]')"
    return subprocess.run(
        [str(COMMAND), *args], cwd=root, capture_output=True, text=True, check=False, timeout=120, umask=umask
    )


def story(seeds: Path, n: int, **fields: object) -> None:
    url = f"https://news.example/{n}"
    write_record(seeds, f"{n:02}.txt", title=f"Story {n}", webUrl=url, originalUrl=url, **fields)


# -- build --dry-run previews the run it stands for


def test_a_dry_run_reports_the_rejections_the_real_run_then_reports(project: Path) -> None:
    seeds = project / "seeds"
    story(seeds, 1)
    (seeds / "101_bad.txt").write_text(BAD, encoding="utf-8")
    assert len(pipeline.build(load_config(project / "config.yaml"), NOW_TIME).errors) == 1
    (seeds / "101_bad.txt").unlink()  # fixed by removing it
    (seeds / "102_bad.txt").write_text(BAD, encoding="utf-8")  # and a new one came

    dry = topicfeeds(project, "build", "--dry-run", "--json", "--now", NOW)
    real = topicfeeds(project, "build", "--json", "--now", NOW)

    assert (dry.returncode, dry.stderr) == (real.returncode, real.stderr)
    assert real.returncode == 1
    assert real.stderr.startswith("error: seeds/102_bad.txt:") and "101_bad" not in real.stderr
    previewed, done = json.loads(dry.stdout), json.loads(real.stdout)
    for key in ("status", "record_files", "records", "read", "rejected", "warnings", "removed"):
        assert previewed[key] == done[key], key
    assert done["rejected"] == [line.removeprefix("error: ") for line in real.stderr.splitlines()]


# -- build --json: one object, whatever the status


def refusal(result: subprocess.CompletedProcess[str], status: int) -> dict[str, object]:
    """The JSON a refused run printed, checked against its status and standard error."""
    assert result.returncode == status, result.stderr
    shown = json.loads(result.stdout)
    assert shown["status"] == status
    errors = [
        line.removeprefix("error: ") for line in result.stderr.splitlines() if line.startswith("error:")
    ]
    assert shown["errors"] == errors and errors
    assert shown["error"] == errors[0]
    assert shown["warnings"] == []
    return dict(shown)


@pytest.fixture
def built(project: Path) -> dict[str, object]:
    """`project` with 12 records, built once; the keys of a successful run's JSON."""
    for n in range(12):
        story(project / "seeds", n)
    result = topicfeeds(project, "build", "--json", "--now", NOW)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_build_json_speaks_when_a_lock_refuses_the_run(project: Path, built: dict[str, object]) -> None:
    config = load_config(project / "config.yaml")
    lock = pipeline.lock_path(config)
    assert lock is not None
    with exclusive(lock):
        shown = refusal(topicfeeds(project, "build", "--json", "--now", NOW), 3)
    assert "another topicfeeds run is in progress" in str(shown["error"])
    assert shown.keys() >= built.keys()  # every key a monitor reads, zero or empty
    assert (shown["written"], shown["records"], shown["no_changes"]) == ([], 0, True)


def test_build_json_speaks_when_the_removal_guard_refuses_the_run(
    project: Path, built: dict[str, object]
) -> None:
    shutil.rmtree(project / "seeds")
    (project / "seeds").mkdir()  # a share that did not mount

    shown = refusal(topicfeeds(project, "build", "--json", "--now", NOW), 5)

    assert "12 of the 12 records" in str(shown["error"])
    assert shown.keys() >= built.keys()
    assert (built["error"], built["errors"]) == (None, [])  # a run that went ahead: no refusal


def test_build_json_speaks_on_configuration_and_usage_errors(project: Path) -> None:
    (project / "config.yaml").write_text(BASE_CONFIG.replace("language: en", "language: 7\n  colour: red"))
    shown = refusal(topicfeeds(project, "build", "--json", "--now", NOW), 2)
    assert len(shown["errors"]) == 2  # type: ignore[arg-type]  # every problem, each its own line

    make_config(project)
    refusal(topicfeeds(project, "build", "--json", "--jobs", "0"), 2)
    refusal(topicfeeds(project, "build", "--json", "--now", "yesterday"), 2)
    usage = topicfeeds(project, "build", "--json", "--no-such-option")
    assert usage.returncode == 2
    assert usage.stderr.endswith("topicfeeds: error: unrecognized arguments: --no-such-option\n")
    assert json.loads(usage.stdout)["errors"] == ["unrecognized arguments: --no-such-option"]
    assert topicfeeds(project, "build", "--no-such-option").stdout == ""  # without --json, as before


# -- the output folder is readable whatever the umask


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A project folder every user may enter (pytest's own temporary folders are the
    owner's alone), for a run as an unprivileged user."""
    folder = Path(tempfile.mkdtemp(prefix="topicfeeds-umask-"))
    folder.chmod(0o755)
    try:
        make_config(folder)
        (folder / "feeds").rmdir()  # the build makes it
        yield folder
    finally:
        shutil.rmtree(folder)


def test_the_output_folder_a_build_makes_under_umask_077_is_readable_by_the_web_server(
    open_folder: Path,
) -> None:
    setpriv = require_program("setpriv")
    story(open_folder / "seeds", 1)

    result = topicfeeds(open_folder, "build", "-q", "--now", NOW, umask=0o077)

    assert result.returncode == 0, result.stderr
    feeds = open_folder / "feeds"
    assert stat.S_IMODE(feeds.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in feeds.iterdir()} == {0o644}
    nobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    read = subprocess.run([*nobody, "cat", str(feeds / "energy.atom")], capture_output=True, check=False)
    assert (read.returncode, read.stderr) == (0, b"")
    assert b"Story 1" in read.stdout
    listed = subprocess.run([*nobody, "ls", str(feeds)], capture_output=True, text=True, check=False)
    assert "energy.atom" in listed.stdout.split()


# -- explain takes several records


def test_explain_explains_each_record_in_turn_and_exits_1_if_one_cannot_be_read(project: Path) -> None:
    seeds = project / "seeds"
    story(seeds, 1)
    story(seeds, 2, topics=["Space"])
    (project / "draft.txt").write_text(BAD, encoding="utf-8")
    pipeline.build(load_config(project / "config.yaml"), NOW_TIME)

    both = topicfeeds(project, "explain", "--now", NOW, "seeds/01.txt", "seeds/02.txt")
    assert (both.returncode, both.stderr) == (0, "")
    assert both.stdout == (
        "seeds/01.txt: Story 1\n"
        "  id https://news.example/1\n"
        "  energy  selected: entry 1 of 1\n"
        "\n"
        "seeds/02.txt: Story 2\n"
        "  id https://news.example/2\n"
        "  energy  excluded by topics: Space not among energy\n"
    )
    alone = topicfeeds(project, "explain", "--now", NOW, "seeds/02.txt")
    assert alone.stdout == both.stdout.split("\n\n")[1]  # as each alone

    some = topicfeeds(
        project, "explain", "--now", NOW, "seeds/01.txt", "draft.txt", "gone.txt", "seeds/02.txt"
    )
    assert some.returncode == 1
    assert some.stdout == both.stdout  # the others explained all the same
    draft, gone = some.stderr.splitlines()
    assert draft.startswith("error: draft.txt:")
    assert gone == "error: gone.txt: cannot read: No such file or directory"


def test_explaining_several_records_reads_the_records_and_the_state_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        story(project / "seeds", n)
    config = load_config(project / "config.yaml")
    pipeline.build(config)
    scans = []
    changes = refresh.changes
    monkeypatch.setattr(refresh, "changes", lambda *args: scans.append(args) or changes(*args))

    found = explain_each(config, [project / "seeds" / f"{n:02}.txt" for n in range(3)])

    assert [e.record.title for e in found if isinstance(e, Explanation)] == [
        "Story 0",
        "Story 1",
        "Story 2",
    ]
    assert len(scans) == 1


# -- topics: what the last build published

TOPICS_CONFIG = (
    BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true")
    + """\
  space:
    title: Space and satellites
    description: Launches.
    match: [Space]
    formats: [atom, html]
  quiet:
    title: Quiet
    description: Nothing yet.
    match: [Gardening]
"""
)


def test_topics_lists_each_topic_with_its_entries_newest_entry_and_feeds(project: Path) -> None:
    make_config(project, TOPICS_CONFIG)
    seeds = project / "seeds"
    story(seeds, 1, publishedDateTime="2026-11-20T08:00:00Z")
    story(seeds, 2, publishedDateTime="2026-11-21T09:30:00+02:00")
    story(seeds, 3, topics=["Space"], publishedDateTime="2026-11-22T10:00:00Z")
    story(seeds, 4, topics=["Climate"])
    never = topicfeeds(project, "topics")
    assert (never.returncode, never.stdout) == (2, "")
    assert never.stderr.endswith(
        ".topicfeeds-state.sqlite: no build has finished yet; run topicfeeds build first\n"
    )
    refused = topicfeeds(project, "topics", "--json")
    assert json.loads(refused.stdout) == {
        "status": 2, "error": never.stderr[7:-1], "errors": [never.stderr[7:-1]], "topics": []
    }  # fmt: skip

    config = load_config(project / "config.yaml")
    pipeline.build(config, NOW_TIME)
    table = topicfeeds(project, "topics")

    assert (table.returncode, table.stderr) == (0, "")
    state = sorted(p.name for p in project.glob(".topicfeeds-state*"))
    assert state == [".topicfeeds-state.sqlite", ".topicfeeds-state.sqlite.lock"]  # looked at, left as it was
    base = "https://news.example/feeds/"
    assert table.stdout.splitlines() == [
        "SLUG     TITLE                 ENTRIES  NEWEST                FEEDS",
        f"energy   Energy                      2  2026-11-21T07:30:00Z  {base}energy.atom .rss .json .html",
        f"space    Space and satellites        1  2026-11-22T10:00:00Z  {base}space.atom .html",
        f"quiet    Quiet                       0  -                     {base}quiet.atom .rss .json .html",
        f"climate  Climate                     1  2026-11-20T08:00:00Z  {base}climate.atom .rss .json .html",
    ]
    listed = topicfeeds(project, "topics", "--json")
    assert listed.returncode == 0
    shown = json.loads(listed.stdout)
    assert (shown["status"], shown["warnings"]) == (0, [])
    assert shown["topics"][1] == {
        "slug": "space",
        "title": "Space and satellites",
        "entries": 1,
        "newest": "2026-11-22T10:00:00Z",
        "feeds": {"atom": f"{base}space.atom", "html": f"{base}space.html"},
    }
    assert [(t["slug"], t["entries"], t["newest"]) for t in shown["topics"]][2:] == [
        ("quiet", 0, None),
        ("climate", 1, "2026-11-20T08:00:00Z"),
    ]

    lock = pipeline.lock_path(config)
    assert lock is not None
    with exclusive(lock):  # a run under way: the listing does not wait for it
        assert topicfeeds(project, "topics").stdout == table.stdout

    make_config(
        project, TOPICS_CONFIG + "  later:\n    title: Later\n    description: New.\n    match: [AI]\n"
    )
    changed = topicfeeds(project, "topics")
    assert changed.returncode == 0
    assert changed.stderr == (
        "warning: config.yaml: the configuration or the program changed since the last build; "
        "its counts are shown\n"
    )
    assert changed.stdout.splitlines()[4].split()[:4] == ["later", "Later", "-", "-"]  # not built yet
