"""The whole job, through the library and through the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest

from topicfeeds import build, load_config
from topicfeeds.cli import main
from topicfeeds.pipeline import publish, rebuild
from topicfeeds.runtime import workers

from .conftest import SEEDS, write_record

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T00:00:00Z"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "topicfeeds", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def feed_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*")) if p.suffix in (".atom", ".rss")}


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped config and seeds, with an empty feeds/ folder."""
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "feeds").mkdir()
    return tmp_path


def test_shipped_seeds_build_valid_feeds_for_every_topic(shipped: Path) -> None:
    result = run_cli("build", "--now", NOW, cwd=shipped)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        "topicfeeds: 28 files: 28 written, 0 unchanged; 15 record files, 15 read, 0 rejected\n"
    )
    files = feed_files(shipped / "feeds")
    assert set(files) == {
        f"{slug}.{ext}"
        for slug in ("ai", "computer-vision", "climate", "security", "space", "robotics")
        for ext in ("atom", "rss")
    }
    secrets = [
        line.split('"')[1]
        for p in SEEDS.iterdir()
        for line in p.read_text().splitlines()
        if line.startswith("secured:")
    ]
    assert len(secrets) == 15
    for name, data in files.items():
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        assert parsed.entries, name
        for secret in secrets:
            assert secret[:16].encode() not in data
    for path in (shipped / "feeds").iterdir():  # pages, JSON feeds and the OPML file too
        data = path.read_bytes()
        assert not [secret for secret in secrets if secret[:16].encode() in data], path.name
    vision = feedparser.parse(files["computer-vision.atom"])
    schools = [e for e in vision.entries if e.title.startswith("Schools suspend")]
    assert schools, "the unpublished newsroom record belongs in the 'published: any' topic"


def test_second_run_is_byte_identical_and_rewrites_nothing(shipped: Path) -> None:
    # Files changed less than 2 s before a run are hashed again by the next one (their
    # stat may not show a change within the same tick); cron meets files older than that.
    newest = max(p.stat().st_ctime for p in (shipped / "seeds").iterdir())
    time.sleep(max(0.0, newest + 2.1 - time.time()))
    assert run_cli("build", "--now", NOW, cwd=shipped).returncode == 0
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (shipped / "feeds").iterdir()}
    second = run_cli("build", "--now", NOW, cwd=shipped)
    assert second.returncode == 0
    assert second.stdout.startswith("topicfeeds: no changes;")
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (shipped / "feeds").iterdir()}
    assert after == before


