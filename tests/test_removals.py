"""Removing published files no longer made: the decision on in-memory stamps, and runs
against a real output folder (the bucket's are in test_bucket.py)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from topicfeeds.cli import main
from topicfeeds.core import removals
from topicfeeds.core.removals import RemovalPlan
from topicfeeds.formats.common import SUFFIXES

from .conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T00:00:00Z"
SPACE_FILES = ["space.atom", "space.html", "space.json", "space.rss"]


def plan_removals(*args: Any, **kwargs: Any) -> RemovalPlan:
    """The decision, given the suffixes the formats name topics' files with."""
    return removals.plan_removals(*args, suffixes=SUFFIXES.values(), **kwargs)


PUBLISHED = {"a.atom": (10, 1), "a.rss": (11, 2), "old.atom": (12, 3), "old.rss": (13, 4), "x.html": (5, 5)}


def test_only_files_no_longer_made_and_as_left_are_removed_and_only_when_asked() -> None:
    made = {"a.atom", "a.rss"}
    present = {"old.atom": (12, 3), "old.rss": (13, 99), "x.html": None}  # replaced; gone
    assert plan_removals(PUBLISHED, present, made, (), delete=False, max_deletes=256) == RemovalPlan(
        (), ("old.atom",), ("old.rss", "x.html")
    )
    assert plan_removals(PUBLISHED, present, made, (), delete=True, max_deletes=256) == RemovalPlan(
        ("old.atom",), (), ("old.rss", "x.html")
    )


def test_retired_topics_files_go_without_delete_and_the_cap_holds_every_removal_back() -> None:
    present = {"old.atom": (12, 3), "old.rss": (13, 4), "x.html": (5, 5)}
    plan = plan_removals(PUBLISHED, present, {"a.atom", "a.rss"}, ("old",), delete=False, max_deletes=256)
    assert plan == RemovalPlan(("old.atom", "old.rss"), ("x.html",), ())
    capped = plan_removals(PUBLISHED, present, {"a.atom", "a.rss"}, ("old",), delete=True, max_deletes=2)
    assert capped.remove == ()
    assert capped.kept == ("old.atom", "old.rss", "x.html")
    assert capped.refused == "3 files to remove, more than max_deletes (2); none was removed"
    exact = plan_removals(PUBLISHED, present, {"a.atom", "a.rss"}, ("old",), delete=True, max_deletes=3)
    assert exact.remove == ("old.atom", "old.rss", "x.html") and exact.refused is None


def test_a_retired_slug_takes_only_its_own_feed_and_page_names() -> None:
    published = {"old.atom": (1, 1), "old.opml": (1, 1), "old-story.atom": (1, 1), "old.css": (1, 1)}
    plan = plan_removals(published, dict(published), (), ("old",), delete=False, max_deletes=256)
    assert plan.remove == ("old.atom",)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_racy_window: None) -> Path:
    """The shipped config and seeds, without automatic topics, built once."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "feeds").mkdir()
    config = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("auto: true", "auto: false", 1)
    config.write_text(text, encoding="utf-8")
    assert run(config, "-q") == 0
    return config


def run(config: Path, *extra: str) -> int:
    return main(["build", "-c", str(config), "--now", NOW, "-j", "1", *extra])


def without_space_topic(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.split("\n  space:\n", 1)[0] + "\n", encoding="utf-8")


def test_a_removed_topic_s_files_leave_a_folder_only_when_asked_and_within_the_cap(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = site.parent / "feeds"
    (feeds / "space.png").write_bytes(b"not ours")
    (feeds / "notes").mkdir()
    (feeds / "notes" / "space.atom").write_text("not ours either", encoding="utf-8")
    without_space_topic(site)
    before = sorted(p.name for p in feeds.iterdir())
    assert set(SPACE_FILES) <= set(before)

    assert run(site, "-q") == 0  # by default nothing goes
    assert sorted(p.name for p in feeds.iterdir()) == before
    capsys.readouterr()

    assert run(site, "--dry-run", "--delete") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [f"would remove {feeds / n}" for n in SPACE_FILES]
    assert sorted(p.name for p in feeds.iterdir()) == before

    assert run(site, "--delete", "--max-deletes", "2", "--json") == 5
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["status"] == 5 and summary["removed"] == []
    assert summary["removals_refused"] == "4 files to remove, more than max_deletes (2); none was removed"
    assert "raise max_deletes (--max-deletes)" in captured.err
    assert sorted(p.name for p in feeds.iterdir()) == before

    site.write_text(site.read_text(encoding="utf-8") + "delete: true\nmax_deletes: 4\n", encoding="utf-8")
    assert run(site) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [f"removed {feeds / n}" for n in SPACE_FILES]
    assert sorted(p.name for p in feeds.iterdir()) == sorted(set(before) - set(SPACE_FILES))
    assert (feeds / "space.png").read_bytes() == b"not ours"
    assert (feeds / "notes" / "space.atom").exists()
    assert run(site) == 0
    assert "no changes" in capsys.readouterr().out


def test_files_left_by_an_earlier_run_go_when_deletions_are_turned_on_later(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = site.parent / "feeds"
    without_space_topic(site)
    assert run(site, "-q") == 0
    assert run(site, "-q") == 0  # nothing to do: the files stay
    assert (feeds / "space.atom").exists()
    (feeds / "space.rss").write_text("edited by hand", encoding="utf-8")  # no longer ours
    (feeds / "space.json").unlink()
    capsys.readouterr()
    assert run(site, "--delete", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["removed"] == [str(feeds / "space.atom"), str(feeds / "space.html")]
    assert (feeds / "space.rss").read_text(encoding="utf-8") == "edited by hand"


def test_a_file_that_cannot_be_removed_is_status_4_and_retried(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = site.parent / "feeds"
    without_space_topic(site)
    with _unremovable(feeds, feeds / "space.atom"):
        assert run(site, "-q", "--delete") == 4
        err = capsys.readouterr().err
        assert f"{feeds / 'space.atom'}: cannot remove: " in err
    assert run(site, "-q", "--delete") == 0
    assert not (feeds / "space.atom").exists()


@contextlib.contextmanager
def _unremovable(folder: Path, file: Path) -> Iterator[None]:
    """Make `file` impossible to remove: a read-only folder, or for root (whom folder
    modes do not stop) the file's immutable attribute."""
    folder.chmod(0o555)
    immutable = False
    try:
        if _writable(folder):
            folder.chmod(0o755)
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", str(file)], check=False).returncode != 0:
                pytest.skip("no way to make a file unremovable here: root, and no immutable attribute")
            immutable = True
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(file)], check=True)
        folder.chmod(0o755)


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").write_bytes(b"")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True
