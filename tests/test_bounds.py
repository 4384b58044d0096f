"""What one record can cost: rendering linear in what an entry carries, automatic
topics bounded, and feeds of automatic topics retired on purpose."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from topicfeeds.cli import main
from topicfeeds.config import Rules, Topic, topic_slug
from topicfeeds.core.model import Image, entry_of
from topicfeeds.core.topics import plan_topics, record_topic_names, too_many_topics
from topicfeeds.errors import ConfigError
from topicfeeds.formats.feedgen import render

from .conftest import BASE_CONFIG, SEEDS, make_config, make_record, write_record
from .test_writer import SITE, related

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T00:00:00Z"


@pytest.mark.parametrize("mode", ["see-also", "enclosure", "entries"])
def test_rendering_is_linear_in_categories_images_and_related(mode: str) -> None:
    n = 10_000
    record = make_record(
        topics=tuple(f"Topic {i}" for i in range(n)),
        images=tuple(Image(f"https://img.example/{i}.png", 1, 1, "image/png") for i in range(n)),
        related=tuple(related(i) for i in range(n)),
    )
    topic = Topic("energy", "Energy", "Power.", ("energy",), Rules(related=mode))
    started = time.process_time()  # this process's CPU time: another's load does not count
    feed = render(SITE, topic, [entry_of(record)], "9.9")
    # Linear work is a fraction of a second; feedgen's category() called once a
    # category rebuilt its whole list each time and took several seconds here.
    assert time.process_time() - started < 2.0
    assert feed.atom.count(b"<category ") == n and feed.rss.count(b"<category>") == n


def cli(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        code = main(["build", "-q", "--now", NOW, *args])
    return code, capsys.readouterr().err.splitlines()


def feed_stems(root: Path) -> set[str]:
    return {p.stem for p in (root / "feeds").glob("*.atom")}


def test_a_record_makes_at_most_its_share_of_automatic_topics(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_config(project, BASE_CONFIG + "auto: true\nauto_max_topics_per_record: 3\n")
    write_record(project / "seeds", "many.txt", topics=["Energy", *(f"T{i}" for i in range(9))])
    write_record(project / "seeds", "one.txt", webUrl="https://n.example/1", originalUrl=..., topics=["T7"])

    assert cli(project, capsys) == (
        0,
        [
            "warning: seeds/many.txt: topics: 10 topics; only the first 3 can make "
            "automatic topics (auto_max_topics_per_record)"
        ],
    )
    assert feed_stems(project) == {"energy", "t0", "t1", "t7"}
    assert cli(project, capsys) == (0, [])  # said when the file is read


def test_automatic_topics_stop_at_the_ceiling_leaving_out_the_smallest(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_config(project, BASE_CONFIG + "auto: true\nauto_max_topics: 3\n")
    lists = [["A", "B", "E"], ["A", "B", "d"], ["A", "C"]]
    for n, topics in enumerate(lists):
        url = f"https://n.example/{n}"
        write_record(project / "seeds", f"{n}.txt", webUrl=url, originalUrl=url, topics=topics)

    code, err = cli(project, capsys)

    assert (code, err) == (
        0,
        [
            "warning: config.yaml: auto_max_topics: 5 record topics want an automatic "
            "feed, more than 3; left out: d, E"
        ],
    )
    assert feed_stems(project) == {"energy", "a", "b", "c"}


def test_feeds_of_a_retired_automatic_topic_are_removed_and_not_made_again(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_config(project, BASE_CONFIG + "auto: true\n")
    write_record(project / "seeds", "a.txt", topics=["Energy", "Old Story"])
    assert cli(project, capsys) == (0, [])
    write_record(project / "seeds", "a.txt", topics=["Energy"])
    assert cli(project, capsys) == (0, [])
    assert feed_stems(project) == {"energy", "old-story"}  # kept: subscribers never meet a 404

    make_config(project, BASE_CONFIG + "auto: true\nretire: [old-story]\n")
    assert cli(project, capsys) == (0, [])
    assert feed_stems(project) == {"energy"}
    assert not (project / "feeds" / "old-story.rss").exists()
    write_record(project / "seeds", "a.txt", topics=["Energy", "Old Story"])
    assert cli(project, capsys) == (0, [])
    assert feed_stems(project) == {"energy"}


def test_a_configured_topic_cannot_be_retired(project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(project, BASE_CONFIG + "retire: [energy, Not A Slug]\n")
    assert [p.message for p in caught.value.problems] == [
        "'energy' is a configured topic; remove it from topics to retire it",
        "'Not A Slug' is not a topic's slug",
    ]


def test_a_record_with_five_thousand_topics_on_the_shipped_config(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "feeds").mkdir()
    topics = ["AI", *(f"Flood {i}" for i in range(5000))]
    write_record(tmp_path / "seeds", "flood.txt", topics=topics)

    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-q", "--now", NOW],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: seeds/flood.txt: topics: 5001 topics; only the first 20 can make "
        "automatic topics (auto_max_topics_per_record)\n"
    )
    assert len(list((tmp_path / "feeds").glob("*.atom"))) == 6 + 19


def test_the_topic_plan_is_pure_and_keeps_slugs_whatever_is_left_out(tmp_path: Path) -> None:
    names = {"a": ("A", 3), "b": ("B", 2), "c": ("C", 2), "d": ("d", 1), "d!": ("d!", 5)}
    plan = plan_topics(make_config(tmp_path, BASE_CONFIG + "auto: true\nauto_max_topics: 2\n"), names)
    d_ = topic_slug("d!")
    assert [t.slug for t in plan.topics] == ["energy", "a", d_]
    assert (plan.wanted, plan.left_out) == (5, ("B", "C", "d"))
    retired = make_config(tmp_path, BASE_CONFIG + "auto: true\nauto_max_topics: 3\nretire: [a, d]\n")
    plan = plan_topics(retired, names)
    assert [t.slug for t in plan.topics] == ["energy", "b", "c", d_]
    assert (plan.wanted, plan.left_out) == (3, ())
    assert plan_topics(make_config(tmp_path), names).topics == make_config(tmp_path).topics


def test_only_the_first_topics_of_a_record_count() -> None:
    records = [make_record(topics=("A", "B", "C")), make_record(topics=("b", "D"))]
    assert record_topic_names(records, 2) == {"a": ("A", 1), "b": ("B", 2), "d": ("D", 1)}
    assert too_many_topics(("A", "B", "C"), 2) == (
        "3 topics; only the first 2 can make automatic topics (auto_max_topics_per_record)"
    )
    assert too_many_topics(("A", "B"), 2) is None
