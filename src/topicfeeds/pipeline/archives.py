"""A topic's archive (RFC 5005) brought up to date as the run chooses it: full pages
sealed, pages found in the output adopted, and pages removed or changed since put back
as they were written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import __version__
from ..config import Site, Topic
from ..core.archive import archive_name, page_ids, plan_archive
from ..core.model import Entry
from ..errors import Problem, printable
from ..formats import render_archive
from ..records import codec
from ..store import ArchiveRow
from .publish import Outputs, Put


@dataclass(frozen=True, slots=True)
class Archived:
    """What a topic's subscription feed shows once its archive is up to date."""

    entries: tuple[Entry, ...]  # the selected entries not archived, then the unsealed log, newest first
    prev_archive: str | None  # the URL of the newest page
    warnings: tuple[Problem, ...]  # pages found in the output that could not be read


def update(outputs: Outputs, site: Site, topic: Topic, entries: Sequence[Entry]) -> Archived:
    """Bring `topic`'s archive up to date with the entries it selected: seal the pages
    that are full, and return what the subscription feed shows."""
    slug, store = topic.slug, outputs.store
    pages = store.archive_pages(slug)
    _adopt_pages(outputs, slug, (pages[-1] if pages else 0) + 1)
    rows = store.archive_entries(slug)
    noted, warnings = _read_found_pages(outputs, slug, {r.page for r in rows})
    if noted:
        rows = store.archive_entries(slug)
    sealed = {r.id for r in rows if r.page > 0}
    stored = {r.id: r.entry for r in rows if r.entry is not None}
    plan = plan_archive(
        [e.id for e in entries],
        [r.id for r in rows if r.page == -1],
        [r.id for r in rows if r.page == 0],
        sealed,
        max(1, topic.rules.limit),
    )
    by_id = {e.id: e for e in entries}
    updates = [ArchiveRow(i, -1, n, codec.encode_entry(by_id[i])) for n, i in enumerate(plan.shown)]
    updates += [ArchiveRow(i, 0, n, stored[i]) for n, i in enumerate(plan.log)]
    pages = store.archive_pages(slug)
    number = (pages[-1] if pages else 0) + 1
    for page in plan.pages:
        number = _adopt_pages(outputs, slug, number)
        url = _url(site, slug, number)
        page_entries = [codec.decode_entry(stored[i]) for i in reversed(page)]  # newest first, as a feed
        previous = _url(site, slug, number - 1) if number > 1 else None
        following = _url(site, slug, number + 1)
        data = render_archive(site, topic, page_entries, __version__, url, previous, following)
        store.add_archive_page(slug, number, data)
        updates += [ArchiveRow(i, number, n, None) for n, i in enumerate(page)]
        number += 1
    number = _adopt_pages(outputs, slug, number)
    store.set_archive_entries(slug, updates)
    shown = [by_id[i] for i in plan.shown]
    shown += [codec.decode_entry(stored[i]) for i in reversed(plan.log)]
    return Archived(tuple(shown), _url(site, slug, number - 1) if number > 1 else None, warnings)


def put_back(outputs: Outputs, slug: str) -> Put:
    """Put in place the archive pages of topic `slug` that are not as written (new,
    or removed or changed since); pages this state did not make are left alone."""
    store, destination = outputs.store, outputs.destination
    missing = {}
    for number in store.archive_pages(slug):
        name = archive_name(slug, number)
        known = outputs.recorded.get(name)
        if known is None or destination.stamp(name) != known:
            data = store.archive_page(slug, number)
            if data is not None:
                missing[name] = data
    return outputs.put(missing)


def _adopt_pages(outputs: Outputs, slug: str, number: int) -> int:
    """The first page number from `number` on that the output does not hold yet.
    Pages found there that the state does not know (it was lost, or restored from
    an old copy) are kept as they are, never written over: numbering goes on after them."""
    store, destination = outputs.store, outputs.destination
    while destination.stamp(archive_name(slug, number)) is not None and number not in set(
        store.archive_pages(slug)
    ):
        store.add_archive_page(slug, number, None)
        number += 1
    return number


def _read_found_pages(outputs: Outputs, slug: str, known: set[int]) -> tuple[bool, tuple[Problem, ...]]:
    """Note as sealed the entries of the pages found in the output whose entries
    the state does not know (those `known` it does), read from the pages
    themselves: else a state that was lost would seal them again, in new pages.
    A page that cannot be read is left as it is, and reported. Return whether any
    entries were noted, and the reports."""
    store, destination = outputs.store, outputs.destination
    noted = False
    warnings: list[Problem] = []
    for number in store.found_pages(slug):
        if number in known:
            continue
        name = archive_name(slug, number)
        try:
            data = destination.read(name)
            ids = () if data is None else page_ids(data)
        except (OSError, ValueError) as exc:
            why = f"archive page not read ({exc}); kept as it is, but its entries may be archived again"
            warnings.append(Problem(printable(str(destination.location(name))), None, None, why))
            continue
        # A page lists its entries newest first; the state keeps them in the log's order.
        sealed = [ArchiveRow(i, number, n, None) for n, i in enumerate(reversed(ids))]
        store.set_archive_entries(slug, sealed)
        noted = noted or bool(ids)
    return noted, tuple(warnings)


def _url(site: Site, slug: str, number: int) -> str:
    return f"{site.base_url}{archive_name(slug, number)}"
