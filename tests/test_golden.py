"""The golden corpus in tests/data/ against its expected feeds, byte for byte.

Regenerate the expected feeds on purpose (and review the diff) with:
    TOPICFEEDS_REGENERATE=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import feedparser

from topicfeeds import build, load_config

DATA = Path(__file__).resolve().parent / "data"
NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def test_golden_feeds(tmp_path: Path) -> None:
    config = replace(load_config(DATA / "config.yaml"), state_path=None)
    regenerate = bool(os.environ.get("TOPICFEEDS_REGENERATE"))
    if not regenerate:
        config = replace(config, output_dir=tmp_path)
    else:
        for old in config.output_dir.glob("*.*"):
            old.unlink()
    report = build(config, NOW)
    (error,) = report.errors
    assert str(error).endswith("f-broken.txt:3: publishedDateTime: cannot read 'not a date' as a date")
    expected_dir = DATA / "expected"
    produced = {p.name: p.read_bytes() for p in config.output_dir.iterdir()}
    expected = {p.name: p.read_bytes() for p in expected_dir.iterdir()}
    assert sorted(produced) == sorted(expected)
    for name, data in expected.items():
        assert produced[name] == data, f"{name} differs from tests/data/expected/{name}"
        if name.endswith((".atom", ".rss")):
            assert feedparser.parse(data).bozo == 0, name


def test_golden_feeds_through_incremental_runs(tmp_path: Path) -> None:
    """The same expected files when the corpus arrives in parts: a run over some of the
    records, then one that finds the rest (and one record touched), then a run that
    rewrites nothing."""
    root = tmp_path / "golden"
    shutil.copytree(DATA, root, ignore=shutil.ignore_patterns("expected"))
    (root / "expected").mkdir()
    config = load_config(root / "config.yaml")
    later = tmp_path / "later"
    later.mkdir()
    for name in ("b-battery-copy.txt", "c-solar.md", "f-broken.txt"):
        shutil.move(root / "corpus" / name, later / name)
    build(config, NOW)
    for path in later.iterdir():
        shutil.move(path, root / "corpus" / path.name)
    (root / "corpus" / "a-battery.txt").touch()
    build(config, NOW)
    assert build(config, NOW).written == 0
    produced = {p.name: p.read_bytes() for p in (root / "expected").iterdir()}
    expected = {p.name: p.read_bytes() for p in (DATA / "expected").iterdir()}
    assert produced == expected
