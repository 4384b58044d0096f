"""The topics a run rebuilds, a batch at a time: each chosen (choose.py), its archive
brought up to date (archives.py), then the batch's files made in worker processes and
put in place as they come (publish.py), in the topics' order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import __version__
from ..config import Topic
from ..core.incremental import last_feed
from ..core.schedule import feed_updated
from ..core.shortlist import Shortlist
from ..errors import Problem, PublishError
from ..formats import topic_digest, topic_due, topic_files
from ..records.codec import micros
from . import archives, choose
from .context import Context
from .listing import Counts
from .publish import Outputs, Put, render_all
from .refresh import Refreshed
from .report import TopicReport
from .view import RecordView

# Topics chosen before their files are made in parallel: enough to keep the workers
# busy, few enough that their entries (whole records) take little memory.
RENDER_BATCH = 64


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What rebuilding some topics came to."""

    reports: tuple[TopicReport, ...]
    failures: tuple[PublishError, ...]  # files and archive pages that could not be put
    warnings: tuple[Problem, ...]  # archive pages found in the output that could not be read


@dataclass(frozen=True, slots=True)
class _Made:
    """One topic chosen, before its files are made."""

    choice: choose.Choice
    feed: choose.Feed
    digest: str  # of what its files are made of
    render: bool  # whether its files must be made (else the files in place are these)
    pages: Put  # its archive pages put in place
    warnings: tuple[Problem, ...]


def rebuild(
    run: Context,
    outputs: Outputs,
    topics: Sequence[Topic],
    refreshed: Refreshed,
    counts: Counts,
    due: dict[str, int | None],
) -> Rebuilt:
    """Choose, render and put each of `topics`; note in `counts` what each now lists.
    `due` is each topic's due time as the last run left it."""
    store, now = run.store, run.now
    reports: list[TopicReport] = []
    failures: list[PublishError] = []
    warnings: list[Problem] = []
    view = RecordView(store, now)
    plans = choose.plans(view, store, topics, full=refreshed.full, expired=refreshed.expired,
                         changed=refreshed.changed)  # fmt: skip
    # Every article a topic updates its feed from, asked of the store at once.
    view.copies(i for plan in plans.values() if plan.ids is not None for i in plan.ids)
    rendered = store.rendered()
    # Topics that choose from all their records do so from shortlists, filled together.
    shortlists = view.shortlists([t for t in topics if plans[t.slug].ids is None], refreshed.shortlists)
    done = 0
    for start in range(0, len(topics), RENDER_BATCH):
        # Chosen here, a batch at a time; their files made in parallel (see
        # render_all), each put in place as it comes, in the topics' order.
        made = [
            _choose(run, view, t, plans[t.slug], shortlists, outputs, rendered)
            for t in topics[start : start + RENDER_BATCH]
        ]
        files = render_all(run.config.site, [m.feed for m in made if m.render], run.jobs, now)
        for m in made:
            topic, entries = m.feed.topic, m.feed.entries
            counts[topic.slug] = (len(entries), max((e.published for e in entries), default=None))
            warnings += m.warnings
            failures += m.pages.failures
            if m.render:
                put = outputs.put(next(files))
            else:  # made of the same as the files in place: the same bytes, not made again
                put = Put((), tuple(outputs.location(name) for name in topic_files(topic)), ())
            failures += put.failures
            if not put.failures:
                when = choose.due(topic, m.choice, now, due.get(topic.slug))
                # A format that reads the run's time says when its file next changes.
                made_due = topic_due(run.config.site, topic, entries, __version__, m.feed.updated,
                                     m.feed.prev_archive, now)  # fmt: skip
                if made_due is not None:
                    when = micros(made_due) if when is None else min(when, micros(made_due))
                store.set_topic(topic.slug, when, last_feed(m.choice.selection).floor)
                rendered[topic.slug] = m.digest
            else:
                store.forget_topic(topic.slug)  # so the next run writes it again
                rendered.pop(topic.slug, None)
            reports.append(TopicReport(topic.slug, (*m.pages.written, *put.written), put.unchanged))
            done += 1
            run.progress("feeds", done, len(topics))
    if topics:
        store.set_rendered(rendered)
    return Rebuilt(tuple(reports), tuple(failures), tuple(warnings))


def _choose(
    run: Context,
    view: RecordView,
    topic: Topic,
    plan: choose.Plan,
    shortlists: dict[str, Shortlist],
    outputs: Outputs,
    rendered: dict[str, str],
) -> _Made:
    """What `topic` publishes: its selection and entries (with their history), its
    archive brought up to date (the pages put in place first: the feed never links
    a page that is not there yet), and whether its files must be made again."""
    now, site = run.now, run.config.site
    choice = choose.choose(view, topic, plan, shortlists)
    entries = choose.entries_of(run.store, topic, choice.selection, now)
    prev_archive = None
    pages = Put((), (), ())
    warnings: tuple[Problem, ...] = ()
    if topic.rules.archive:
        archived = archives.update(outputs, site, topic, entries)
        entries, prev_archive, warnings = list(archived.entries), archived.prev_archive, archived.warnings
        pages = archives.put_back(outputs, topic.slug)
    updated = feed_updated(entries, choose.shown_at(topic, now))
    digest = topic_digest(site, topic, entries, __version__, updated, prev_archive, now)
    render = rendered.get(topic.slug) != digest or not outputs.intact(topic_files(topic))
    feed = choose.Feed(topic, tuple(entries), updated, prev_archive)
    return _Made(choice, feed, digest, render, pages, warnings)
