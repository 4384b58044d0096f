"""Atom 1.0: `<slug>.atom`, and the topic's RFC 5005 archive pages (`<slug>.archive-<n>.atom`)."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from ..config import Site, Topic
from ..core.model import Entry
from .feedgen import feed_urls, generator, home_page, new_generator, with_stylesheet
from .spec import FEED_STYLESHEET, Context, FormatSpec

SPEC = FormatSpec(
    name="atom",
    suffix=".atom",
    media_type="application/atom+xml",
    label="Atom feed",
    kind="feeds",
    feed=True,
    websub=True,
    default=True,
    browser_type="application/xml",
    site_files=(FEED_STYLESHEET,),
)


def render(context: Context) -> bytes:
    """The topic's Atom feed, dated `context.updated` (by default, by its newest entry);
    it links the topic's newest archive page (`context.prev_archive`), when it has one."""
    c = context
    fg = generator(c.site, c.topic, c.entries, c.version, c.updated)
    return _atom(fg, c.site, c.topic, c.prev_archive)


def render_archive(
    site: Site, topic: Topic, entries: Sequence[Entry], version: str, url: str,
    prev_url: str | None, next_url: str,
) -> bytes:  # fmt: skip
    """An RFC 5005 archive page of `topic` at `url`, holding `entries`: `fh:archive`, a
    `current` link to the subscription feed, `prev-archive` (`prev_url`, unless it is
    the first page) and `next-archive` (`next_url`, where the next page will be)."""
    fg = new_generator(site, topic, entries, version, None)
    fg.id(url)
    fg.topicfeeds.archive = True
    atom_url, _ = feed_urls(site, topic)
    links = [
        {"href": home_page(site, topic.slug, topic.rules.formats), "rel": "alternate", "type": "text/html"},
        {"href": url, "rel": "self", "type": "application/atom+xml"},
        {"href": atom_url, "rel": "current", "type": "application/atom+xml"},
        *([{"href": prev_url, "rel": "prev-archive", "type": "application/atom+xml"}] if prev_url else []),
        {"href": next_url, "rel": "next-archive", "type": "application/atom+xml"},
    ]
    fg.link(links, replace=True)
    return with_stylesheet(fg.atom_str(pretty=True))


def _atom(fg: FeedGenerator, site: Site, topic: Topic, prev_archive: str | None) -> bytes:
    atom_url, _ = feed_urls(site, topic)
    home = {"href": home_page(site, topic.slug, topic.rules.formats), "rel": "alternate", "type": "text/html"}
    hubs = [{"href": hub.url, "rel": "hub"} for hub in site.hubs]
    atom_type = "application/atom+xml"
    archive = [{"href": prev_archive, "rel": "prev-archive", "type": atom_type}] if prev_archive else []
    links = [home, {"href": atom_url, "rel": "self", "type": "application/atom+xml"}, *hubs, *archive]
    fg.link(links, replace=True)  # every link it writes: the generator is shared with RSS
    return with_stylesheet(fg.atom_str(pretty=True))
