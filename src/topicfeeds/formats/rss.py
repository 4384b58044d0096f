"""RSS 2.0: `<slug>.rss`."""

from __future__ import annotations

from .feedgen import feed_urls, generator, home_page, with_stylesheet
from .spec import FEED_STYLESHEET, Context, FormatSpec

SPEC = FormatSpec(
    name="rss",
    suffix=".rss",
    media_type="application/rss+xml",
    label="RSS feed",
    kind="feeds",
    feed=True,
    websub=True,
    default=True,
    browser_type="application/xml",
    site_files=(FEED_STYLESHEET,),
)


def render(context: Context) -> bytes:
    """The topic's RSS feed, dated `context.updated` (by default, by its newest entry)."""
    site, topic = context.site, context.topic
    fg = generator(site, topic, context.entries, context.version, context.updated)
    _, rss_url = feed_urls(site, topic)
    home = {"href": home_page(site, topic.slug, topic.rules.formats), "rel": "alternate", "type": "text/html"}
    # RSS takes its channel <link> from the last link given; every link it writes is
    # given anew, as the generator is shared with Atom.
    fg.link([{"href": rss_url, "rel": "self", "type": "application/rss+xml"}, home], replace=True)
    return with_stylesheet(_hex_escapes(fg.rss_str(pretty=True)))


def _hex_escapes(xml: bytes) -> bytes:
    """Spell '&' and '<' as hexadecimal references, as the RSS Best Practices Profile
    asks: readers that decode RSS titles as HTML then still show "<b>" as text. The
    XML is unchanged; only its spelling differs from lxml's `&amp;` and `&lt;`."""
    return xml.replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
