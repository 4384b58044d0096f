"""Output formats behind one small interface.

Each topic format is a module with `render(site, topic, entries, version)` returning
{file name: bytes}; a topic gets the formats its `formats` rule lists. The site-level
files (the index, the OPML subscription list and the stylesheets) are made from a
listing of the topics alone, so they change only when a topic's listing does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ..config import Format, Site, Topic
from ..core.model import Entry
from . import atom, html, jsonfeed, opml, rss
from .common import (
    INDEX,
    MEDIA_TYPES,
    OPML,
    PAGE_STYLESHEET,
    SUFFIXES,
    TopicListing,
    listing_of,
    topic_files,
    uses,
)
from .feedgen import FEED_STYLESHEET
from .stylesheets import stylesheet


class Renderer(Protocol):
    """A topic format: the files it makes of `entries`; `updated` dates a feed that
    carries a time of its own (by default its newest entry's)."""

    def __call__(
        self,
        site: Site,
        topic: Topic,
        entries: Sequence[Entry],
        version: str,
        updated: datetime | None = None,
    ) -> dict[str, bytes]: ...


RENDERERS: dict[Format, Renderer] = {
    "atom": atom.render,
    "rss": rss.render,
    "json": jsonfeed.render,
    "html": html.render,
}


def render_topic(
    site: Site,
    topic: Topic,
    entries: Sequence[Entry],
    version: str,
    updated: datetime | None = None,
    prev_archive: str | None = None,
) -> dict[str, bytes]:
    """Every file of `topic`, in the order of its formats; `prev_archive`, the URL of
    its newest archive page, is linked from the Atom feed (RFC 5005 is Atom's)."""
    files: dict[str, bytes] = {}
    for fmt in topic.rules.formats:
        if fmt == "atom" and prev_archive is not None:
            files.update(atom.render(site, topic, entries, version, updated, prev_archive))
        else:
            files.update(RENDERERS[fmt](site, topic, entries, version, updated))
    return files


def topic_digest(
    site: Site,
    topic: Topic,
    entries: Sequence[Entry],
    version: str,
    updated: datetime | None = None,
    prev_archive: str | None = None,
) -> str:
    """A digest of everything `render_topic` makes `topic`'s files of: the same digest,
    the same bytes, so a run that finds it unchanged need not render them again."""
    made_of = repr((site, topic, tuple(entries), version, updated, prev_archive))
    return hashlib.sha256(made_of.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def site_file_names(listings: Sequence[TopicListing]) -> tuple[str, ...]:
    """The names of the site-level files the topics call for."""
    names = []
    if uses(listings, "html"):
        names += [INDEX, PAGE_STYLESHEET]
    if uses(listings, "atom", "rss", "json"):
        names.append(OPML)
    if uses(listings, "atom", "rss"):
        names.append(FEED_STYLESHEET)
    return tuple(names)


def render_site(site: Site, listings: Sequence[TopicListing], version: str) -> dict[str, bytes]:
    """The site-level files: index.html, topics.opml and the stylesheets they need."""
    files: dict[str, bytes] = {}
    for name in site_file_names(listings):
        if name == INDEX:
            files[name] = html.render_index(site, listings, version)
        elif name == OPML:
            files[name] = opml.render_opml(site, listings)
        else:
            files[name] = stylesheet(name)
    return files


__all__ = [
    "INDEX",
    "MEDIA_TYPES",
    "OPML",
    "RENDERERS",
    "SUFFIXES",
    "TopicListing",
    "listing_of",
    "render_site",
    "render_topic",
    "site_file_names",
    "topic_digest",
    "topic_files",
]
