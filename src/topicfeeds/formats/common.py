"""What every output format shares: file names, media types, and the listing of topics
that the site-level files (index, OPML) are made from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..config import Format, Topic

SUFFIXES: dict[Format, str] = {"atom": ".atom", "rss": ".rss", "json": ".json", "html": ".html"}
MEDIA_TYPES: dict[Format, str] = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
    "html": "text/html",
}
LABELS: dict[Format, str] = {"atom": "Atom feed", "rss": "RSS feed", "json": "JSON Feed", "html": "page"}
FEED_FORMATS: tuple[Format, ...] = ("atom", "rss", "json")  # the formats a reader subscribes to

INDEX = "index.html"
OPML = "topics.opml"
PAGE_STYLESHEET = "style.css"


@dataclass(frozen=True, slots=True)
class TopicListing:
    """What the index and the OPML file show of one topic: nothing from its entries
    but their number and the newest date, so they change only when those do."""

    slug: str
    title: str
    description: str
    entries: int
    newest: datetime | None  # when the newest entry was published; None when the topic is empty
    formats: tuple[Format, ...]
    automatic: bool = False  # made by `auto`: the index lists it, but names no feed of it in its head

    def file(self, fmt: Format) -> str:
        """The name of this topic's file in format `fmt`."""
        return f"{self.slug}{SUFFIXES[fmt]}"

    @property
    def feeds(self) -> tuple[Format, ...]:
        """The formats of this topic a reader can subscribe to."""
        return tuple(f for f in self.formats if f in FEED_FORMATS)


def topic_files(topic: Topic) -> tuple[str, ...]:
    """The names of the files `topic` gets."""
    return tuple(f"{topic.slug}{SUFFIXES[f]}" for f in topic.rules.formats)


def listing_of(topic: Topic, entries: int, newest: datetime | None) -> TopicListing:
    """The listing of `topic` as last built."""
    return TopicListing(
        topic.slug, topic.title, topic.description, entries, newest, topic.rules.formats, topic.automatic
    )


def preferred_feed(listing: TopicListing) -> Format | None:
    """The one feed a reader subscribing to every topic at once gets: Atom when there is one."""
    return "atom" if "atom" in listing.feeds else next(iter(listing.feeds), None)


def uses(listings: Sequence[TopicListing], *formats: Format) -> bool:
    """Whether any topic gets one of `formats`."""
    return any(f in formats for t in listings for f in t.formats)
