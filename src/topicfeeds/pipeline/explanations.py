"""Why a record is or is not in each topic's feed: the build's own stages (refresh,
then the choosing stage's selection), over the records as they are now, in a
transaction that is rolled back.

Most answers follow from the state: a topic whose last feed still holds is brought up
to date from it and the articles changed since, with the record's own article among
them, as an incremental build does (core/incremental.py), which reads a few dozen
records rather than every record of the topic. Only where that cannot tell (no last
feed, another configuration, a place opened in a full feed, a time before the last
build's) is the topic chosen from all its records. A topic whose rules exclude the
record (most topics, for most records) is not chosen at all: the verdict says why
from the record alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from ..config import Config, Topic
from ..core.incremental import update_holds
from ..core.model import Record
from ..core.rules import exclusion
from ..core.select import Selection, verdict
from ..errors import Problem, RecordError, display_path
from ..records.codec import micros
from ..records.reader import read_record
from ..runtime.workers import available_cpus
from ..sources import RecordSource, open_source
from ..sources.stamps import Listing
from ..store import fault
from ..store.opening import open_store
from . import choose, refresh
from .context import Context
from .report import shown_key
from .run import check_records_folder, fingerprint
from .view import RecordView


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a record is or is not in each topic's feed."""

    record: Record
    shown: str  # the record's file, as the user would write it
    warnings: tuple[Problem, ...]  # about parts of it that were dropped
    verdicts: tuple[tuple[str, str], ...]  # (topic slug, verdict) for every topic


def explain(
    config: Config, path: Path | str, now: datetime | None = None, *, wait: float = 0.0
) -> Explanation:
    """Whether each topic selects the record in file `path` (or at an s3:// address in the
    records bucket), and if not, why: the build's own selection, over the records as
    they are now. The state store saves reparsing what is unchanged; nothing is
    written, and the output folder is not needed. Raises RecordError when the file
    cannot be read as a record."""
    (found,) = explain_each(config, [path], now, wait=wait)
    if isinstance(found, RecordError):
        raise found
    return found


@dataclass(frozen=True, slots=True)
class _Named:
    """A record a command named, read, before it is explained."""

    record: Record
    shown: str  # as the user would write it
    warnings: tuple[Problem, ...]
    name: str | None  # its name in the records source when named by its address there
    inside: bool  # whether it is among the records folder's files, as far as its path says


def explain_each(
    config: Config,
    paths: Sequence[Path | str],
    now: datetime | None = None,
    *,
    wait: float = 0.0,
    full: bool = False,
) -> list[Explanation | RecordError]:
    """`explain` for each of `paths` in turn, over one reading of the records and the
    state: an Explanation for each, or the RecordError that says why it could not be
    read as a record. With `full`, every topic is chosen from all its records, as
    `build --full` chooses, rather than from its last feed where that holds: the same
    answers, more slowly."""
    check_records_folder(config)
    now = now or datetime.now(timezone.utc)
    source = open_source(config)
    named: list[_Named | RecordError] = []
    for path in paths:
        try:
            named.append(_named(config, source, path))
        except RecordError as exc:
            named.append(exc)
    if all(isinstance(n, RecordError) for n in named):
        return [n for n in named if isinstance(n, RecordError)]  # nothing to prepare a run for
    state = config.state_path if config.state_path is not None and config.state_path.exists() else None
    found: list[Explanation | RecordError] = []
    with open_store(config, wait=wait, look=True) as (store, _):
        try:
            with store.scratch():  # whatever the run learns is rolled back
                run = Context(config, source, store, now, available_cpus())
                listing, refreshed = _refreshed(run)
                # The last feeds tell only for times from their choice on (see run.py).
                chosen = store.meta("chosen")
                full = full or refreshed.full or not chosen or int(chosen) > micros(now)
                view = RecordView(store, now)
                shown = partial(shown_key, source)
                for n in named:
                    if isinstance(n, RecordError):
                        found.append(n)
                        continue
                    inside = n.inside and (n.name is None or n.name in listing)
                    extra = () if inside else (n.record,)  # explained as if it were in the folder
                    topics, _ = choose.run_topics(config, store, extra)
                    plans = choose.plans(view, store, topics, full=full, expired=refreshed.expired,
                                         changed=refreshed.changed)  # fmt: skip
                    chosen_for = {t.slug: _selection(view, t, plans[t.slug], n.record, extra) for t in topics}
                    verdicts = tuple(
                        (t.slug, verdict(n.record, chosen_for[t.slug], now, shown)) for t in topics
                    )
                    found.append(Explanation(n.record, n.shown, n.warnings, verdicts))
        except sqlite3.DatabaseError as exc:
            raise fault(state or "state in memory", exc) from exc
        finally:
            store.close()
    return found


def _named(config: Config, source: RecordSource, path: Path | str) -> _Named:
    """The record a command names by `path`: a file, or an address in the records source."""
    name = source.named(str(path))
    if name is None:
        path = Path(path)
        record, warnings = read_record(path, max_bytes=config.max_record_bytes)
        inside = config.records_url is None and path.resolve().parent == config.records_dir
        return _Named(record, display_path(path), tuple(warnings), None, inside)
    record, warnings = source.read(name, config.max_record_bytes)
    return _Named(record, source.shown(name), tuple(warnings), name, True)


def _selection(
    view: RecordView, topic: Topic, plan: choose.Plan, record: Record, extra: Sequence[Record]
) -> Selection:
    """What `topic` selects from the stored records and `extra`, as far as the verdict
    on `record` reads it: its entries, and the duplicates of `record`'s article. From
    the last feed and the changed articles, with `record`'s own (which may stand for
    its article, or be a copy of another), when that gives the choice from every
    record (see core/incremental.py); else from every record. Nothing is chosen for a
    topic whose rules exclude `record`: the verdict reads no selection then, and most
    topics exclude most records by their topics alone."""
    if exclusion(record, topic, view.now) is not None:
        return Selection(topic, (), (), ())
    if plan.last is not None and plan.ids is not None:
        narrow = view.select(topic, view.copies_for(topic, plan.ids | {record.id}), extra)
        if update_holds(plan.last, narrow):
            return narrow
    return view.select(topic, extra=extra)


def _refreshed(run: Context) -> tuple[Listing, refresh.Refreshed]:
    """Bring the stored records up to date with the records source, as a build does
    (a full run when the state was left by another configuration), with no removal
    refused; return the records listed, and what it found."""
    prepared = refresh.prepare(run.store, fingerprint(run.config), run.now)
    found = refresh.changes(run)
    # Nothing here chooses from shortlists: none is filled as the records are stored.
    return found.listed, refresh.refresh(run, found, prepared, allow_removals=True, stream=False)