def test_same_input_in_another_folder_gives_the_same_bytes(shipped: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path_factory.mktemp("other")
    shutil.copytree(shipped, other, dirs_exist_ok=True)
    for folder in (shipped, other):
        assert run_cli("build", "--now", NOW, cwd=folder).returncode == 0
    assert feed_files(shipped / "feeds") == feed_files(other / "feeds")


def test_bad_records_are_named_and_good_ones_published(shipped: Path) -> None:
    (shipped / "seeds" / "bad-date.txt").write_text(
        "---\ntitle: A\nwebUrl: https://a.example/x\npublishedDateTime: yesterday\n---\n", encoding="utf-8"
    )
    (shipped / "seeds" / "broken.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    result = run_cli("build", "-q", "--now", NOW, cwd=shipped)
    assert result.returncode == 1
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors[0] == "error: seeds/bad-date.txt:4: publishedDateTime: cannot read 'yesterday' as a date"
    assert errors[1].startswith("error: seeds/broken.md:3: invalid YAML: ")  # wording is libyaml's
    assert len(errors) == 2
    assert len(feed_files(shipped / "feeds")) == 12


def test_a_topic_that_selects_nothing_gets_valid_empty_feeds(project: Path) -> None:
    write_record(project / "seeds", "a.txt", topics=["Space"])
    assert main(["build", "-q", "-c", str(project / "config.yaml"), "--now", NOW]) == 0
    for name in ("energy.atom", "energy.rss"):
        parsed = feedparser.parse((project / "feeds" / name).read_bytes())
        assert parsed.bozo == 0
        assert parsed.entries == []


def test_config_errors_exit_2_and_write_nothing(shipped: Path) -> None:
    config = shipped / "config.yaml"
    config.write_text(config.read_text().replace("sort: quality", "sort: best"), encoding="utf-8")
    result = run_cli("build", cwd=shipped)
    assert result.returncode == 2
    assert "config.yaml:" in result.stderr and "sort: 'best' is not one of" in result.stderr
    assert list((shipped / "feeds").iterdir()) == []


def test_missing_output_folder_is_created_when_its_parent_exists(shipped: Path) -> None:
    (shipped / "feeds").rmdir()
    result = run_cli("build", "--now", NOW, cwd=shipped)
    assert result.returncode == 0, result.stderr
    assert (shipped / "feeds" / "index.html").is_file()


def test_output_folder_without_a_parent_exits_2(shipped: Path) -> None:
    config = shipped / "config.yaml"
    config.write_text(config.read_text().replace("output: feeds", "output: gone/feeds"), encoding="utf-8")
    result = run_cli("build", cwd=shipped)
    assert result.returncode == 2
    assert "output folder does not exist; nor does its parent folder" in result.stderr


def test_usage_error_exits_2(shipped: Path) -> None:
    assert run_cli("frobnicate", cwd=shipped).returncode == 2
    assert run_cli("build", "--now", "soon", cwd=shipped).returncode == 2


def test_runs_from_any_working_directory(shipped: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path_factory.mktemp("cwd")
    result = run_cli("build", "-c", str(shipped / "config.yaml"), "--now", NOW, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert len(feed_files(shipped / "feeds")) == 12
    assert list(elsewhere.iterdir()) == []


def test_a_write_failure_exits_4_and_keeps_old_feeds(shipped: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(shipped / "config.yaml")
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    build(config, now)
    before = feed_files(shipped / "feeds")
    (shipped / "seeds" / "001_e099a5ca83ba8dbc.txt").unlink()  # so every feed would change

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    code = main(["build", "-c", str(shipped / "config.yaml"), "--now", NOW])
    assert code == 4
    assert feed_files(shipped / "feeds") == before


def test_explain_says_why_for_every_topic(shipped: Path) -> None:
    result = run_cli("explain", "seeds/000_d61a9c0cd27bc914.txt", "--now", NOW, cwd=shipped)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "seeds/000_d61a9c0cd27bc914.txt: Schools suspend use of facial recognition after backlash"
    )
    verdicts = {line.split()[0]: line.split(None, 1)[1] for line in lines[2:]}
    assert verdicts["ai"] == "excluded by published: the record says published: false"
    assert verdicts["computer-vision"] == "selected: entry 3 of 3"
    assert verdicts["climate"].startswith("excluded by topics: Computer Vision, AI not among")


def test_python_m_and_version(shipped: Path) -> None:
    result = run_cli("--version", cwd=shipped)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("topicfeeds ")


def test_feeds_made_in_parallel_are_those_made_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Topics chosen a batch at a time, their files made by worker processes: the same
    files, byte for byte, as one process makes, archive pages and site files included."""
    matches = ["AI", "Computer Vision", "Climate", "Cybersecurity", "Space", "Robotics"]
    topics = "".join(
        f"  t{n}-{variant}:\n    title: T{n} {variant}\n    match: [{match}]\n    {rules}\n"
        for n, match in enumerate(matches)
        for variant, rules in (
            ("new", "limit: 3"),
            ("best", "sort: quality\n    limit: 2\n    archive: true"),
        )
    )
    text = (
        (ROOT / "config.yaml")
        .read_text(encoding="utf-8")
        .split("\ntopics:\n")[0]
        .replace("auto: true", "auto: false")
    )
    text += (
        "\ntopics:\n"
        + topics
        + "  everything:\n    title: Everything\n    match: ['*']\n    related: entries\n"
    )
    monkeypatch.setattr(rebuild, "RENDER_BATCH", 5)  # three batches of chosen topics
    monkeypatch.setattr(publish, "RENDER_PARALLEL_MIN", 2)
    pools = 0
    pool = workers._Pool.__init__

    def counted(self: workers._Pool, *args: Any) -> None:
        nonlocal pools
        pools += 1
        pool(self, *args)

    monkeypatch.setattr(workers._Pool, "__init__", counted)
    made = {}
    for jobs in (1, 2):
        site = tmp_path / f"jobs-{jobs}"
        shutil.copytree(SEEDS, site / "seeds")
        (site / "config.yaml").write_text(text, encoding="utf-8")
        report = build(load_config(site / "config.yaml"), datetime(2026, 11, 28, tzinfo=timezone.utc), jobs)
        assert not report.errors and not report.failures
        made[jobs] = {p.name: p.read_bytes() for p in sorted((site / "feeds").iterdir())}
    assert pools == 3  # every batch made by workers when there are two jobs
    assert len(made[1]) > 13 * 4
    assert made[2] == made[1]


AUTO_SITE = """\
site:
  title: T
  link: https://news.example/
  base_url: https://news.example/feeds/
auto: true
"""


def feed_titles(folder: Path) -> dict[str, str]:
    """The title of every Atom feed in `folder`, by file name."""
    return {p.name: feedparser.parse(p.read_bytes()).feed.title for p in sorted(folder.glob("*.atom"))}


def test_an_automatic_topic_s_feed_never_becomes_another_topic(tmp_path: Path) -> None:
    """With only C++ records, C++ has a feed; a C# record arriving gives C# its own,
    and every file keeps the topic it had, as a run without state would publish."""
    root = tmp_path / "site"
    (root / "seeds").mkdir(parents=True)
    (root / "config.yaml").write_text(AUTO_SITE, encoding="utf-8")
    write_record(root / "seeds", "cpp.txt", title="Templates", webUrl="https://news.example/cpp",
                 originalUrl=..., topics=["C++"])  # fmt: skip
    assert run_cli("build", "-q", "--now", NOW, cwd=root).returncode == 0
    first = feed_titles(root / "feeds")
    assert list(first.values()) == ["T: C++"]

    write_record(root / "seeds", "cs.txt", title="Records", webUrl="https://news.example/cs",
                 originalUrl=..., topics=["C#"])  # fmt: skip
    result = run_cli("build", "-q", "--now", NOW, cwd=root)
    assert (result.returncode, result.stderr) == (0, "")
    second = feed_titles(root / "feeds")
    assert {name: second[name] for name in first} == first
    assert sorted(second.values()) == ["T: C#", "T: C++"]
    assert "c.atom" not in second  # "c" is the topic C's, should one come

    cold = tmp_path / "cold"
    shutil.copytree(root / "seeds", cold / "seeds")
    shutil.copy(root / "config.yaml", cold / "config.yaml")
    assert run_cli("build", "-q", "--now", NOW, cwd=cold).returncode == 0
    assert feed_titles(cold / "feeds") == second


def test_a_topic_named_index_never_takes_the_site_index(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "seeds").mkdir(parents=True)
    config = root / "config.yaml"
    config.write_text(AUTO_SITE + "topics:\n  index:\n    title: Index\n", encoding="utf-8")
    result = run_cli("build", "-q", "--now", NOW, cwd=root)
    assert (result.returncode, result.stderr) == (
        2, "error: config.yaml:7: topics.index: 'index' is reserved: the site writes index.html itself; "
        "try 'index-topic'\n",
    )  # fmt: skip
    assert not (root / "feeds").exists()

    # From a record topic: a page and feeds of its own, and the index stays the site's.
    config.write_text(AUTO_SITE, encoding="utf-8")
    write_record(root / "seeds", "a.txt", title="Indexes", webUrl="https://news.example/a", originalUrl=...,
                 topics=["Index", "Energy"])  # fmt: skip
    assert run_cli("build", "-q", "--now", NOW, cwd=root).returncode == 0
    titles = feed_titles(root / "feeds")
    assert sorted(titles.values()) == ["T: Energy", "T: Index"]
    assert "index.atom" not in titles
    page = (root / "feeds" / "index.html").read_text(encoding="utf-8")
    assert "<title>T: topics</title>" in page
    (index_feed,) = (name for name, title in titles.items() if title == "T: Index")
    assert f'href="{index_feed}"' in page
    assert (root / "feeds" / index_feed.replace(".atom", ".html")).exists()
    again = run_cli("build", "--now", NOW, cwd=root)
    # Not the index page twice a run (the record, still as it was, is not even read again).
    assert " 0 written, " in again.stdout or "no changes" in again.stdout, again.stdout
