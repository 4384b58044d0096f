"""JSON Feed 1.1: `<slug>.json`, the same entries as the Atom feed.

Ids, titles, links, dates, the provider (as author), topics (as tags) and the first
image map to JSON Feed's own fields. JSON Feed has no related links, so they go where
the spec leaves room: in `enclosure` mode as `attachments` (text/html, like Atom's
enclosure links), otherwise in a `_related` extension object; the record that cited
a related article (in `entries` mode) is a `_via` object. Text is text: JSON Feed's
`content_text`, never HTML.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..core.model import Entry, Related
from .feedgen import home_page
from .spec import Context, FormatSpec

SPEC = FormatSpec(
    name="json",
    suffix=".json",
    media_type="application/feed+json",
    label="JSON Feed",
    kind="feeds",
    feed=True,
    websub=True,
    default=True,
)

VERSION = "https://jsonfeed.org/version/1.1"
# Where the two extension objects are described, as the spec asks of extensions.
ABOUT = "https://jsonfeed.org/version/1.1#extensions"


def render(context: Context) -> bytes:
    """The topic's JSON Feed."""
    site, topic = context.site, context.topic
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": f"{site.title}: {topic.title}",
        "home_page_url": home_page(site, topic.slug, topic.rules.formats),
        "feed_url": f"{site.base_url}{topic.slug}{SPEC.suffix}",
        "description": topic.description,
        "authors": [_author(site.author.name, site.author.uri or _mailto(site.author.email))],
    }
    if site.language:
        feed["language"] = site.language
    if site.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub.url} for hub in site.hubs]
    feed["items"] = [_item(entry, topic.rules.related) for entry in context.entries]
    # One line: with `indent` the json module falls back to its pure-Python encoder,
    # several times slower, and readers do not care.
    text = json.dumps(feed, ensure_ascii=False) + "\n"
    return text.encode("utf-8")


def _item(entry: Entry, mode: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.link,
        "title": entry.title,
        # As in Atom: an entry without text has its title as its text.
        "content_text": entry.excerpt or entry.title,
        "date_published": _date(entry.published),
        "date_modified": _date(entry.updated),
    }
    if entry.excerpt:
        item["summary"] = entry.excerpt
    if entry.provider is not None:
        item["authors"] = [_author(entry.provider.name, entry.provider.url)]
    if entry.topics:
        item["tags"] = list(entry.topics)
    if entry.images:
        item["image"] = entry.images[0].url
    if mode == "enclosure" and entry.related:
        item["attachments"] = [
            {"url": r.url, "mime_type": "text/html", "title": r.title} for r in entry.related
        ]
    elif mode in ("see-also", "entries") and entry.related:
        item["_related"] = {"about": ABOUT, "links": [_related(r) for r in entry.related]}
    if entry.via:
        item["_via"] = {"about": ABOUT, "url": entry.via, "title": entry.via_title or entry.via}
    return item


def _related(related: Related) -> dict[str, Any]:
    link: dict[str, Any] = {"url": related.url, "title": related.title}
    if related.provider is not None:
        link["provider"] = _author(related.provider.name, related.provider.url)
    return link


def _author(name: str, url: str | None) -> dict[str, str]:
    return {"name": name, **({"url": url} if url else {})}


def _mailto(email: str | None) -> str | None:
    return f"mailto:{email}" if email else None


def _date(when: datetime) -> str:
    return when.isoformat()
