"""What every output format shares: file names, and the listing of topics that the
site-level files (index, OPML) are made from. What each format is comes from its
description in the registry (spec.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..config import Format, Topic
from .spec import INDEX, OPML, PAGE_STYLESHEET, SITE_FILES, FeedFormats, Suffixes, spec_of

SUFFIXES = Suffixes()  # each format's suffix by its name
FEED_FORMATS = FeedFormats()  # the formats a reader subscribes to

__all__ = ["FEED_FORMATS", "INDEX", "OPML", "PAGE_STYLESHEET", "SUFFIXES"]


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
        return f"{self.slug}{spec_of(fmt).suffix}"

    @property
    def feeds(self) -> tuple[Format, ...]:
        """The formats of this topic a reader can subscribe to."""
        return tuple(f for f in self.formats if spec_of(f).feed)


def topic_files(topic: Topic) -> tuple[str, ...]:
    """The names of the files `topic` gets."""
    return tuple(f"{topic.slug}{spec_of(f).suffix}" for f in topic.rules.formats)


def listing_of(topic: Topic, entries: int, newest: datetime | None) -> TopicListing:
    """The listing of `topic` as last built."""
    return TopicListing(
        topic.slug, topic.title, topic.description, entries, newest, topic.rules.formats, topic.automatic
    )


def preferred_feed(listing: TopicListing) -> Format | None:
    """The one feed a reader subscribing to every topic at once gets: Atom when there is one."""
    return "atom" if "atom" in listing.feeds else next(iter(listing.feeds), None)


def site_file_names(listings: Sequence[TopicListing]) -> tuple[str, ...]:
    """The names of the site-level files the topics call for: those their formats link
    to, and the OPML list when a topic has a feed."""
    used = {spec_of(f) for f in {f for t in listings for f in t.formats}}
    wanted = {name for spec in used for name in spec.site_files}
    if any(spec.feed for spec in used):
        wanted.add(OPML)
    return tuple(f.name for f in SITE_FILES if f.name in wanted)
