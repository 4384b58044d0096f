"""RFC 5005 archives: which entries a topic's archive pages hold. Pure: ids in, ids out.

A topic with `archive: true` keeps every entry it ever published. Its subscription feed
shows what the rules select now; an entry that leaves it joins the topic's *log*, in
the order entries left, and the log is cut from its oldest end into pages of a fixed
size. A page is sealed (written, and never written again) only when it is full, so its
entries, its URL and its bytes never change; the entries of the log not yet in a page
(fewer than a page) stay in the subscription feed, after the selected ones, so walking
from the subscription feed back through the pages meets every entry once:

    subscription feed = selected (less any already in a page) + unsealed log, newest first
    page n            = log[(n - 1) * size : n * size], sealed when the log reaches n * size

An entry already sealed in a page that the rules select again stays where it is: it
is not shown a second time in the subscription feed. Which entries a page holds is
kept with the state; a page the state did not make (it was lost) says so itself, and
`page_ids` reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lxml import etree

_ATOM = "{http://www.w3.org/2005/Atom}"

# Flat beside the topic's other files, with a "." no slug holds, so no topic's files can
# take an archive page's name: `feeds/<slug>.archive-<n>.atom`, n from 1 (the oldest).
_ARCHIVE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\.archive-[1-9][0-9]*\.atom")


def archive_name(slug: str, number: int) -> str:
    """The file name of archive page `number` (from 1, the oldest) of topic `slug`."""
    return f"{slug}.archive-{number}.atom"


def is_archive(name: str) -> bool:
    """Whether output file `name` is an archive page."""
    return _ARCHIVE_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class ArchivePlan:
    """What one run does to a topic's archive."""

    shown: tuple[str, ...]  # the selected ids the subscription feed shows, in selection order
    log: tuple[str, ...]  # the unsealed log after this run, oldest departure first
    pages: tuple[tuple[str, ...], ...]  # pages to seal now, oldest first, each `size` ids


def plan_archive(
    selected: Sequence[str],
    last_shown: Sequence[str],
    log: Sequence[str],
    sealed: Collection[str],
    size: int,
) -> ArchivePlan:
    """The archive after a run that selected `selected` (ids in feed order), when the
    last run showed `last_shown` (in its feed order) and left `log` unsealed (oldest
    first), `sealed` being every id already in a page; pages hold `size` entries.

    Entries that left the feed join the log lowest-ranked first; an entry of the log
    selected again goes back to the feed; full pages are cut from the log's front.
    """
    if size < 1:
        raise ValueError(f"an archive page holds at least one entry, not {size}")
    shown = tuple(dict.fromkeys(i for i in selected if i not in sealed))
    now_shown = set(shown)
    kept = [i for i in log if i not in now_shown]
    in_log = set(kept)
    departed = [i for i in reversed(last_shown) if i not in now_shown and i not in in_log and i not in sealed]
    grown = [*kept, *departed]
    full = len(grown) // size * size
    pages = tuple(tuple(grown[start : start + size]) for start in range(0, full, size))
    return ArchivePlan(shown, tuple(grown[full:]), pages)


def page_ids(data: bytes) -> tuple[str, ...]:
    """The entry ids of the archive page whose bytes are `data`, as it lists them
    (newest first). Raises ValueError when `data` is not an Atom feed whose entries
    all have an id."""
    # A page is a file this program wrote, but the file is read as any input would be:
    # no entities expanded, nothing fetched.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML: {exc.msg}") from exc
    if root.tag != f"{_ATOM}feed":
        raise ValueError("not an Atom feed")
    ids = []
    for entry in root.iterfind(f"{_ATOM}entry"):
        found = entry.findtext(f"{_ATOM}id")
        if not found:
            raise ValueError("an entry without an id")
        ids.append(found)
    return tuple(ids)
