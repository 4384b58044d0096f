"""What the Atom and RSS formats (atom.py, rss.py) share: a feedgen generator of a
topic's entries, with the corrections feedgen needs.

feedgen 1.0.0 needs these corrections, all made here and pinned by the golden tests:
- it writes only `href` for an entry's links (lkiesow/python-feedgen#135), so every
  link but the alternate one is written by `_EntryExtension` with all its attributes;
- it prepends entries, so they are added with order="append";
- it stamps the feed and each entry with now(), so every time is set explicitly
  from the records: the same input gives the same bytes;
- its description() also fills Atom <content>, so the RSS description (HTML) is
  written by the extension, leaving Atom a plain-text summary;
- its category() rebuilds the entry's whole list on every call, so an entry's
  categories are given in one call (one call each made rendering quadratic).
- it has no way to add a processing instruction, so the CSS stylesheet that makes a
  feed readable in a browser is put after the XML declaration of its bytes.

What a browser shows of an entry is a small XHTML element the extension adds to it (see
`_view`): browsers render XHTML elements inside any XML document, links included, and
readers pass over an element of a namespace they do not know.

feedgen creates Atom elements without a namespace under a literal xmlns
attribute, so the extension's Atom elements are made the same way.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..config import Format, Site, Topic
from ..core.model import EMPTY_FEED_TIME, Entry, Image, Related
from .spec import FEED_STYLESHEET, Context, renderer_of

__all__ = ["EMPTY_FEED_TIME", "FEED_STYLESHEET", "RenderedFeed", "feed_urls", "home_page", "render"]

MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
XHTML_NS = "http://www.w3.org/1999/xhtml"

_STYLESHEET_PI = f'<?xml-stylesheet type="text/css" href="{FEED_STYLESHEET}"?>\n'.encode("ascii")


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """The two files of one topic."""

    atom: bytes
    rss: bytes


def feed_urls(site: Site, topic: Topic) -> tuple[str, str]:
    """Where the topic's Atom and RSS files are served."""
    return f"{site.base_url}{topic.slug}.atom", f"{site.base_url}{topic.slug}.rss"


def home_page(site: Site, slug: str, formats: Sequence[Format]) -> str:
    """The page a topic's feeds name as their alternate link (and the OPML file as its
    htmlUrl): the topic's own page when it has one, else the site's home page."""
    return f"{site.base_url}{slug}.html" if "html" in formats else site.link


def render(
    site: Site, topic: Topic, entries: Sequence[Entry], version: str, updated: datetime | None = None
) -> RenderedFeed:
    """Both feeds of `topic`, dated `updated` (by default, by their newest entry)."""
    # The formats' own renderers, from the registry: atom.py and rss.py import this module.
    context = Context(site, topic, entries, version, datetime.now(timezone.utc), updated)
    return RenderedFeed(renderer_of("atom")(context), renderer_of("rss")(context))


# A topic's Atom and RSS files are rendered one after the other from the same entries:
# building feedgen's entries once saves a third of the time. The last generator is kept
# with the very objects it was made from (held, so an identity test is sound; comparing
# entries field by field would cost what it saves). _atom and _rss each set every link
# they write, so sharing the generator is safe.
_last: list[tuple[Site, Topic, Sequence[Entry], str, datetime | None, FeedGenerator]] = []


def generator(
    site: Site, topic: Topic, entries: Sequence[Entry], version: str, updated: datetime | None
) -> FeedGenerator:
    """The generator of `topic`'s feeds, dated `updated` (by default, by its newest
    entry): the one made last when it was made of the same (see _last)."""
    if _last:
        last_site, last_topic, last_entries, last_version, last_updated, fg = _last[0]
        if (
            last_site is site and last_topic is topic and last_entries is entries
            and last_version == version and last_updated == updated
        ):  # fmt: skip
            return fg
    fg = new_generator(site, topic, entries, version, updated)
    _last[:] = [(site, topic, entries, version, updated, fg)]
    return fg


