from __future__ import annotations

from datetime import datetime, timedelta, timezone

import feedgen.entry
import feedgen.feed
import feedparser
import pytest
from lxml import etree

from topicfeeds.config import Author, Rules, Site, Topic
from topicfeeds.core.model import Image, Provider, Related
from topicfeeds.core.select import select
from topicfeeds.formats.feedgen import EMPTY_FEED_TIME, reading_date, render

from .conftest import make_record, without_views

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
SITE = Site("Test Site", "https://news.example/", "https://news.example/feeds/", "en", Author("Desk"))
ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def related(n: int) -> Related:
    return Related(
        id=f"https://other.example/{n}",
        title=f"Related <b>{n}</b> & more",
        url=f"https://other.example/{n}",
        excerpt="",
        published=NOW - timedelta(days=10 + n),
        provider=Provider("Other", "https://other.example/"),
        quality=None,
        image=Image(f"https://other.example/{n}.png", 10, 10, "image/png"),
    )


def feeds(mode: str = "see-also", records: list | None = None):  # type: ignore[no-untyped-def, type-arg]
    topic = Topic("energy", "Energy", "Power & storage.", ("energy",), Rules(related=mode))
    records = records or [make_record(related=(related(1), related(2)))]
    selection = select(records, topic, NOW)
    rendered = render(SITE, topic, selection.entries, "9.9")
    return rendered, etree.fromstring(rendered.atom), etree.fromstring(rendered.rss)


def atom_links(atom: etree._Element) -> list[dict[str, str]]:
    return [dict(link.attrib) for link in atom.find(f"{ATOM}entry").findall(f"{ATOM}link")]


def test_feed_metadata() -> None:
    _, atom, rss = feeds()
    assert atom.findtext(f"{ATOM}id") == "https://news.example/feeds/energy.atom"
    assert atom.findtext(f"{ATOM}title") == "Test Site: Energy"
    assert atom.findtext(f"{ATOM}subtitle") == "Power & storage."
    assert atom.findtext(f"{ATOM}generator") == "topicfeeds 9.9"
    assert atom.findtext(f"{ATOM}author/{ATOM}name") == "Desk"
    links = {(link.get("rel"), link.get("href")) for link in atom.findall(f"{ATOM}link")}
    assert links == {
        ("alternate", "https://news.example/feeds/energy.html"),  # the topic's page
        ("self", "https://news.example/feeds/energy.atom"),
    }
    channel = rss.find("channel")
    assert channel.findtext("link") == "https://news.example/feeds/energy.html"
    assert channel.find(f"{ATOM}link").get("href") == "https://news.example/feeds/energy.rss"
    assert channel.findtext("generator") == "topicfeeds 9.9"
    assert channel.findtext("language") == "en"


def test_entry_fields_in_both_formats() -> None:
    record = make_record(related=(related(1),))
    _, atom, rss = feeds(records=[record])
    entry = atom.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == record.id
    assert entry.findtext(f"{ATOM}published") == "2026-11-20T08:00:00+00:00"
    assert entry.findtext(f"{ATOM}updated") == "2026-11-20T08:00:00+00:00"
    assert entry.findtext(f"{ATOM}summary") == "An excerpt."
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "News Example"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["Energy"]
    assert entry.find(f"{MEDIA}content").attrib == {
        "url": "https://news.example/a.jpg",
        "medium": "image",
        "type": "image/jpeg",
        "width": "640",
        "height": "360",
    }
    assert entry.find(f"{MEDIA}thumbnail").get("url") == "https://news.example/a.jpg"
    item = rss.find("channel/item")
    guid = item.find("guid")
    assert (guid.text, guid.get("isPermaLink")) == (record.id, "true")
    assert item.findtext("pubDate") == "Fri, 20 Nov 2026 08:00:00 +0000"
    assert item.findtext("link") == record.link
    assert item.find("source").attrib == {"url": "https://news.example/"}
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "News Example"


def test_guid_is_not_a_permalink_when_the_id_differs_from_the_link() -> None:
    record = make_record(id="https://news.example/a?id=1", link="https://news.example/a?id=1&page=2")
    _, _, rss = feeds(records=[record])
    assert rss.find("channel/item/guid").get("isPermaLink") == "false"


def test_see_also_mode() -> None:
    _, atom, rss = feeds("see-also")
    assert atom_links(atom) == [
        {"href": "https://news.example/a"},
        {
            "rel": "related",
            "href": "https://other.example/1",
            "type": "text/html",
            "title": "Related <b>1</b> & more",
        },
        {
            "rel": "related",
            "href": "https://other.example/2",
            "type": "text/html",
            "title": "Related <b>2</b> & more",
        },
    ]
    description = rss.findtext("channel/item/description")
    assert "<p>See also:</p><ul><li>" in description
    assert (
        '<a href="https://other.example/1">Related &lt;b&gt;1&lt;/b&gt; &amp; more (Other)</a>' in description
    )
    assert rss.find("channel/item/enclosure") is None


def test_enclosure_mode() -> None:
    _, atom, rss = feeds("enclosure")
    rels = [
        (link.get("rel"), link.get("type"), link.get("length"))
        for link in atom.find(f"{ATOM}entry").findall(f"{ATOM}link")
    ]
    assert rels == [(None, None, None), ("enclosure", "text/html", "0"), ("enclosure", "text/html", "0")]
    (enclosure,) = rss.find("channel/item").findall("enclosure")
    assert enclosure.attrib == {"url": "https://other.example/1", "length": "0", "type": "text/html"}
    description = rss.findtext("channel/item/description")
    assert "https://other.example/2" in description  # the one that found no enclosure slot
    assert "https://other.example/1" not in description


