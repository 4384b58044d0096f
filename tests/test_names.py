"""Record file names the operating system can hold but text cannot: undecodable bytes,
spaces, newlines, very long names, names that look like options."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topicfeeds import build
from topicfeeds.cli import main
from topicfeeds.config import parse_config
from topicfeeds.errors import printable
from topicfeeds.pipeline import refresh

from .conftest import BASE_CONFIG, make_config, record_fields, record_text

NOW = "2026-11-28T00:00:00Z"
NOW_DT = datetime(2026, 11, 28, tzinfo=timezone.utc)


pytestmark = pytest.mark.usefixtures("no_racy_window")


def put(folder: Path, name: bytes, n: int, **overrides: object) -> None:
    """Write record number `n` under the raw file name `name`."""
    url = f"https://news.example/{n}"
    fields = record_fields(**{"webUrl": url, "originalUrl": url, "title": f"Story {n}", **overrides})
    (folder / os.fsdecode(name)).write_bytes(record_text(fields).encode("utf-8"))


def cli(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def titles(root: Path) -> list[str]:
    parsed = feedparser.parse((root / "feeds" / "energy.atom").read_bytes())
    assert parsed.bozo == 0
    return sorted(e.title for e in parsed.entries)


ODD = [b"caf\xe9.txt", b"bad\xff.txt", b"a b.txt", b"line\nbreak.txt", b"-q.txt", b"x" * 251 + b".txt"]


def test_undecodable_and_odd_names_are_published_like_any_other(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = project / "seeds"
    put(seeds, b"plain.txt", 0)
    for n, name in enumerate(ODD, 1):
        put(seeds, name, n)

    code, out, err = cli(project, capsys, "build", "--now", NOW)

    assert (code, err) == (0, [])
    assert "7 record files, 7 read, 0 rejected" in out
    assert titles(project) == sorted(f"Story {n}" for n in range(7))
    # The state keeps working: nothing to do, then an edit, then a removal, all by name.
    assert cli(project, capsys, "build", "--now", NOW)[1].startswith("topicfeeds: no changes")
    put(seeds, b"caf\xe9.txt", 1, title="Story 1, edited")
    assert cli(project, capsys, "build", "--now", NOW)[0] == 0
    assert "Story 1, edited" in titles(project)
    (seeds / os.fsdecode(b"bad\xff.txt")).unlink()
    assert cli(project, capsys, "build", "--now", NOW)[0] == 0
    assert "Story 2" not in titles(project)
    # A fresh state reads them all again and publishes the same entries.
    before = titles(project)
    (project / ".topicfeeds-state.sqlite").unlink()
    assert cli(project, capsys, "build", "--now", NOW)[0] == 0
    assert titles(project) == before


def test_a_rejected_odd_name_is_named_on_one_line_with_its_bytes_escaped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = project / "seeds"
    put(seeds, b"good.txt", 0)
    put(seeds, b"caf\xe9.txt", 1, publishedDateTime="yesterday")
    put(seeds, b"new\nline.txt", 2, publishedDateTime="yesterday")

    code, _, err = cli(project, capsys, "build", "-q", "--now", NOW)

    assert code == 1
    assert err == [
        "error: seeds/caf\\xe9.txt:5: publishedDateTime: cannot read 'yesterday' as a date",
        "error: seeds/new\\nline.txt:5: publishedDateTime: cannot read 'yesterday' as a date",
    ]
    assert titles(project) == ["Story 0"]


def test_printable_escapes_what_a_terminal_line_cannot_show() -> None:
    assert printable(os.fsdecode(b"caf\xe9.txt")) == "caf\\xe9.txt"
    assert printable("café.txt") == "café.txt"
    assert printable("a\nb\tc\x1b.txt") == "a\\nb\\tc\\x1b.txt"
    assert printable("back\\slash.txt") == "back\\slash.txt"


def test_explain_takes_names_that_look_like_options_or_are_not_text(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = project / "seeds"
    put(seeds, b"-q.txt", 0)
    put(seeds, b"caf\xe9.txt", 1)

    for args in (["--", "seeds/-q.txt"], ["./seeds/-q.txt"]):
        code, out, err = cli(project, capsys, "explain", "--now", NOW, *args)
        assert (code, err) == (0, []), args
        assert out.splitlines()[0].endswith("-q.txt: Story 0")
    code, out, err = cli(project, capsys, "explain", "--now", NOW, os.fsdecode(b"seeds/caf\xe9.txt"))
    assert (code, err) == (0, [])
    assert out.splitlines()[0] == "seeds/caf\\xe9.txt: Story 1"
    assert "energy  selected: entry " in out


# -- property test: any name, any date around the run's time

# Every byte but "/" and NUL may be in a file name; a leading "." hides the file.
name_bytes = st.binary(min_size=1, max_size=120).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))
offsets = st.sampled_from([-400, -2, -0.1, 0, 0.05, 0.1, 2, 400]).map(lambda h: timedelta(hours=h))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(st.tuples(name_bytes, offsets), min_size=1, max_size=6, unique_by=lambda r: r[0]),
    extension=st.sampled_from([b".txt", b".md"]),
)
def test_any_names_and_dates_publish_every_due_record_and_write_only_feeds(
    records: list[tuple[bytes, timedelta]], extension: bytes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "project"
        root.mkdir()
        make_config(root, BASE_CONFIG)
        due = set()
        for n, (stem, offset) in enumerate(records):
            name = stem + extension
            when = NOW_DT + offset
            put(root / "seeds", name, n, publishedDateTime=when.isoformat())
            # Hidden files are not records; the default tolerance for clock skew is 5 minutes.
            if not name.startswith(b".") and when <= NOW_DT + timedelta(minutes=5):
                due.add(f"Story {n}")
        before = set(base.rglob("*"))

        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(root)
            patch.setattr(refresh, "RACY_NS", 0)
            status = main(["build", "-q", "--now", NOW])
            again = main(["build", "-q", "--now", NOW])

        assert (status, again) == (0, 0)
        made = set(base.rglob("*")) - before
        assert {p.relative_to(root).as_posix() for p in made} <= {
            *(f"feeds/energy.{suffix}" for suffix in ("atom", "rss", "json", "html")),
            *(f"feeds/{name}" for name in ("index.html", "topics.opml", "style.css", "feed.css")),
            ".topicfeeds-state.sqlite",
            ".topicfeeds-state.sqlite.lock",
            ".topicfeeds-state.sqlite-wal",
            ".topicfeeds-state.sqlite-shm",
        }
        assert titles(root) == sorted(due)
        report = build(parse_config((root / "config.yaml").read_text(), root / "config.yaml"), NOW_DT)
        assert report.no_changes
