"""OPML 2.0: `topics.opml`, one outline per topic, so a reader imports them all at once."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from ..config import Site
from .common import TopicListing, preferred_feed
from .feedgen import home_page


def render_opml(site: Site, listings: Sequence[TopicListing]) -> bytes:
    """The subscription list of every topic that has a feed: its Atom feed when it has
    one, so a reader does not subscribe twice to the same entries."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = f"{site.title}: every topic"
    etree.SubElement(head, "ownerName").text = site.author.name
    if site.author.email:
        etree.SubElement(head, "ownerEmail").text = site.author.email
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for listing in listings:
        fmt = preferred_feed(listing)
        if fmt is None:
            continue
        outline = etree.SubElement(body, "outline", type="rss", text=listing.title, title=listing.title)
        outline.set("description", listing.description)
        outline.set("xmlUrl", f"{site.base_url}{listing.file(fmt)}")
        outline.set("htmlUrl", home_page(site, listing.slug, listing.formats))
    data: bytes = etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