def test_entries_mode() -> None:
    _, atom, rss = feeds("entries")
    entries = atom.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        "https://news.example/a",
        "https://other.example/1",
        "https://other.example/2",
    ]
    via = [dict(link.attrib) for link in entries[1].findall(f"{ATOM}link") if link.get("rel") == "via"]
    assert via == [{"rel": "via", "href": "https://news.example/a", "type": "text/html"}]
    assert entries[1].find(f"{MEDIA}thumbnail").get("url") == "https://other.example/1.png"
    assert "Cited by" in rss.findall("channel/item")[1].findtext("description")


def test_none_mode() -> None:
    _, atom, rss = feeds("none")
    assert atom_links(atom) == [{"href": "https://news.example/a"}]
    assert "See also" not in rss.findtext("channel/item/description")


def test_rss_description_is_escaped_text() -> None:
    record = make_record(excerpt='<script>alert(1)</script> <img src=x onerror="x()"> & co', related=())
    _, atom, rss = feeds(records=[record])
    description = rss.findtext("channel/item/description")
    assert (
        description
        == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=&quot;x()&quot;&gt; &amp; co</p>"
    )
    assert atom.find(f"{ATOM}entry/{ATOM}summary").get("type") is None  # plain text


@pytest.mark.parametrize("mode", ["see-also", "enclosure", "entries", "none"])
def test_feedparser_reads_both_feeds_cleanly(mode: str) -> None:
    rendered, _, _ = feeds(mode)
    for data in (rendered.atom, rendered.rss):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.entries[0].title == "A title"
        assert parsed.entries[0].published_parsed[:3] == (2026, 11, 20)


def test_each_entry_carries_a_view_for_browsers() -> None:
    """An XHTML element a browser renders and readers pass over: the title as a link, the
    date in words, and in RSS the excerpt (its description is escaped HTML)."""
    bare = make_record(id="https://n.example/b", link="https://n.example/b", title="B <i>", excerpt="",
                       published=datetime(2026, 11, 9, 23, 0, tzinfo=timezone.utc))  # fmt: skip
    _, atom, rss = feeds(records=[make_record(), bare])
    views = []
    for entry in atom.findall(f"{ATOM}entry"):
        view = entry.find(f"{XHTML}div")
        assert view.getnext().tag == f"{ATOM}summary" and view.nsmap[None] == XHTML[1:-1]
        views.append(view)
    assert [(v.get("class"), v.find(f"{XHTML}a").get("href"), v.findtext(f"{XHTML}a")) for v in views] == [
        (None, "https://news.example/a", "A title"),
        ("bare", "https://n.example/b", "B <i>"),  # its summary only repeats the title: hidden
    ]
    assert [etree.tostring(v, method="text", encoding=str, with_tail=False) for v in views] == [
        "A title20 November 2026",
        "B <i>9 November 2026",
    ]
    items = rss.findall("channel/item")
    assert [
        (i.find(f"{XHTML}div/{XHTML}a").get("href"), i.findtext(f"{XHTML}div/{XHTML}p")) for i in items
    ] == [
        ("https://news.example/a", "An excerpt."),
        ("https://n.example/b", None),
    ]
    assert items[0].find(f"{XHTML}div").get("class") is None


def test_a_date_in_words_is_the_day_in_utc() -> None:
    assert reading_date(datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)) == "7 December 2026"
    late = timezone(timedelta(hours=-5))
    assert reading_date(datetime(2026, 12, 7, 23, 30, tzinfo=late)) == "8 December 2026"


@pytest.mark.parametrize("mode", ["see-also", "enclosure", "entries", "none"])
def test_the_view_for_browsers_changes_nothing_a_reader_reads(mode: str) -> None:
    bare = make_record(id="https://n.example/b", link="https://n.example/b", excerpt="")
    rendered, _, _ = feeds(mode, records=[make_record(related=(related(1), related(2))), bare])
    for data in (rendered.atom, rendered.rss):
        assert without_views(data) != data
        seen, plain = feedparser.parse(data), feedparser.parse(without_views(data))
        assert seen.bozo == 0 and seen.feed == plain.feed and len(seen.entries) == len(plain.entries) >= 2
        for entry, before in zip(seen.entries, plain.entries, strict=True):
            # feedparser lists elements it does not know, as it does any extension's
            assert {k: v for k, v in entry.items() if not k.startswith("xhtml_")} == before


class _AnyDatetime(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, datetime)


class _Year2099(metaclass=_AnyDatetime):
    """Stands in for feedgen's datetime: its now() is a time no record has."""

    @staticmethod
    def now(tz: timezone | None = None) -> datetime:
        return datetime(2099, 1, 1, tzinfo=tz)


def test_feed_updated_is_the_newest_entry_and_no_clock_time_appears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # feedgen stamps now() wherever a time is not set: make such a stamp stand out.
    monkeypatch.setattr(feedgen.feed, "datetime", _Year2099)
    monkeypatch.setattr(feedgen.entry, "datetime", _Year2099)
    records = [make_record(updated=NOW - timedelta(days=1)), make_record(id="https://n.example/b")]
    rendered, atom, rss = feeds(records=records)
    assert atom.findtext(f"{ATOM}updated") == "2026-11-27T00:00:00+00:00"
    assert rss.findtext("channel/lastBuildDate") == "Fri, 27 Nov 2026 00:00:00 +0000"
    assert b"2099" not in rendered.atom + rendered.rss


def test_an_empty_topic_still_gets_valid_feeds() -> None:
    topic = Topic("quiet", "Quiet", "Nothing yet.", ("quiet",), Rules())
    rendered = render(SITE, topic, (), "9.9")
    for data in (rendered.atom, rendered.rss):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0
        assert parsed.entries == []
    assert etree.fromstring(rendered.atom).findtext(f"{ATOM}updated") == EMPTY_FEED_TIME.isoformat()
