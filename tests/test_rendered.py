"""A topic rebuilt from the same entries as its files in place is not rendered again,
unless one of its files is not as it was written."""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from topicfeeds import build, formats
from topicfeeds.config import Topic
from topicfeeds.pipeline import publish

from .conftest import BASE_CONFIG, make_config, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch, no_racy_window: None) -> Counter[str]:
    """The topics the runs render, counted (the real renderer does the work)."""
    counts: Counter[str] = Counter()

    def counting(site: Any, topic: Topic, *args: Any) -> dict[str, bytes]:
        counts[topic.slug] += 1
        return formats.render_topic(site, topic, *args)

    monkeypatch.setattr(publish, "render_topic", counting)
    return counts


def write(seeds: Path, name: str, tick: int, **fields: Any) -> None:
    path = write_record(seeds, name, **fields)
    os.utime(path, ns=(tick * 10**9, tick * 10**9))  # stat sees each write


def test_an_edit_below_the_cut_renders_nothing_and_a_damaged_file_is_made_again(
    tmp_path: Path, rendered: Counter[str]
) -> None:
    config = make_config(tmp_path, BASE_CONFIG + "    limit: 1\n")
    seeds, feed = tmp_path / "seeds", tmp_path / "feeds" / "energy.atom"
    write(seeds, "new.txt", 1, title="Newest", webUrl="https://n.example/new", originalUrl=...,
          publishedDateTime="2026-11-27T10:00:00Z")  # fmt: skip
    write(seeds, "old.txt", 2, title="Older", webUrl="https://n.example/old", originalUrl=...,
          publishedDateTime="2026-11-20T10:00:00Z")  # fmt: skip
    build(config, NOW)
    assert rendered["energy"] == 1
    published = feed.read_bytes()

    write(seeds, "old.txt", 3, title="Older, corrected", webUrl="https://n.example/old", originalUrl=...,
          publishedDateTime="2026-11-20T10:00:00Z")  # fmt: skip
    report = build(config, NOW)
    assert [t.slug for t in report.topics] == ["energy"]  # chosen again: the edit could have entered
    assert rendered["energy"] == 1 and report.written == 0
    assert feed.read_bytes() == published

    feed.write_bytes(b"damaged")
    write(seeds, "old.txt", 4, title="Older, corrected twice", webUrl="https://n.example/old",
          originalUrl=..., publishedDateTime="2026-11-20T10:00:00Z")  # fmt: skip
    report = build(config, NOW)
    assert rendered["energy"] == 2
    assert feed.read_bytes() == published
    assert build(config, NOW).no_changes


def test_a_new_entry_is_rendered(tmp_path: Path, rendered: Counter[str]) -> None:
    config = make_config(tmp_path, BASE_CONFIG + "    limit: 1\n")
    seeds = tmp_path / "seeds"
    write(seeds, "old.txt", 1, title="Older", publishedDateTime="2026-11-20T10:00:00Z")
    build(config, NOW)
    write(seeds, "new.txt", 2, title="Newest", webUrl="https://n.example/new", originalUrl=...,
          publishedDateTime="2026-11-27T10:00:00Z")  # fmt: skip
    build(config, NOW)
    assert rendered["energy"] == 2
    assert b"Newest" in (tmp_path / "feeds" / "energy.atom").read_bytes()
