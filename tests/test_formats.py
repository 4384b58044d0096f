"""The output formats: JSON Feed twins of the Atom feeds, pages, the index, the OPML
list, the stylesheets, and the `formats` rule that chooses them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path

import feedparser
import jsonschema
import pytest
from lxml import etree
from lxml import html as lxml_html

from topicfeeds import build, load_config
from topicfeeds.config import Rules, Topic, default_formats, parse_config
from topicfeeds.core.model import entry_of
from topicfeeds.errors import ConfigError
from topicfeeds.formats import listing_of, render_site, render_topic

from .conftest import BASE_CONFIG, make_config, make_record, write_record

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent
NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
SCHEMA = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped seeds and config, built into a temporary folder."""
    out = tmp_path_factory.mktemp("shipped")
    config = replace(load_config(ROOT / "config.yaml"), output_dir=out, state_path=None)
    assert not build(config, NOW).failures
    return out


def folders(shipped: Path) -> list[Path]:
    return [DATA / "expected", shipped]


def test_json_feeds_follow_the_schema_and_their_atom_twins(shipped: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    checked = 0
    for folder in folders(shipped):
        for path in sorted(folder.glob("*.json")):
            feed = json.loads(path.read_bytes())
            jsonschema.validate(feed, SCHEMA, cls=jsonschema.Draft202012Validator)
            atom = feedparser.parse((folder / f"{path.stem}.atom").read_bytes())
            assert atom.bozo == 0
            items = feed["items"]
            assert [i["id"] for i in items] == [e.id for e in atom.entries], path.name
            for item, entry in zip(items, atom.entries, strict=True):
                assert item["title"] == entry.title
                assert item["url"] == entry.link
                assert datetime.fromisoformat(item["date_published"]) == _when(entry.published)
                assert datetime.fromisoformat(item["date_modified"]) == _when(entry.updated)
                assert [a["name"] for a in item.get("authors", [])] == [
                    a.name for a in entry.get("authors", [])
                ]
                assert item.get("tags", []) == [t.term for t in entry.get("tags", [])]
                thumbnail = entry.get("media_thumbnail")
                assert item.get("image") == (thumbnail[0]["url"] if thumbnail else None)
                related = {link.href for link in entry.links if link.rel in ("related", "enclosure")}
                in_json = {a["url"] for a in item.get("attachments", [])}
                in_json |= {link["url"] for link in item.get("_related", {}).get("links", [])}
                assert in_json == related
                via = [link.href for link in entry.links if link.rel == "via"]
                assert ([item["_via"]["url"]] if "_via" in item else []) == via
            checked += 1
    assert checked == 5 + 6


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_opml_lists_one_feed_a_topic_and_every_url_is_a_file_the_build_wrote(shipped: Path) -> None:
    config = load_config(ROOT / "config.yaml")
    opml = etree.fromstring((shipped / "topics.opml").read_bytes())
    assert opml.get("version") == "2.0"
    outlines = opml.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        f"{config.site.base_url}{slug}.atom"
        for slug in ("ai", "computer-vision", "climate", "security", "space", "robotics")
    ]
    for outline in outlines:
        assert outline.get("type") == "rss" and outline.get("text") and outline.get("title")
        for key in ("xmlUrl", "htmlUrl"):
            url = outline.get(key)
            assert url.startswith(config.site.base_url)
            assert (shipped / url.removeprefix(config.site.base_url)).is_file(), url


def test_feeds_carry_the_css_stylesheet_and_nothing_is_xslt(shipped: Path) -> None:
    for folder in folders(shipped):
        for path in folder.iterdir():
            data = path.read_bytes()
            assert b"xsl" not in data.lower(), path
            if path.suffix in (".atom", ".rss"):
                assert data.split(b"\n")[1] == b'<?xml-stylesheet type="text/css" href="feed.css"?>'
                assert etree.fromstring(data).getprevious().target == "xml-stylesheet"
    css = (shipped / "feed.css").read_text()
    assert "copy this page's address into a feed reader" in css


def test_pages_are_accessible_documents(shipped: Path) -> None:
    for path in sorted(shipped.glob("*.html")):
        doc = lxml_html.fromstring(path.read_bytes())
        assert doc.get("lang") == "en"
        assert len(doc.findall(".//main")) == 1 and len(doc.findall(".//h1")) == 1
        levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels[0] == 1 and all(b <= a + 1 for a, b in pairwise(levels)), path.name
        assert doc.find(".//meta[@name='viewport']") is not None
        assert not doc.findall(".//script") and not [
            e for e in doc.iter() if any(a.startswith("on") for a in e.attrib)
        ]
        for img in doc.iter("img"):
            assert img.get("alt") == "" and img.get("width") and img.get("height")
        for link in doc.iter("a"):
            assert link.text_content().strip(), "every link has text"
        stylesheets = doc.findall(".//link[@rel='stylesheet']")
        assert [s.get("href") for s in stylesheets] == ["style.css"]


