"""A rule that reads what a light record lacks (its images, its related articles) sees
the whole record wherever it runs: a build (cold, incremental, --full, or choosing
from every record) publishes what `select` gives over the records as read, and
`explain` says so. Such a rule is registered here beside the shipped ones, saying what
it reads (see core/rules.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest

from topicfeeds import build, explain, load_config
from topicfeeds.config import Topic
from topicfeeds.core.model import Record
from topicfeeds.core.rules import RULES, Rule
from topicfeeds.core.select import select
from topicfeeds.pipeline import view
from topicfeeds.records.reader import read_records

from .conftest import BASE_CONFIG, make_config, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
CONFIG = BASE_CONFIG + "    limit: 3\n"

# The command, with the rule registered beside the shipped ones.
WITH_IMAGE_RULE = """
import sys
from topicfeeds.core.rules import RULES, Rule

def needs_image(record, topic, now):
    return None if record.images else "images: none"

RULES.register(Rule("images", frozenset({"images"}), needs_image))
from topicfeeds.command import main
sys.exit(main())
"""


def needs_image(record: Record, topic: Topic, now: datetime) -> str | None:
    return None if record.images else "images: none"


@pytest.fixture
def image_rule(no_racy_window: None) -> Iterator[Rule]:
    with RULES.registered(Rule("images", frozenset({"images"}), needs_image)) as rule:
        yield rule


def stories(seeds: Path) -> None:
    """Eight stories, the newest three without images: only the older five have one."""
    for n in range(8):
        without: dict[str, Any] = {"images": []} if n >= 5 else {}
        write_record(
            seeds, f"{n:02}.txt", title=f"Story {n}", webUrl=f"https://news.example/{n}", originalUrl=...,
            publishedDateTime=f"2026-11-{10 + n:02}T08:00:00Z", **without,
        )  # fmt: skip


def published(root: Path) -> list[str]:
    return [e.id for e in feedparser.parse((root / "feeds" / "energy.atom").read_bytes()).entries]


def selected(root: Path) -> list[str]:
    """What `select` keeps over the records as read, whole."""
    config = load_config(root / "config.yaml")
    return [e.id for e in select(read_records(root / "seeds").records, config.topics[0], NOW).entries]


def test_a_rule_reading_images_sees_them_in_every_kind_of_build(tmp_path: Path, image_rule: Rule) -> None:
    make_config(tmp_path, CONFIG)
    stories(tmp_path / "seeds")
    config = load_config(tmp_path / "config.yaml")
    expected = ["https://news.example/4", "https://news.example/3", "https://news.example/2"]
    assert selected(tmp_path) == expected
    build(config, NOW)  # cold: the shortlists filled as the records are stored
    assert published(tmp_path) == expected
    write_record(  # the newest story gets an image: chosen from the last feed and the change
        tmp_path / "seeds", "07.txt", title="Story 7", webUrl="https://news.example/7", originalUrl=...,
        publishedDateTime="2026-11-17T08:00:00Z",
    )  # fmt: skip
    expected = ["https://news.example/7", "https://news.example/4", "https://news.example/3"]
    assert selected(tmp_path) == expected
    assert build(config, NOW).parsed == 1
    assert published(tmp_path) == expected
    build(config, NOW, full=True)  # the shortlists filled from the stored records
    assert published(tmp_path) == expected


def test_a_rule_reading_images_sees_them_when_every_record_is_chosen_from(
    tmp_path: Path, image_rule: Rule, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_config(tmp_path, CONFIG)
    stories(tmp_path / "seeds")
    monkeypatch.setattr(view, "shortlisted", lambda *args, **kwargs: None)  # every record, unbounded
    build(load_config(tmp_path / "config.yaml"), NOW)
    assert published(tmp_path) == selected(tmp_path) != []


def test_explain_gives_a_rule_reading_images_the_whole_records(tmp_path: Path, image_rule: Rule) -> None:
    make_config(tmp_path, CONFIG)
    stories(tmp_path / "seeds")
    config = load_config(tmp_path / "config.yaml")
    build(config, NOW)
    assert explain(config, tmp_path / "seeds" / "04.txt", NOW).verdicts == (
        ("energy", "selected: entry 1 of 3"),
    )
    shown = explain(config, tmp_path / "seeds" / "06.txt", NOW).verdicts
    assert shown == (("energy", "excluded by images: none"),)


def test_the_command_publishes_what_a_rule_reading_images_selects(tmp_path: Path) -> None:
    make_config(tmp_path, CONFIG)
    stories(tmp_path / "seeds")
    ran = subprocess.run(
        [sys.executable, "-c", WITH_IMAGE_RULE, "build", "-q", "-c", str(tmp_path / "config.yaml"),
         "--now", NOW.isoformat()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert published(tmp_path) == [
        "https://news.example/4",
        "https://news.example/3",
        "https://news.example/2",
    ]
    ran = subprocess.run(
        [sys.executable, "-c", WITH_IMAGE_RULE, "explain", "-c", str(tmp_path / "config.yaml"),
         "--now", NOW.isoformat(), str(tmp_path / "seeds" / "02.txt")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "energy  selected: entry 3 of 3" in ran.stdout
