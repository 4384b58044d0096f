"""Finding what changed in the records folder from chunk digests: every added, removed,
edited or unsettled file falls in a span the run reads; unchanged chunks are skipped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topicfeeds.records.reader import Stamp
from topicfeeds.sources import chunks
from topicfeeds.sources.chunks import Span, changed_spans, chunks_of, index_spans
from topicfeeds.sources.stamps import Listing


def listing_of(names: list[str], version: int = 0) -> Listing:
    return Listing.of({name: Stamp(100, 1_000 + version, n, 2_000 + version) for n, name in enumerate(names)})


def in_spans(names: list[str], spans: list[Span]) -> list[str]:
    """The sorted `names` that fall in `spans`."""
    return [name for start, end in index_spans(names, spans) for name in names[start:end]]


def test_nothing_changed_means_nothing_to_read() -> None:
    names = [f"{n:05d}.txt" for n in range(5000)]
    listing = listing_of(names)
    noted = chunks_of(listing, set())
    assert len(noted) == 5  # 1,024 names a chunk
    assert changed_spans(listing, noted) == []


def test_one_edit_reads_one_chunk() -> None:
    names = [f"{n:05d}.txt" for n in range(5000)]
    listing = listing_of(names)
    noted = chunks_of(listing, set())
    edited = {name: listing[name] for name in names}
    edited["02500.txt"] = Stamp(101, 5, 5, 5)
    spans = changed_spans(Listing.of(edited), noted)
    assert spans == [Span("02048.txt", "03072.txt")]
    assert "02500.txt" in in_spans(names, spans)
    assert len(in_spans(names, spans)) == 1024


def test_a_file_before_the_first_and_after_the_last() -> None:
    names = [f"{n:05d}.txt" for n in range(1, 3000)]
    listing = listing_of(names)
    noted = chunks_of(listing, set())
    more = sorted([*names, "00000.txt", "99999.txt"])
    stamps = {name: listing[name] for name in names}
    spans = changed_spans(
        Listing.of({**stamps, "00000.txt": Stamp(1, 1, 1, 1), "99999.txt": Stamp(1, 1, 1, 1)}), noted
    )
    assert spans[0] == Span(None, "00001.txt")
    assert spans[-1].high is None
    assert {"00000.txt", "99999.txt"} <= set(in_spans(more, spans))


def test_unsettled_files_are_read_again() -> None:
    names = [f"{n:05d}.txt" for n in range(3000)]
    listing = listing_of(names)
    noted = chunks_of(listing, {"01500.txt"})
    assert changed_spans(listing, noted) == [Span("01024.txt", "02048.txt")]


def test_no_chunks_read_everything_and_unreadable_chunks_are_none() -> None:
    assert changed_spans(listing_of(["a"]), None) == [Span(None, None)]
    assert changed_spans(listing_of(["a"]), []) == [Span(None, None)]
    assert changed_spans(listing_of([]), []) == []  # an empty folder, noted empty
    assert chunks.decode("not json") is None
    assert chunks.decode("") is None
    assert chunks.decode(chunks.encode([("a", "b")])) == [("a", "b")]
    assert not chunks.orderable(["ok", "bad\udcff"])
    assert chunks.orderable(["ok", "Zürich"])


names_strategy = st.lists(st.text("abc", min_size=1, max_size=6), max_size=60, unique=True)


@settings(max_examples=300, deadline=None)
@given(names_strategy, names_strategy, st.sets(st.text("abc", min_size=1, max_size=6)), st.integers(1, 8))
def test_every_change_falls_in_a_span(
    before: list[str], after: list[str], edited: set[str], size: int
) -> None:
    """With chunks of `size` names: each name added, removed or given a new stamp is
    among the names read (of the new listing, or of the store's, for removed ones)."""
    old_names, new_names = sorted(before), sorted(after)
    old = listing_of(old_names)
    stamps = {n: (Stamp(7, 7, 7, 7) if n in edited else old.get(n) or Stamp(8, 8, 8, 8)) for n in new_names}
    new = Listing.of(stamps)
    noted = chunks_of(old, set(), size)
    made: chunks.Digests = {}
    spans = changed_spans(new, noted, made)
    read = set(in_spans(new_names, spans)) | set(in_spans(old_names, spans))
    changed = (set(old_names) ^ set(new_names)) | {n for n in new_names if old.get(n) != stamps[n]}
    assert changed <= read
    # Digests made while comparing are those a fresh noting makes.
    assert chunks_of(new, set(), size, made) == chunks_of(new, set(), size)
