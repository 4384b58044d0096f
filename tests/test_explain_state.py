"""`explain` answers from the state: a topic whose last feed holds is brought up to date
from it, the articles changed since and the record's own article, as an incremental
build is, and only the others are chosen from every record. Its answers are those of
a choice from every record (`explain_each(..., full=True)`), whatever happened since
the last build: records written, copied, removed or renamed, the clock moved on or
back, records named from outside the records folder."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topicfeeds import build, load_config
from topicfeeds.core.model import Record
from topicfeeds.core.rules import exclusion
from topicfeeds.core.select import Selection, verdict
from topicfeeds.pipeline import explanations, view
from topicfeeds.pipeline.explanations import Explanation, explain_each

from .conftest import make_config, record_fields, record_text, write_record
from .test_planner import FILES, NOW, Folder, config_text, fields_of, operations, rules_of

# Each example builds and explains several times, so fewer than test_planner's by default;
# TOPICFEEDS_EXAMPLES asks for more.
EXAMPLES = int(os.environ.get("TOPICFEEDS_EXAMPLES", "15"))


def article(n: int) -> dict[str, Any]:
    return {"webUrl": f"https://n.example/{n}", "originalUrl": ...}


def verdicts(found: list[Any]) -> list[Any]:
    return [e.verdicts if isinstance(e, Explanation) else str(e) for e in found]


def check_explanations(
    topics: list[dict[str, Any]],
    first: list[dict[str, Any]],
    steps: list[tuple[tuple[Any, ...], bool]],
    outside: dict[str, Any],
    back: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_config(root, config_text(topics))
        config = load_config(root / "config.yaml")
        folder = Folder(root)
        now = NOW
        # Articles of their own at first, so that feeds fill and cut some.
        for name, fields in zip(FILES, first, strict=False):
            folder.write(folder.seeds / name, {**fields, "webUrl": None}, now)
        build(config, now)
        for op, built in steps:  # some changes are built, the others only seen by explain
            now = folder.apply(op, now)
            if built:
                build(config, now)
        stray = root / "stray.txt"  # named from outside the records folder
        folder.write(stray, outside, now)
        named: list[Path | str] = [*sorted(folder.seeds.iterdir()), stray]
        for when in (now, now - timedelta(hours=back)):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(explanations, "verdict", chosen)
                fast = explain_each(config, named, when)
                assert verdicts(fast) == verdicts(explain_each(config, named, when, full=True)), when


def chosen(record: Record, selection: Selection, now: datetime, shown: Any) -> str:
    """What the verdict on `record` reads of `selection`, as text: every entry, whole,
    and the duplicates of its article (in no order: the verdict looks for the one pair
    whose dropped copy is `record`); and the verdict. Nothing of it where the topic's
    rules exclude `record`: the verdict says why from the record alone."""
    if exclusion(record, selection.topic, now) is not None:
        return verdict(record, selection, now, shown)
    duplicates = sorted((d.key, k.key) for d, k in selection.duplicates if record.id in (d.id, k.id))
    return f"{selection.entries!r} {duplicates} {verdict(record, selection, now, shown)}"


@pytest.fixture(autouse=True)
def trust_stat(monkeypatch: pytest.MonkeyPatch, no_racy_window: None) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # as test_planner: what is chosen, not durability


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(rules_of, min_size=2, max_size=2),
    st.lists(fields_of, max_size=len(FILES)),
    st.lists(st.tuples(operations, st.booleans()), min_size=1, max_size=8),
    fields_of,
    st.sampled_from([0, 0, 20]),
)
def test_explain_from_the_state_answers_as_a_choice_from_every_record(
    topics: list[dict[str, Any]],
    first: list[dict[str, Any]],
    steps: list[tuple[tuple[Any, ...], bool]],
    outside: dict[str, Any],
    back: int,
) -> None:
    check_explanations(topics, first, steps, outside, back)


def test_explain_with_a_built_state_reads_only_the_last_feeds_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_racy_window: None
) -> None:
    """Where a record stands follows from the last feed: no topic reads all its records."""
    make_config(tmp_path, config_text([{"limit": 2}, {"sort": "quality", "limit": 1}]))
    for n in range(6):
        write_record(tmp_path / "seeds", f"{n}.txt", quality=n, topics=["Energy", "Grid"], **article(n))
    config = load_config(tmp_path / "config.yaml")
    build(config, NOW)
    expected = verdicts(explain_each(config, [tmp_path / "seeds" / "3.txt"], NOW, full=True))
    every: list[Any] = []
    whole = view.RecordView.light_records
    monkeypatch.setattr(view.RecordView, "light_records", lambda *a: every.append(a) or whole(*a))

    found = explain_each(config, [tmp_path / "seeds" / "3.txt"], NOW)

    assert verdicts(found) == expected
    assert every == []
    # Another configuration: no last feed tells, every topic chooses from all its records.
    make_config(tmp_path, config_text([{"limit": 3}, {"sort": "quality", "limit": 1}]))
    again = explain_each(load_config(tmp_path / "config.yaml"), [tmp_path / "seeds" / "3.txt"], NOW)
    assert len(every) == 3
    assert isinstance(again[0], Explanation)


def test_a_record_edited_since_the_build_is_explained_as_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_racy_window: None
) -> None:
    make_config(tmp_path, config_text([{"sort": "quality", "limit": 1}, {"limit": 2}]))
    seeds = tmp_path / "seeds"
    for n in (1, 5):
        write_record(seeds, f"{n}.txt", quality=n, topics=["Energy"], **article(n))
    config = load_config(tmp_path / "config.yaml")
    build(config, NOW)
    assert dict(explain_each(config, [seeds / "5.txt"], NOW)[0].verdicts)["t0"] == "selected: entry 1 of 1"  # type: ignore[union-attr]
    text = record_text(record_fields(quality=0, topics=["Energy"], **article(5)))
    (seeds / "5.txt").write_text(text, encoding="utf-8")
    os.utime(seeds / "5.txt", ns=(2 * 10**18, 2 * 10**18))

    found = explain_each(config, [seeds / "5.txt", seeds / "1.txt"], NOW)

    assert verdicts(found) == verdicts(
        explain_each(config, [seeds / "5.txt", seeds / "1.txt"], NOW, full=True)
    )
    assert dict(found[1].verdicts)["t0"] == "selected: entry 1 of 1"  # type: ignore[union-attr]


def test_explain_at_a_time_before_the_last_choice_chooses_afresh(
    tmp_path: Path, no_racy_window: None
) -> None:
    """The last feeds were chosen as of the build that made them: earlier, a record too
    old for them then is young enough again, and only a choice from every record sees
    it. So too after a build back in time, which leaves the feeds it did not touch as
    they were."""
    make_config(tmp_path, config_text([{"max_age_days": 3, "limit": 5}, {"limit": 5}]))
    seeds = tmp_path / "seeds"
    for n, hours in enumerate((25, 80)):
        when = (NOW - timedelta(hours=hours)).isoformat()
        write_record(seeds, f"{n}.txt", publishedDateTime=when, topics=["Energy"], **article(n))
    config = load_config(tmp_path / "config.yaml")
    build(config, NOW)
    earlier = NOW - timedelta(hours=20)  # 1.txt is 60 hours old: within max_age_days

    assert (
        dict(explain_each(config, [seeds / "0.txt"], earlier)[0].verdicts)["t0"] == "selected: entry 1 of 2"
    )  # type: ignore[union-attr]
    # A build then that chooses only the topic taking every record (t2) from every record.
    write_record(seeds, "2.txt", topics=["Solar"], **article(2))
    build(config, earlier)
    later = earlier + timedelta(hours=1)
    assert dict(explain_each(config, [seeds / "0.txt"], later)[0].verdicts)["t0"] == "selected: entry 1 of 2"  # type: ignore[union-attr]
