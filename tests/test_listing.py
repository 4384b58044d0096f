"""The packed listing of the records folder: the same names, stamps and digests a dict
of stamps gives, in a fraction of its memory; and the plain-ending name check deciding
as the patterns' expression does."""

from __future__ import annotations

import dataclasses
import fnmatch
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topicfeeds import build
from topicfeeds.pipeline import refresh
from topicfeeds.pipeline.refresh import RACY_NS
from topicfeeds.records.rows import Row
from topicfeeds.sources import Changes
from topicfeeds.sources.folder import FolderSource
from topicfeeds.sources.folder import _read as folder_read
from topicfeeds.sources.names import name_matcher, suffixes_of
from topicfeeds.sources.stamps import PACKED, Listing, Stamp, stamp_of
from topicfeeds.store import StateStore

from .conftest import make_config, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def test_packed_names_are_sorted_with_their_stamps() -> None:
    stamps = {"b": Stamp(2, 20, 200, 2000), "c": Stamp(3, 30, 300, 3000), "a": Stamp(1, 10, 100, 1000)}
    assert Listing.of(stamps).stamps == bytearray(b"".join(PACKED.pack(*stamps[n]) for n in "abc"))
    listing = Listing.of(stamps)
    assert listing.names == ["a", "b", "c"]
    assert listing["b"] == Stamp(2, 20, 200, 2000)
    assert listing.get("c") == (3, 30, 300, 3000)
    assert listing.get("d") is None
    assert "a" in listing
    assert "aa" not in listing
    assert len(listing) == 3
    assert listing.index("0") == -1


def test_a_digest_changes_with_any_part_of_a_stamp() -> None:
    base = {"a": Stamp(1, 2, 3, 4), "b": Stamp(5, 6, 7, 8)}
    digest = Listing.of(base).digest()
    assert Listing.of(dict(reversed(base.items()))).digest() == digest  # order of listing
    for n in range(4):
        changed = list(base["b"])
        changed[n] += 1
        assert Listing.of({**base, "b": Stamp(*changed)}).digest() != digest
    assert Listing.of({"a": base["a"], "c": base["b"]}).digest() != digest
    assert Listing.of(base).digest(0, 1) == Listing.of({"a": base["a"]}).digest()


def test_stamps_beyond_64_bits_are_kept_whole() -> None:
    huge = 2**64 + 5
    listing = Listing.of({"a": Stamp(1, 2, huge, 4), "b": Stamp(1, 2, 3, 4)})
    assert listing["a"].ino == huge
    assert Listing.of({"a": Stamp(1, -2, 2**64 - 1, 4)})["a"] == (1, -2, 2**64 - 1, 4)  # packed
    assert listing.digest() != Listing.of({"a": Stamp(1, 2, 5, 4), "b": Stamp(1, 2, 3, 4)}).digest()


STAMPS = st.tuples(*[st.integers(0, 2**63 - 1)] * 4)


@given(
    st.dictionaries(st.text(min_size=1, max_size=4), STAMPS, max_size=30),
    st.lists(st.text(min_size=1, max_size=4), max_size=30),
    st.booleans(),
)
def test_a_finder_and_stamps_of_answer_as_get_in_any_order(
    stamps: dict[str, tuple[int, int, int, int]], asked: list[str], wide: bool
) -> None:
    """Names asked in order, out of order, listed or not: the quick lookups a run makes
    of thousands of names give what `get` gives, packed stamps or whole ones."""
    listing = Listing.of({name: Stamp(*s) for name, s in stamps.items()})
    if wide:
        listing = Listing(listing.names, [Stamp(*s) for s in PACKED.iter_unpack(listing.stamps)])
    names = [*asked, *stamps, *sorted(asked)]
    find = listing.finder()
    assert [find(name) for name in names] == [listing.get(name) for name in names]
    assert listing.stamps_of(names) == [listing.get(name) for name in names]


def test_an_empty_listing() -> None:
    listing = Listing.of({})
    assert len(listing) == 0
    assert listing.get("a") is None
    assert listing.digest() == Listing.of({}).digest()


def test_plain_endings_only() -> None:
    assert suffixes_of(("*.txt", "*.md")) == (".txt", ".md")
    assert suffixes_of(("*",)) == ("",)
    assert suffixes_of(("*.t?t",)) is None
    assert suffixes_of(("**/*.txt",)) is None
    assert suffixes_of(("a*.txt",)) is None
    assert suffixes_of(("*.[tm]d",)) is None
    assert suffixes_of(()) is None


patterns_strategy = st.lists(st.sampled_from(["*.txt", "*.md", "*", "*x", "*.MD", "*.t?t", "a*", "*\\x"]))


@settings(max_examples=300, deadline=None)
@given(patterns_strategy, st.text(".txmdTa?*\\\n", min_size=1, max_size=8))
def test_the_name_check_decides_as_fnmatch(patterns: list[str], name: str) -> None:
    matched = any(fnmatch.fnmatchcase(name, p) for p in patterns) if patterns else True  # as "" would
    expected = not name.startswith(".") and matched
    assert name_matcher(tuple(patterns))(name) == expected