def new_generator(
    site: Site, topic: Topic, entries: Sequence[Entry], version: str, updated: datetime | None
) -> FeedGenerator:
    """A generator of `topic`'s `entries`, with every time set from them, its extension
    registered, and no link: each format sets the links it writes."""
    atom_url, _ = feed_urls(site, topic)
    fg = FeedGenerator()
    fg.register_extension("topicfeeds", _FeedExtension, _EntryExtension)
    fg.topicfeeds.hubs = tuple(hub.url for hub in site.hubs)
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(atom_url)
    fg.title(f"{site.title}: {topic.title}")
    fg.subtitle(topic.description)
    fg.author(
        {
            k: v
            for k, v in (("name", site.author.name), ("email", site.author.email), ("uri", site.author.uri))
            if v
        }
    )
    if site.language:
        fg.language(site.language)
    fg.generator(f"topicfeeds {version}")
    fg.updated(updated or max((e.updated for e in entries), default=EMPTY_FEED_TIME))
    for entry in entries:
        _add_entry(fg, entry, topic.rules.related)
    return fg


def with_stylesheet(xml: bytes) -> bytes:
    """The feed with the CSS processing instruction after its XML declaration: a
    browser opening it shows a readable page (no XSLT, which browsers are removing)."""
    declaration, newline, rest = xml.partition(b"\n")
    if not declaration.startswith(b"<?xml ") or not newline:
        raise ValueError("feedgen wrote no XML declaration line")  # the golden tests pin this
    return declaration + newline + _STYLESHEET_PI + rest


def _add_entry(fg: FeedGenerator, entry: Entry, mode: str) -> None:
    fe: FeedEntry = fg.add_entry(order="append")
    fe.guid(entry.id, permalink=entry.id == entry.link)
    fe.title(entry.title)
    fe.link(href=entry.link, rel="alternate")
    fe.published(entry.published)
    fe.updated(entry.updated)
    # An entry without text gets its title as summary: readers show something, and
    # Atom wants textual content where there is no <content>.
    fe.summary(entry.excerpt or entry.title)
    if entry.provider is not None:
        fe.author(
            {"name": entry.provider.name, **({"uri": entry.provider.url} if entry.provider.url else {})}
        )
        fe.dc.dc_creator(entry.provider.name)
    if entry.topics:
        # Once, with every category: feedgen rebuilds the whole list on each call.
        fe.category([{"term": topic} for topic in entry.topics])
    ext: _EntryExtension = fe.topicfeeds
    ext.entry = entry
    ext.images = entry.images
    ext.provider_source = entry.provider and entry.provider.url and (entry.provider.name, entry.provider.url)
    ext.via = entry.via
    ext.rss_description = _rss_description(entry, mode)
    if mode in ("see-also", "entries"):
        ext.atom_links = [_related_link(r, "related") for r in entry.related]
    elif mode == "enclosure":
        ext.atom_links = [_related_link(r, "enclosure") for r in entry.related]
        # feedgen's enclosure() would also add an Atom link it then writes without rel.
        ext.rss_enclosure = entry.related[0].url if entry.related else None


def _related_link(related: Related, rel: str) -> dict[str, str]:
    link = {"rel": rel, "href": related.url, "type": "text/html", "title": related.title}
    if rel == "enclosure":
        link["length"] = "0"  # the size of a web page is unknown; 0 says so (RSS practice)
    return link


def _rss_description(entry: Entry, mode: str) -> str:
    """HTML, escaped from plain text: readers render <description> as HTML."""
    parts = [f"<p>{html.escape(entry.excerpt)}</p>"] if entry.excerpt else []
    listed: Sequence[Related] = ()
    if mode in ("see-also", "entries"):
        listed = entry.related
    elif mode == "enclosure":
        listed = entry.related[1:]  # the first is the item's one <enclosure>
    if listed:
        items = "".join(f"<li>{_html_link(r)}</li>" for r in listed)
        parts.append(f"<p>See also:</p><ul>{items}</ul>")
    if entry.via:
        text = html.escape(entry.via_title or entry.via)
        parts.append(f'<p>Cited by <a href="{html.escape(entry.via)}">{text}</a></p>')
    return "".join(parts) or html.escape(entry.title)


def _view(entry: Entry, *, summary: bool) -> etree._Element:
    """What a browser shows of `entry` where feed.css hides the raw elements: its title
    as a link and its date in words, and with `summary` its excerpt too (RSS: CSS cannot
    show the escaped HTML of <description>; an Atom <summary> is shown as it is).
    The namespace is declared on the element itself: as a prefix on the root, the W3C
    validator would warn of it in Atom."""
    view = etree.Element(f"{{{XHTML_NS}}}div", nsmap={None: XHTML_NS})
    if not summary and not entry.excerpt:
        view.set("class", "bare")  # the Atom summary only repeats the title: hidden
    link = etree.SubElement(view, f"{{{XHTML_NS}}}a", href=entry.link)
    link.text = entry.title
    link.tail = reading_date(entry.published)
    if summary and entry.excerpt:
        etree.SubElement(view, f"{{{XHTML_NS}}}p").text = entry.excerpt
    return view