def test_the_index_lists_every_topic_with_its_feeds(shipped: Path) -> None:
    doc = lxml_html.fromstring((shipped / "index.html").read_bytes())
    alternates = [link.get("href") for link in doc.findall(".//head/link[@rel='alternate']")]
    slugs = ("ai", "computer-vision", "climate", "security", "space", "robotics")
    configured = slugs[:-1]  # robotics is made by `auto`: in the body, not the head
    assert alternates == [f"{s}.{ext}" for s in configured for ext in ("atom", "rss", "json")]
    pages = [a.get("href") for a in doc.findall(".//main//h3/a")]
    assert pages == [f"{s}.html" for s in slugs]
    assert doc.find(".//a[@href='topics.opml']") is not None
    text = doc.text_content()
    ai = feedparser.parse((shipped / "ai.atom").read_bytes())
    assert f"{len(ai.entries)} articles" in text


def test_a_topic_page_shows_its_entries(shipped: Path) -> None:
    doc = lxml_html.fromstring((shipped / "climate.html").read_bytes())
    atom = feedparser.parse((shipped / "climate.atom").read_bytes())
    titles = [a.text_content() for a in doc.findall(".//article/h3/a")]
    assert titles == [e.title for e in atom.entries]
    times = [t.get("datetime") for t in doc.findall(".//article/p[@class='meta']/time[1]")]
    assert [_when(t) for t in times] == [_when(e.published) for e in atom.entries]
    autodiscovery = [
        (link.get("type"), link.get("href")) for link in doc.findall(".//head/link[@rel='alternate']")
    ]
    assert autodiscovery == [
        ("application/atom+xml", "climate.atom"),
        ("application/rss+xml", "climate.rss"),
        ("application/feed+json", "climate.json"),
    ]


def test_markup_in_records_stays_text_on_pages() -> None:
    site = load_config(ROOT / "config.yaml").site
    site = replace(site, title='News <script>alert("site")</script>')
    topic = Topic("x", "X <i>topic</i>", 'Quotes " and <b>tags</b>', ("x",), Rules())
    hostile = make_record(
        title='<script>alert("title")</script> & more',
        excerpt="<img src=x onerror=alert(1)>",
        link="https://news.example/a?x=1&y=<2>",
    )
    files = render_topic(site, topic, [entry_of(hostile)], "0")
    files |= render_site(site, [listing_of(topic, 1, hostile.updated)], "0")
    for name in ("x.html", "index.html"):
        page = files[name].decode()
        assert "<script" not in page and "<img src=x" not in page and "<i>topic" not in page, name
        doc = lxml_html.fromstring(files[name])
        assert not doc.findall(".//script") and not doc.findall(".//i")
    page = lxml_html.fromstring(files["x.html"])
    assert page.find(".//article/h3/a").text_content() == '<script>alert("title")</script> & more'
    assert page.find(".//article/p[2]").text_content() == "<img src=x onerror=alert(1)>"


def test_the_formats_rule_chooses_the_files(tmp_path: Path) -> None:
    text = BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true\ndefaults:\n  formats: [atom]")
    text = text.replace("    match: [Energy]", "    match: [Energy]\n    formats: [json, html]")
    config = make_config(tmp_path, text)
    assert config.defaults.formats == ("atom",) and config.topics[0].rules.formats == ("json", "html")
    write_record(tmp_path / "seeds", "a.txt", topics=["Energy", "Space"])
    report = build(config, NOW)
    names = sorted(p.name for p in config.output_dir.iterdir())
    assert names == [
        "energy.html",
        "energy.json",
        "feed.css",
        "index.html",
        "space.atom",
        "style.css",
        "topics.opml",
    ]
    assert report.feeds == len(names) and report.written == len(names)
    opml = etree.fromstring((config.output_dir / "topics.opml").read_bytes())
    assert [o.get("xmlUrl").rsplit("/", 1)[1] for o in opml.iter("outline")] == ["energy.json", "space.atom"]
    index = lxml_html.fromstring((config.output_dir / "index.html").read_bytes())
    assert [a.get("href") for a in index.findall(".//main//h3/a")] == ["energy.html"]  # space has no page


