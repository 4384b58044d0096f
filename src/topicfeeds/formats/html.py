"""Web pages: `<slug>.html` for a topic and `index.html` for them all.

Rendered by Jinja2 with autoescaping on: record text is always text. Links between
the files are relative, so the pages work wherever the output folder is served.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..config import Format, Site
from .common import OPML, TopicListing, site_file_names
from .spec import INDEX, PAGE_STYLESHEET, Context, FormatSpec, spec_of

if TYPE_CHECKING:
    import jinja2

SPEC = FormatSpec(
    name="html",
    suffix=".html",
    media_type="text/html",
    label="page",
    kind="pages",
    default=True,
    site_files=(INDEX, PAGE_STYLESHEET),  # "All topics" and the pages' stylesheet
    prepare=lambda: _templates(),  # defined below
)


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A link to one of a topic's feeds, its text meaningful on its own."""

    href: str
    media_type: str
    title: str  # e.g. "Space, Atom feed"


@dataclass(frozen=True, slots=True)
class IndexTopic:
    """A topic as the index shows it."""

    slug: str
    title: str
    description: str
    entries: int
    newest: datetime | None
    page: str | None  # its page, when it has one
    feeds: tuple[FeedLink, ...]


def render(context: Context) -> bytes:
    """The topic's page."""
    site, topic = context.site, context.topic
    feeds = _feed_links(topic.slug, topic.title, topic.rules.formats)
    page = (
        _environment()
        .get_template("topic.html")
        .render(
            site=site,
            topic=topic,
            entries=context.entries,
            related=topic.rules.related,
            feeds=feeds,
            autodiscovery=feeds,
            language=site.language or "en",
            version=context.version,
        )
    )
    return page.encode("utf-8")


def render_index(site: Site, listings: Sequence[TopicListing], version: str) -> bytes:
    """The index of every topic. Its head names the feeds of the configured topics only:
    `auto` can make thousands, listed in its body, too many for a reader to offer."""
    topics = [
        IndexTopic(
            t.slug,
            t.title,
            t.description,
            t.entries,
            t.newest,
            t.file(SPEC.name) if SPEC.name in t.formats else None,
            _feed_links(t.slug, t.title, t.formats),
        )
        for t in listings
    ]
    page = (
        _environment()
        .get_template("index.html")
        .render(
            site=site,
            topics=topics,
            autodiscovery=[
                f for t in listings if not t.automatic for f in _feed_links(t.slug, t.title, t.formats)
            ],
            opml=OPML if OPML in site_file_names(listings) else None,
            language=site.language or "en",
            version=version,
        )
    )
    return page.encode("utf-8")


def _feed_links(slug: str, title: str, formats: Sequence[Format]) -> tuple[FeedLink, ...]:
    """Links to the feeds among `formats`, in their order."""
    specs = [spec_of(f) for f in formats]
    return tuple(FeedLink(f"{slug}{s.suffix}", s.media_type, f"{title}, {s.label}") for s in specs if s.feed)


def human_date(when: datetime) -> str:
    """A date people read at a glance, in UTC: "28 Nov 2026, 08:00 UTC"."""
    utc = when.astimezone(timezone.utc)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def _templates() -> None:
    """Jinja2 loaded and both templates compiled."""
    for name in ("topic.html", "index.html"):
        _environment().get_template(name)


@functools.cache
def _environment() -> jinja2.Environment:
    # Imported when a page is rendered: a run with nothing to do never pays for it.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("topicfeeds.formats", "templates"),
        autoescape=True,  # every value is text; markup in a record stays text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["human_date"] = human_date
    return env