# Spelt out rather than strftime's %B, which follows the process's locale: the same
# records give the same bytes wherever the program runs.
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def reading_date(when: datetime) -> str:
    """A date in words, in UTC, as people write it: "7 December 2026"."""
    utc = when.astimezone(timezone.utc)
    return f"{utc.day} {_MONTHS[utc.month - 1]} {utc.year}"


def _html_link(related: Related) -> str:
    text = html.escape(related.title)
    if related.provider:
        text += f" ({html.escape(related.provider.name)})"
    return f'<a href="{html.escape(related.url)}">{text}</a>'


class _FeedExtension(BaseExtension):  # type: ignore[misc]
    """Writes the WebSub hub links of an RSS channel, which feedgen does not, and the
    `fh:archive` mark of an archive page."""

    def __init__(self) -> None:
        self.hubs: tuple[str, ...] = ()
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        # RSS already declares the atom prefix (feedgen's own self link uses it).
        # The history prefix only where it is used: every other feed stays as it was.
        return {"media": MEDIA_NS, **({"fh": HISTORY_NS} if self.archive else {})}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        if self.archive:
            # Among the feed's own elements, before its entries.
            mark = etree.Element(f"{{{HISTORY_NS}}}archive")
            first = feed.find("entry")
            if first is None:
                feed.append(mark)
            else:
                first.addprevious(mark)
        return feed

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        if channel is None or not self.hubs:
            return feed
        after = channel.find(f"{{{ATOM_NS}}}link")  # the self link feedgen wrote
        at = list(channel).index(after) + 1 if after is not None else len(channel)
        for n, hub in enumerate(self.hubs):
            # Made under the channel, so it takes the declared atom prefix; then moved.
            channel.insert(at + n, etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=hub, rel="hub"))
        return feed


class _EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Writes what feedgen 1.0.0 cannot: typed links, media elements, the RSS source;
    and the view of the entry that a browser shows."""

    def __init__(self) -> None:
        self.entry: Entry | None = None
        self.atom_links: list[dict[str, str]] = []
        self.images: tuple[Image, ...] = ()
        self.provider_source: Any = None
        self.via: str | None = None
        self.rss_description = ""
        self.rss_enclosure: str | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        links = list(self.atom_links)
        if self.via:
            links.append({"rel": "via", "href": self.via, "type": "text/html"})
        # Links belong with the alternate one, before the summary, for a tidy document.
        # Each after the last, not by position: insert() walks the children every time.
        anchor = entry.find("link")
        for link in links:
            element = etree.Element("link")
            for key in ("rel", "href", "type", "title", "length"):
                if key in link:
                    element.set(key, link[key])
            if anchor is None:
                entry.append(element)
            else:
                anchor.addnext(element)
            anchor = element
        summary = entry.find("summary")
        if self.entry is not None and summary is not None:
            summary.addprevious(_view(self.entry, summary=False))
        self._media(entry)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        description = item.find("description")
        if description is None:
            description = etree.Element("description")
            item.insert(list(item).index(item.find("link")) + 1, description)
        description.text = self.rss_description
        if self.rss_enclosure:
            # RSS allows one enclosure an item; its length is unknown, which 0 says.
            etree.SubElement(item, "enclosure", url=self.rss_enclosure, length="0", type="text/html")
        if self.provider_source:
            name, url = self.provider_source
            source = etree.SubElement(item, "source", url=url)
            source.text = name
        self._media(item)
        if self.entry is not None:
            item.append(_view(self.entry, summary=True))
        return item

    def _media(self, parent: etree._Element) -> None:
        for image in self.images:
            content = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
            if image.media_type:
                content.set("type", image.media_type)
            _size(content, image)
        if self.images:
            thumbnail = etree.SubElement(parent, f"{{{MEDIA_NS}}}thumbnail", url=self.images[0].url)
            _size(thumbnail, self.images[0])


def _size(element: etree._Element, image: Image) -> None:
    if image.width:
        element.set("width", str(image.width))
    if image.height:
        element.set("height", str(image.height))