def test_a_topic_with_a_page_names_it_as_its_feeds_alternate_link(tmp_path: Path) -> None:
    """Atom's alternate link, RSS's channel link, JSON Feed's home_page_url and the OPML
    htmlUrl all name the topic's page; a topic without one names the site."""
    text = BASE_CONFIG + "  plain:\n    title: Plain\n    match: [Energy]\n    formats: [atom, rss, json]\n"
    config = make_config(tmp_path, text)
    write_record(tmp_path / "seeds", "a.txt")
    command = [
        sys.executable,
        "-m",
        "topicfeeds",
        "build",
        "-q",
        "-c",
        str(config.path),
        "--now",
        "2026-11-28T00:00:00Z",
    ]
    subprocess.run(command, check=True, timeout=60)
    out = config.output_dir
    opml = etree.fromstring((out / "topics.opml").read_bytes())
    html_urls = {o.get("xmlUrl"): o.get("htmlUrl") for o in opml.iter("outline")}
    for slug, home in (
        ("energy", "https://news.example/feeds/energy.html"),
        ("plain", "https://news.example/"),
    ):
        atom = etree.fromstring((out / f"{slug}.atom").read_bytes())
        assert [
            link.get("href") for link in atom.findall("{http://www.w3.org/2005/Atom}link[@rel='alternate']")
        ] == [home]
        assert etree.fromstring((out / f"{slug}.rss").read_bytes()).findtext("channel/link") == home
        assert json.loads((out / f"{slug}.json").read_bytes())["home_page_url"] == home
        assert html_urls[f"https://news.example/feeds/{slug}.atom"] == home
        for name in (f"{slug}.atom", f"{slug}.rss"):
            assert feedparser.parse((out / name).read_bytes()).feed.link == home
    assert (out / "energy.html").is_file() and not (out / "plain.html").exists()


def test_the_index_head_names_the_feeds_of_configured_topics_only(tmp_path: Path) -> None:
    """`auto` can make thousands of topics: the index lists them all in its body, but its
    head offers a reader the OPML file and the configured topics' feeds alone."""
    config = make_config(tmp_path, BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true"))
    tags = [f"Tag {n:02}" for n in range(20)]
    write_record(tmp_path / "seeds", "a.txt", topics=["Energy", *tags[:10]])
    write_record(tmp_path / "seeds", "b.txt", topics=tags[10:], webUrl="https://n.example/b", originalUrl=...)
    command = [
        sys.executable,
        "-m",
        "topicfeeds",
        "build",
        "-q",
        "-c",
        str(config.path),
        "--now",
        "2026-11-28T00:00:00Z",
    ]
    subprocess.run(command, check=True, timeout=60)
    index = lxml_html.fromstring((config.output_dir / "index.html").read_bytes())
    head = [(link.get("rel"), link.get("href")) for link in index.findall(".//head/link")]
    assert head == [
        ("stylesheet", "style.css"),
        ("alternate", "energy.atom"),
        ("alternate", "energy.rss"),
        ("alternate", "energy.json"),
        ("outline", "topics.opml"),
    ]
    listed = [a.get("href") for a in index.findall(".//main//h3/a")]
    assert listed == ["energy.html", *(f"tag-{n:02}.html" for n in range(20))]
    feeds = {a.get("href") for a in index.findall(".//main//ul[@class='feeds']/li/a")}
    assert {f"tag-07.{ext}" for ext in ("atom", "rss", "json")} <= feeds


def test_formats_default_to_all_four() -> None:
    assert Rules().formats == default_formats() == ("atom", "rss", "json", "html")


def test_an_unknown_format_is_named_with_a_suggestion(tmp_path: Path) -> None:
    text = BASE_CONFIG.replace("    match: [Energy]", "    match: [Energy]\n    formats: [atom, jsno, pdf]")
    text += "defaults:\n  formats: []\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.yaml")
    assert [(p.line, p.field, p.message) for p in caught.value.problems] == [
        (14, "topics.energy.formats[1]", "'jsno' is not one of atom, rss, json, html; did you mean 'json'?"),
        (14, "topics.energy.formats[2]", "'pdf' is not one of atom, rss, json, html"),
        (16, "defaults.formats", "give at least one of atom, rss, json, html"),
    ]


def test_site_files_are_rebuilt_only_when_a_listing_changes(project: Path) -> None:
    config = load_config(project / "config.yaml")
    write_record(project / "seeds", "a.txt")
    build(config, NOW)
    site_files = ("index.html", "topics.opml", "style.css", "feed.css")
    stamps = {n: (config.output_dir / n).stat().st_mtime_ns for n in site_files}
    # An edited excerpt changes the topic's files but not its listing.
    write_record(project / "seeds", "a.txt", excerpt="A new excerpt.")
    report = build(config, NOW)
    assert sorted(p.name for p in report.written_files) == [
        "energy.atom",
        "energy.html",
        "energy.json",
        "energy.rss",
    ]
    assert report.site_written == ()
    assert {n: (config.output_dir / n).stat().st_mtime_ns for n in site_files} == stamps
    # A second article changes the count the index shows; the OPML list stays as it is.
    write_record(
        project / "seeds", "b.txt", title="Another", webUrl="https://news.example/b", originalUrl=...
    )
    report = build(config, NOW)
    assert [p.name for p in report.site_written] == ["index.html"]
    assert "2 articles" in (config.output_dir / "index.html").read_text()
    # A deleted site file is put back, alone.
    (config.output_dir / "topics.opml").unlink()
    report = build(config, NOW)
    assert [p.name for p in report.written_files] == ["topics.opml"]
    assert build(config, NOW).written == 0
