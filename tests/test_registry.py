"""The formats' registry: a format is one module and one registration, and the rest of
the program reads its description. A fifth format registered here changes nothing until
a topic asks for it; then its file is made, served, announced to hubs and listed as its
description says. deploy/nginx.conf, a static file, is held to the registry."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from topicfeeds import build, load_config
from topicfeeds.config import DEFAULT_CACHE_CONTROL, Rules, S3Settings, parse_config
from topicfeeds.destinations.bucket import cache_control, media_type
from topicfeeds.errors import ConfigError
from topicfeeds.formats import Context, FormatSpec, register, topic_digest, unregister
from topicfeeds.formats.spec import file_types, nginx_types, specs, websub_suffixes
from topicfeeds.notify.websub import changed_feeds
from topicfeeds.serve import WebSub, answer

from .conftest import BASE_CONFIG, make_config, write_record

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent
NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
HUB = "https://hub.example/"

# A plain-text list of a topic's entries: a feed, announced to hubs, off by default.
TEXT = FormatSpec(
    name="text", suffix=".txt", media_type="text/plain", label="plain-text list", kind="feeds",
    feed=True, websub=True,
)  # fmt: skip
# The same list as a page nobody subscribes to.
PLAIN = replace(TEXT, label="plain list", kind="pages", feed=False, websub=False)


def render_text(context: Context) -> bytes:
    head = f"{context.site.title}: {context.topic.title}"
    return "\n".join([head, *(f"{e.title} <{e.link}>" for e in context.entries)]).encode("utf-8") + b"\n"


@pytest.fixture(params=[TEXT, PLAIN], ids=["feed", "page"])
def text_format(request: pytest.FixtureRequest) -> Iterator[FormatSpec]:
    spec: FormatSpec = request.param
    register(spec, render_text)
    try:
        yield spec
    finally:
        unregister(spec.name)


def test_a_registered_format_changes_nothing_until_a_topic_asks(
    text_format: FormatSpec, tmp_path: Path
) -> None:
    config = replace(load_config(DATA / "config.yaml"), output_dir=tmp_path, state_path=None)
    build(config, NOW)
    produced = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert produced == {p.name: p.read_bytes() for p in (DATA / "expected").iterdir()}
    assert Rules().formats == ("atom", "rss", "json", "html")


def test_a_topic_that_asks_for_a_format_gets_its_file(text_format: FormatSpec, tmp_path: Path) -> None:
    text = BASE_CONFIG.replace("  language: en\n", f"  language: en\n  hubs: [{HUB}]\n")
    text += "  notes:\n    title: Notes\n    description: The list.\n    match: [Energy]\n"
    text += "    formats: [text]\n"
    config = make_config(tmp_path, text)
    write_record(tmp_path / "seeds", "a.txt")
    report = build(config, NOW)
    out = config.output_dir
    assert sorted(p.name for p in out.iterdir()) == [
        "energy.atom", "energy.html", "energy.json", "energy.rss",
        "feed.css", "index.html", "notes.txt", "style.css", "topics.opml",
    ]  # fmt: skip
    assert (out / "notes.txt").read_text() == (
        "Test Site: Notes\nGrid batteries smooth out the evening peak "
        "<https://www.gridwatch.example/news/batteries-evening-peak>\n"
    )
    # Served with its type, by the preview server and from a bucket.
    websub = WebSub(config.site.base_url, (HUB,))
    served = answer(out, "GET", "/notes.txt", {"accept": "text/html"}, websub=websub)
    headers = dict(served.headers)
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert media_type("notes.txt") == "text/plain; charset=utf-8"
    assert cache_control("notes.txt", S3Settings()) == DEFAULT_CACHE_CONTROL[text_format.kind]
    # Hubs are told of it, and serve names them, only when it says so.
    pinged = changed_feeds(config.site, [Path(p).name for p in report.written_files])
    assert ("https://news.example/feeds/notes.txt" in pinged) is text_format.websub
    assert (("Link", f'<{HUB}>; rel="hub"') in served.headers) is text_format.websub
    # Listed in the OPML file and linked from the pages only when it is a feed.
    opml = etree.fromstring((out / "topics.opml").read_bytes())
    listed = [o.get("xmlUrl") for o in opml.iter("outline")]
    notes = ["https://news.example/feeds/notes.txt"] if text_format.feed else []
    assert listed == ["https://news.example/feeds/energy.atom", *notes]
    index = lxml_html.fromstring((out / "index.html").read_bytes())
    links = {(a.get("href"), a.get("type"), a.text) for a in index.iter("a")}
    assert (("notes.txt", "text/plain", "Notes, plain-text list") in links) is text_format.feed
    heads = [link.get("href") for link in index.iter("link") if link.get("rel") == "alternate"]
    assert ("notes.txt" in heads) is text_format.feed


def test_only_registered_formats_are_accepted(tmp_path: Path) -> None:
    text = BASE_CONFIG + "    formats: [atom, text]\n"
    with pytest.raises(ConfigError, match=r"'text' is not one of atom, rss, json, html$"):
        parse_config(text, tmp_path / "config.yaml")
    register(TEXT, render_text)
    try:
        (topic,) = parse_config(text, tmp_path / "config.yaml").topics
        assert topic.rules.formats == ("atom", "text")
        with pytest.raises(ConfigError, match="'txt' is not one of atom, rss, json, html, text; did you"):
            parse_config(text.replace("text]", "txt]"), tmp_path / "config.yaml")
    finally:
        unregister(TEXT.name)


# A clock of a page: it shows the run's time, to the hour, and says when it next changes.
def render_clock(context: Context) -> bytes:
    return f"{context.topic.title} at {context.now:%H:00}\n".encode()


def next_hour(context: Context) -> datetime:
    return context.now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


CLOCK = FormatSpec(
    name="clock", suffix=".clock", media_type="text/plain", label="clock", kind="pages", falls_due=next_hour
)


def test_a_format_that_reads_the_run_s_time_is_made_again_when_it_falls_due(project: Path) -> None:
    text = (project / "config.yaml").read_text() + "    formats: [atom, clock]\n"
    register(CLOCK, render_clock)
    try:
        config = make_config(project, text)
        write_record(project / "seeds", "a.txt")
        build(config, NOW)
        assert (config.output_dir / "energy.clock").read_text() == "Energy at 00:00\n"
        # Before its time nothing changed: the topic is not made again.
        assert build(config, NOW + timedelta(minutes=50)).written == 0
        report = build(config, NOW + timedelta(minutes=70))
        assert [Path(p).name for p in report.written_files] == ["energy.clock"]
        assert (config.output_dir / "energy.clock").read_text() == "Energy at 01:00\n"
        topic = config.topics[0]
        assert topic_digest(config.site, topic, (), "1", now=NOW) != topic_digest(
            config.site, topic, (), "1", now=NOW + timedelta(hours=1)
        )
    finally:
        unregister(CLOCK.name)


def test_the_digest_leaves_out_the_time_no_format_reads(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (topic,) = config.topics
    later = NOW + timedelta(days=1)
    digest = topic_digest(config.site, topic, (), "1")
    assert topic_digest(config.site, topic, (), "1", now=NOW) == digest
    assert topic_digest(config.site, topic, (), "1", now=later) == digest


@pytest.mark.parametrize(
    ("spec", "clash"),
    [
        (replace(TEXT, name="atom"), "format 'atom' is registered already"),
        (replace(TEXT, suffix=".rss"), "suffix '.rss' is format 'rss''s"),
        (replace(TEXT, suffix=".css"), "suffix '.css' is served otherwise as a site file"),
        (replace(TEXT, suffix="txt"), "suffix 'txt' is not a dot and a lowercase word"),
        (replace(TEXT, name="Text"), "format name 'Text' is not lowercase words"),
        (replace(TEXT, kind="blobs"), "kind 'blobs' is not one of feeds, pages, stylesheets, listings"),
        (replace(TEXT, site_files=("robots.txt",)), "'robots.txt' is not a site file"),
    ],
)
def test_a_format_that_clashes_is_refused(spec: FormatSpec, clash: str) -> None:
    before = specs()
    with pytest.raises(ValueError, match=re.escape(clash)):
        register(spec, render_text)
    assert specs() == before


@pytest.mark.parametrize("first", ["topicfeeds.config", "topicfeeds.formats.spec", "topicfeeds.serve"])
def test_config_and_the_formats_load_in_either_order(first: str) -> None:
    code = f"import {first}; from topicfeeds.config import Rules; print(Rules().formats)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "('atom', 'rss', 'json', 'html')\n"


def test_the_nginx_block_agrees_with_the_registry() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert nginx_types() in conf, f"deploy/nginx.conf's types block should read:\n{nginx_types()}"
    types = file_types()
    styled = {s.lstrip("."): t.browser_type for s, t in types.items() if t.browser_type}
    # The feeds a browser gets styled, and those with a place for the hubs' Link headers.
    locations = dict(re.findall(r"\n    location ~ \\\.\(?([a-z|]+)\)?\$ \{\n(.*?)\n    \}", conf, re.S))
    browsed = {ext for alts, body in locations.items() if "/_styled" in body for ext in alts.split("|")}
    assert browsed == set(styled)
    told = {ext for alts, body in locations.items() if 'rel="hub"' in body for ext in alts.split("|")}
    assert told == {s.lstrip(".") for s in websub_suffixes()}
    internal = re.search(r"location \^~ /_styled/ \{\n\s*internal;\n\s*types \{\n\s*(\S+)\s+([a-z ]+);", conf)
    assert internal is not None
    assert {ext: internal.group(1) for ext in internal.group(2).split()} == styled
    # Every type but text/html (nginx's own default) gets a charset and is compressed.
    texts = {t.media_type for t in types.values()} | set(styled.values())
    for directive in ("charset_types", "gzip_types"):
        listed = re.search(rf"\n    {directive} ([^;]+);", conf)
        assert listed is not None
        assert set(listed.group(1).split()) == texts - {"text/html"}, directive


def test_prepare_compiles_the_page_templates_before_a_first_render() -> None:
    """`watch` prepares the formats while it waits, so its first render after an event
    loads and compiles nothing."""
    from topicfeeds.formats import html, prepare

    html._environment.cache_clear()
    prepare()
    env = html._environment()
    compiled = {name: template for (_, name), template in (env.cache or {}).items()}
    assert {"topic.html", "index.html"} <= compiled.keys()
    assert env.get_template("topic.html") is compiled["topic.html"]  # from the cache, not compiled again
