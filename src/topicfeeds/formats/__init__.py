"""Output formats behind one small interface, each registered once.

A format is one module here: a `SPEC` describing it (spec.FormatSpec: name, suffix,
media type, label, cache kind, whether it is a feed, whether hubs are told of it, whether
a topic gets it by default) and `render(context) -> bytes`, the bytes of a topic's file
in it; and one registration line below. A page made with Jinja2 adds its template, and a
new suffix its line in deploy/nginx.conf, a static file (a test names the line). Nothing
else names it: config's checker, the pages, the OPML file, `serve`, WebSub and the bucket
read the registry (spec.py says what each takes from it).

The site-level files (the index, the OPML subscription list and the stylesheets) are made
from a listing of the topics alone, so they change only when a topic's listing does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone

from ..config import Site, Topic
from ..core.model import Entry
from . import atom, html, jsonfeed, opml, rss
from .atom import render_archive
from .common import (
    INDEX,
    OPML,
    SUFFIXES,
    TopicListing,
    listing_of,
    site_file_names,
    topic_files,
)
from .spec import Context, FormatSpec, Renderer, register, renderer_of, spec_of, specs, unregister
from .stylesheets import stylesheet

# The formats, in the order a topic that names none gets those on by default.
register(atom.SPEC, atom.render)
register(rss.SPEC, rss.render)
register(jsonfeed.SPEC, jsonfeed.render)
register(html.SPEC, html.render)


def prepare() -> None:
    """Load what each format's first render would (see FormatSpec.prepare)."""
    for spec in specs():
        if spec.prepare is not None:
            spec.prepare()


def render_topic(
    site: Site,
    topic: Topic,
    entries: Sequence[Entry],
    version: str,
    updated: datetime | None = None,
    prev_archive: str | None = None,
    now: datetime | None = None,
) -> dict[str, bytes]:
    """Every file of `topic`, in the order of its formats. Each format is given the
    same context: `updated` dates a feed that carries a time of its own (by default its
    newest entry's), `prev_archive` is the URL of the topic's newest archive page (Atom
    links it), `now` is the run's time (by default the clock's)."""
    context = Context(site, topic, entries, version, now or datetime.now(timezone.utc), updated, prev_archive)
    return {f"{topic.slug}{spec_of(f).suffix}": renderer_of(f)(context) for f in topic.rules.formats}


def topic_digest(
    site: Site,
    topic: Topic,
    entries: Sequence[Entry],
    version: str,
    updated: datetime | None = None,
    prev_archive: str | None = None,
    now: datetime | None = None,
) -> str:
    """A digest of everything `render_topic` makes `topic`'s files of: the same digest,
    the same bytes, so a run that finds it unchanged need not render them again."""
    made_of: tuple[object, ...] = (site, topic, tuple(entries), version, updated, prev_archive)
    # The run's time only when one of its formats reads it (none shipped does): else
    # every run would make every topic's files again, to the same bytes.
    if any(spec_of(f).falls_due is not None for f in topic.rules.formats):
        made_of += (now,)
    return hashlib.sha256(repr(made_of).encode("utf-8", "backslashreplace")).hexdigest()[:32]


def topic_due(
    site: Site,
    topic: Topic,
    entries: Sequence[Entry],
    version: str,
    updated: datetime | None = None,
    prev_archive: str | None = None,
    now: datetime | None = None,
) -> datetime | None:
    """When `topic`'s files next change with nothing but the time, as its formats that
    read the run's time say (FormatSpec.falls_due); None when none does."""
    dues = [spec_of(f).falls_due for f in topic.rules.formats]
    if not any(dues):
        return None
    context = Context(site, topic, entries, version, now or datetime.now(timezone.utc), updated, prev_archive)
    times = [t for t in (due(context) for due in dues if due is not None) if t is not None]
    return min(times, default=None)


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
    "OPML",
    "SUFFIXES",
    "Context",
    "FormatSpec",
    "Renderer",
    "TopicListing",
    "listing_of",
    "prepare",
    "register",
    "render_archive",
    "render_site",
    "render_topic",
    "site_file_names",
    "topic_digest",
    "topic_due",
    "topic_files",
    "unregister",
]
