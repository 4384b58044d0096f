"""The stage that makes and puts the files: each chosen topic's files rendered in worker
processes, put in the destination when their bytes changed and noted in the state,
the site-level files brought up to date, and the files no longer made removed as far
as asked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..config import Config, Site, Topic
from ..core.archive import archive_name
from ..core.removals import RemovalPlan, plan_removals
from ..destinations import Destination
from ..errors import PublishError
from ..formats import listing_of, render_site, render_topic, site_file_names, topic_files
from ..formats.common import SUFFIXES
from ..runtime.workers import iter_files
from ..store import StateStore
from .choose import Feed
from .listing import Counts, encode_counts, site_digest

# Fewer topics to make than this are made here: forking costs about as much as
# making the files of a few small topics.
RENDER_PARALLEL_MIN = 8


def render_all(
    site: Site, feeds: Sequence[Feed], jobs: int, now: datetime | None = None
) -> Iterator[dict[str, bytes]]:
    """The files of each of `feeds`, in order, made by up to `jobs` processes (see
    workers.py) at the run's time `now`: rendering is pure, and the run's own process
    puts each in place."""

    def make(f: Feed) -> dict[str, bytes]:
        return render_topic(site, f.topic, f.entries, __version__, f.updated, f.prev_archive, now)

    return iter_files(feeds, make, jobs, per_chunk=1, least=RENDER_PARALLEL_MIN)


@dataclass(frozen=True, slots=True)
class Put:
    """What putting some files in place came to."""

    written: tuple[Path | str, ...]  # whose bytes changed
    unchanged: tuple[Path | str, ...]  # left as they were
    failures: tuple[PublishError, ...]


def resending(destination: Destination, store: StateStore, sent: str) -> bool:
    """Whether every file is to be sent again: what is sent with the bytes (`sent`, a
    digest of an object's Cache-Control) is not what the files in place were sent
    with, which their bytes do not show. A state that has published nothing notes it
    at once; one that published before it was noted sends every file once. The
    destination is told; a folder, which keeps the bytes only, has nothing to resend."""
    noted = store.meta("sent")
    if noted == sent:
        return False
    if (noted is not None or store.outputs()) and destination.resend():
        # Until the run's end: a run cut short leaves the sending to the next one.
        store.set_meta("sent", "")
        return True
    store.set_meta("sent", sent)
    return False


class Outputs:
    """The files a run publishes: its destination, and what the state recorded of each
    file it put there (read once a run: topics ask in turn)."""

    def __init__(self, destination: Destination, store: StateStore, *, resend: bool = False) -> None:
        self.destination = destination
        self.store = store
        self.resend = resend  # every file is sent again, its bytes in place or not (see resending)
        # File name: its stamp when last put. When every file is sent again, none counts
        # as in place: every topic, page and site file is put.
        self.recorded = {} if resend else store.outputs()
        self.changed: list[str] = []  # files whose bytes this run changed, in order

    def put(self, files: dict[str, bytes]) -> Put:
        """Put each file in place when its bytes changed and note it in the state."""
        written: list[Path | str] = []
        unchanged: list[Path | str] = []
        failures: list[PublishError] = []
        for name, data in files.items():
            where = self.destination.location(name)
            try:
                same = self.resend and self.destination.holds(name, data)  # sent again, not changed
                changed, stamp = self.destination.put(name, data)
                (written if changed else unchanged).append(where)
                if changed and not same:
                    self.changed.append(name)
                self.store.set_output(name, *stamp)
                self.recorded[name] = stamp
            except (PublishError, OSError) as exc:
                failures.append(exc if isinstance(exc, PublishError) else PublishError(where, str(exc)))
        return Put(tuple(written), tuple(unchanged), tuple(failures))

    def intact(self, names: Iterable[str] | None = None) -> bool:
        """Whether the files (`names`, or every one recorded) are as this program left them."""
        recorded = self.recorded
        if names is not None:
            wanted = list(names)
            if any(name not in self.recorded for name in wanted):
                return False
            recorded = {name: self.recorded[name] for name in wanted}
        stamp = self.destination.stamp
        return all(stamp(file) == known for file, known in recorded.items())

    def location(self, name: str) -> Path | str:
        """Where file `name` is published, as reports name it."""
        return self.destination.location(name)


def publish_site(outputs: Outputs, site: Site, topics: Sequence[Topic], counts: Counts) -> tuple[Put, int]:
    """Bring the site-level files up to date when a topic's listing (`counts`) changed
    or one of them is not as it was left; return what that came to, and how many
    there are."""
    store = outputs.store
    listings = [listing_of(t, *counts[t.slug]) for t in topics]
    names = site_file_names(listings)
    digest = site_digest(site, listings, __version__)
    store.set_meta("topic_counts", encode_counts({t.slug: counts[t.slug] for t in topics}))
    if store.meta("site") == digest and outputs.intact(names):
        return Put((), (), ()), len(names)
    put = outputs.put(render_site(site, listings, __version__))
    store.set_meta("site", "" if put.failures else digest)
    return Put(put.written, (), put.failures), len(names)


@dataclass(frozen=True, slots=True)
class Removed:
    """What removing the files no longer made came to."""

    removed: tuple[Path | str, ...]
    failures: tuple[PublishError, ...]  # files that could not be removed
    plan: RemovalPlan
    gone: tuple[str, ...] = ()  # the names of those removed


def remove_unmade(outputs: Outputs, config: Config, topics: Sequence[Topic]) -> Removed:
    """Remove the files this program published and no longer makes, as far as asked
    (see removals.py)."""
    store, destination = outputs.store, outputs.destination
    listings = [listing_of(t, 0, None) for t in topics]
    made = {name for t in topics for name in topic_files(t)} | set(site_file_names(listings))
    # An archived topic's pages are made as long as it is archived: never removed.
    made |= {archive_name(t.slug, n) for t in topics if t.rules.archive for n in store.archive_pages(t.slug)}
    published = store.outputs()
    unmade = published.keys() - made
    present = {name: destination.stamp(name) for name in unmade}
    plan = plan_removals(published, present, made, config.retire,
                         delete=config.delete, max_deletes=config.max_deletes,
                         suffixes=SUFFIXES.values())  # fmt: skip
    place = str(config.output_url or config.output_dir)
    if store.meta("output_place") != place:
        # Published elsewhere, before the output moved: not this place's to remove.
        plan = RemovalPlan((), (), tuple(sorted(unmade)))
        store.set_meta("output_place", place)
    removed: list[Path | str] = []
    gone: list[str] = []
    failures: list[PublishError] = []
    for name in plan.remove:
        try:
            destination.withdraw(name)
        except PublishError as exc:
            failures.append(exc)  # still published: the next run tries again
            continue
        removed.append(destination.location(name))
        gone.append(name)
        store.forget_output(name)
    for name in plan.forget:
        store.forget_output(name)
    store.set_meta("held", str(len(plan.kept) + len(failures)))
    return Removed(tuple(removed), tuple(failures), plan, tuple(gone))


def removals_waiting(config: Config, store: StateStore) -> bool:
    """Whether files an earlier run left in place are now asked to go."""
    return config.delete and store.meta("held") not in (None, "", "0")