def test_a_folder_scan_lists_regular_record_files(tmp_path: Path) -> None:
    for name in ["b.md", "a.txt", ".hidden.md", "c.yaml", "d.md.bak"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "link.md").symlink_to(tmp_path / "b.md")  # to a regular file: listed as one
    (tmp_path / "dangling.md").symlink_to(tmp_path / "gone")
    listing = FolderSource(tmp_path, ("*.txt", "*.md")).scan()
    assert listing.names == ["a.txt", "b.md", "link.md"]
    assert listing["a.txt"] == stamp_of((tmp_path / "a.txt").stat())
    other = FolderSource(tmp_path, ("[ab].*", "link.md")).scan()  # through the expression
    assert other.names == ["a.txt", "b.md", "link.md"]


def test_a_scan_of_names_alone_lists_the_same_files(tmp_path: Path) -> None:
    """Without stamps, the entries' types tell the files: the same names as a scan that
    stats each, their stamps still to be set."""
    for name in ["b.md", "a.txt", ".hidden.md", "c.yaml"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "link.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "dangling.md").symlink_to(tmp_path / "gone")
    (tmp_path / "to-folder.md").symlink_to(tmp_path / "folder.md")
    source = FolderSource(tmp_path, ("*.txt", "*.md"))
    names = source.scan(stamps=False)
    assert names.names == source.scan().names == ["a.txt", "b.md", "link.md"]
    assert not names.stamped
    assert names["b.md"] == Stamp(0, 0, 0, 0)


def test_stamps_set_one_by_one_give_the_listing_a_scan_gives() -> None:
    stamps = {"b": Stamp(2, 20, 200, 2000), "a": Stamp(1, 10, 100, 1000), "c": Stamp(3, -30, 2**64 - 1, 3)}
    listing = Listing.unstamped(list(stamps))
    assert listing.names == ["a", "b", "c"]
    for at, name in enumerate(listing.names):
        listing.set_stamp(at, stamps[name])
    assert listing.stamps == Listing.of(stamps).stamps
    assert listing.digest() == Listing.of(stamps).digest()
    listing.set_stamp(1, Stamp(2, 20, 2**64 + 1, 2000))  # beyond 64 bits: kept whole
    assert [listing[n] for n in listing.names] == [stamps["a"], (2, 20, 2**64 + 1, 2000), stamps["c"]]


def test_a_cold_build_lists_names_alone_and_keeps_the_stamps_a_scan_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with no file known reads every file: it lists the names alone, takes each
    stamp as the file is read, and stores what a scan that stats every file gives, so
    that the next run finds nothing changed."""
    config = make_config(tmp_path)
    for n in range(30):
        write_record(tmp_path / "seeds", f"{n:02d}.md", title=f"Story {n}")
    (tmp_path / "seeds" / "bad.md").write_text("no front matter")
    (tmp_path / "seeds" / "link.md").symlink_to(tmp_path / "seeds" / "01.md")
    stats = 0  # scans that stat every file
    scan = FolderSource.scan

    def counted(source: FolderSource, stamps: bool = True) -> Listing:
        nonlocal stats
        stats += stamps
        return scan(source, stamps)

    monkeypatch.setattr(FolderSource, "scan", counted)
    first = build(config, NOW)
    assert (first.parsed, stats) == (32, 0)
    assert config.state_path is not None
    store, _ = StateStore.open(config.state_path)
    listing = FolderSource(tmp_path / "seeds", ("*.md",)).scan()
    seen, differing = store.changed(listing)
    store.close()
    assert seen == bytearray([1]) * len(listing)  # every listed name is known
    # Those listed here are too young to trust (racy), with the stamps the scan gives.
    assert all(cached.stamp == listing[name] for name, cached in differing.items())
    assert differing
    time.sleep(RACY_NS / 1e9)  # no longer too young: checked by their content, none parsed
    again = build(config, NOW)
    assert (again.parsed, stats) == (0, 2)  # the scan above, and this run's
    assert build(config, NOW).no_changes


def test_a_file_is_racy_by_when_it_was_read_not_by_when_the_listing_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build reads for many seconds after it began listing. A file last changed
    well before it was read cannot change again unseen by its stamp, however close to
    the listing's start it changed: it is trusted. One changed just before it was read
    is racy, and its content is checked on the next run."""
    window = 300_000_000  # the rule, not its size, is under test
    monkeypatch.setattr(refresh, "RACY_NS", window)
    config = make_config(tmp_path)
    for n in range(5):
        write_record(tmp_path / "seeds", f"{n:02d}.md", title=f"Story {n}")
    written = time.time_ns()
    time.sleep(2 * window / 1e9)
    write_record(tmp_path / "seeds", "fresh.md", title="Fresh")
    changes = FolderSource.changes

    def begun_as_written(source: FolderSource, *args: Any, **kwargs: Any) -> Changes:
        # As if the listing had begun as the first five were written, long ago.
        return dataclasses.replace(changes(source, *args, **kwargs), started=written)

    monkeypatch.setattr(FolderSource, "changes", begun_as_written)
    assert build(config, NOW).parsed == 6
    assert config.state_path is not None
    store, _ = StateStore.open(config.state_path)
    try:
        _, differing = store.changed(FolderSource(tmp_path / "seeds", ("*.md",)).scan())
    finally:
        store.close()
    assert {name: cached.racy for name, cached in differing.items()} == {"fresh.md": True}


def test_a_file_that_cannot_be_opened_is_stamped_as_a_scan_stamps_it(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    row = Row._make(folder_read("folder.md", folder=str(tmp_path), max_bytes=1000))
    assert row.rejected
    assert row.stamp == stamp_of((tmp_path / "folder.md").stat())
    assert "cannot read" in row.problems
