"""The packed listing of the records folder: the same names, stamps and digests a dict
of stamps gives, in a fraction of its memory; and the plain-ending name check deciding
as the patterns' expression does."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from topicfeeds.sources.folder import FolderSource
from topicfeeds.stamps import PACKED, Listing, Stamp, name_matcher, stamp_of, suffixes_of


def test_packed_names_are_sorted_with_their_stamps() -> None:
    stamps = {"b": Stamp(2, 20, 200, 2000), "c": Stamp(3, 30, 300, 3000), "a": Stamp(1, 10, 100, 1000)}
    packed = bytearray(b"".join(PACKED.pack(*stamp) for stamp in stamps.values()))
    assert Listing.of_packed(list(stamps), packed).stamps == Listing.of(stamps).stamps
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
