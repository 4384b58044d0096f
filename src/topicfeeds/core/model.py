"""Immutable values that flow from the reader to the writer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

# A feed with no entries and no records at all still needs an <updated>; this
# fixed instant keeps such feeds byte-identical from run to run.
EMPTY_FEED_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Provider:
    """The outlet that published an article."""

    name: str  # display name, e.g. "The Conversation"
    url: str | None  # https://<domain>/ when the record gives a usable domain


@dataclass(frozen=True, slots=True)
class Image:
    """A picture that illustrates an article."""

    url: str  # absolute http(s) URI, ASCII only
    width: int | None  # pixels, when known
    height: int | None
    media_type: str | None  # guessed from the file extension, e.g. "image/jpeg"


@dataclass(frozen=True, slots=True)
class Related:
    """An article that a record cites as related reading."""

    id: str  # canonical URL: the entry id it gets in "entries" mode
    title: str
    url: str  # where a reader opens it
    excerpt: str
    published: datetime | None  # timezone-aware
    provider: Provider | None
    quality: float | None
    image: Image | None  # the first usable image, if any


@dataclass(frozen=True, slots=True)
class Record:
    """One article, as read from one record file; `secured` never gets here."""

    key: str  # the file's name within the records folder: which record this is
    id: str  # canonical article URL: stable across rebuilds and files
    title: str
    link: str  # the page a subscriber opens (webUrl, else originalUrl)
    excerpt: str
    published: datetime  # timezone-aware
    updated: datetime  # timezone-aware; equals `published` unless the record says otherwise
    type: str | None  # e.g. "article", "video"
    category: str | None  # e.g. "news"
    quality: float | None
    heat: float | None
    is_published: bool  # the record's `published` flag
    provider: Provider | None
    topics: tuple[str, ...]  # as written, duplicates removed case-insensitively
    images: tuple[Image, ...]
    related: tuple[Related, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of one topic's feed: a record, or in "entries" mode a related article."""

    id: str
    title: str
    link: str
    excerpt: str
    published: datetime
    updated: datetime
    provider: Provider | None
    quality: float | None
    heat: float | None
    topics: tuple[str, ...]
    images: tuple[Image, ...]
    related: tuple[Related, ...]
    via: str | None  # the link of the record that cited this related article
    via_title: str | None  # and its title


def entry_of(record: Record) -> Entry:
    """The entry a record becomes."""
    return Entry(
        id=record.id,
        title=record.title,
        link=record.link,
        excerpt=record.excerpt,
        published=record.published,
        updated=record.updated,
        provider=record.provider,
        quality=record.quality,
        heat=record.heat,
        topics=record.topics,
        images=record.images,
        related=record.related,
        via=None,
        via_title=None,
    )


def entry_of_related(related: Related, citing: Record) -> Entry | None:
    """The entry a related article becomes; None when it has no date, which an
    entry needs and which is not ours to invent."""
    when = related.published
    if when is None:
        return None
    return Entry(
        id=related.id,
        title=related.title,
        link=related.url,
        excerpt=related.excerpt,
        published=when,
        updated=when,
        provider=related.provider,
        quality=related.quality,
        heat=None,
        topics=citing.topics,
        images=(related.image,) if related.image else (),
        related=(),
        via=citing.link,
        via_title=citing.title,
    )


def entry_hash(entry: Entry) -> str:
    """A digest of what subscribers see of an entry, but its `updated` time."""
    seen = [
        entry.id, entry.title, entry.link, entry.excerpt, entry.published.isoformat(),
        entry.provider and [entry.provider.name, entry.provider.url], list(entry.topics),
        [[i.url, i.width, i.height, i.media_type] for i in entry.images],
        [[r.id, r.title, r.url] for r in entry.related], entry.via, entry.via_title,
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(seen, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]
