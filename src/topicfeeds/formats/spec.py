"""What a format is, said once, and the registry every other part of the program reads.

A new format touches exactly:
- one module in this package holding a `SPEC` (a `FormatSpec`) and a
  `render(context: Context) -> bytes`, the bytes of a topic's file in that format;
- one registration line in formats/__init__.py (beside its import), in the order a
  topic that names no formats gets the formats on by default:
      register(textlist.SPEC, textlist.render)
- a template under templates/, if it is a page made with Jinja2;
- deploy/nginx.conf's `types {}` block, a static file, when its suffix is new there:
  tests/test_registry.py fails until the block is what `nginx_types()` prints.
From its description the rest of the program knows it:
- config.yaml's `formats:` accepts its name; a topic that names no formats gets it only
  when `default` is true, so registering a format changes nothing for an existing site;
- the topic's file is `<slug><suffix>`; the pages link it and the OPML file lists it when
  it is a `feed`; its site-level files (`site_files`) are made when a topic has it;
- `topicfeeds serve` and a bucket serve it as `media_type` (and as `browser_type` to a
  browser navigating to it), a bucket with the Cache-Control of its `kind`;
- hubs are told when it changes when `websub` is true;
- a format whose bytes depend on the run's time says when they next change
  (`falls_due`): the topic's digest then covers the time, and the topic is made again then.

config.py asks this registry for the names when it checks a config or makes a `Rules`,
never while it loads: the formats import config (Site, Topic), so config cannot import
them then (see config.format_names).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..config import FILE_KINDS, FileKind, Format, Site, Topic
from ..core.model import Entry

# The site-level files, made from the listing of the topics (see render_site).
INDEX = "index.html"
PAGE_STYLESHEET = "style.css"
OPML = "topics.opml"
# Beside the feeds, relative so that a preview server and production both find it.
FEED_STYLESHEET = "feed.css"


@dataclass(frozen=True, slots=True)
class Context:
    """What every format of a topic is rendered from: the same for all of them."""

    site: Site
    topic: Topic
    entries: Sequence[Entry]  # in the feed's order
    version: str  # of topicfeeds, for the files' generator
    now: datetime  # the run's time; a format that reads it declares `falls_due`
    updated: datetime | None = None  # the feed's own time; None: its newest entry's
    prev_archive: str | None = None  # the URL of the topic's newest archive page (RFC 5005)


class Renderer(Protocol):
    """A topic format: the bytes of the topic's file in that format."""

    def __call__(self, context: Context) -> bytes: ...


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """A format's description: everything but its renderer that the program knows of it."""

    name: Format  # as config.yaml's `formats:` names it
    suffix: str  # the topic's file is `<slug><suffix>`
    media_type: str  # served with it, in a folder and in a bucket
    label: str  # what a link to the file says after the topic's title: "Space, Atom feed"
    kind: FileKind  # the `s3.cache_control` entry it is served with from a bucket
    feed: bool = False  # a reader subscribes to it: pages link it, the OPML file lists it
    websub: bool = False  # hubs are told when it changes, and serve's answers name them
    default: bool = False  # a topic that names no formats gets it
    # What a browser navigating to the file gets instead of `media_type`: an XML type it
    # shows through the file's stylesheet (Chromium shows application/atom+xml as text).
    browser_type: str | None = None
    site_files: tuple[str, ...] = ()  # site-level files its file links to
    # For a format whose bytes depend on the run's time (Context.now): when they next
    # change with nothing else changed (None: no such time). Declaring it puts the run's
    # time into the topic's digest; no format shipped reads the time.
    falls_due: Callable[[Context], datetime | None] | None = None
    # Loads what the format's first render would (a template engine, its templates), for
    # a process that renders again and again: `watch` calls it while it waits, so that
    # its first render after an event is as quick as the next.
    prepare: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class SiteFile:
    """A site-level file: not a topic's, made from the listing of them all."""

    name: str
    media_type: str
    kind: FileKind


# In the order render_site makes them.
SITE_FILES: tuple[SiteFile, ...] = (
    SiteFile(INDEX, "text/html", "pages"),
    SiteFile(PAGE_STYLESHEET, "text/css", "stylesheets"),
    SiteFile(OPML, "text/x-opml", "listings"),
    SiteFile(FEED_STYLESHEET, "text/css", "stylesheets"),
)


@dataclass(frozen=True, slots=True)
class FileType:
    """How a file is served, by its suffix."""

    media_type: str
    kind: FileKind
    browser_type: str | None = None


# The registered formats, in the order a topic that names none gets the default ones.
_registered: dict[str, tuple[FormatSpec, Renderer]] = {}


def register(spec: FormatSpec, render: Renderer) -> None:
    """Make format `spec` known, rendered by `render`; ValueError if it clashes with one
    known already (its name or suffix taken, or a type unlike a site file's)."""
    if spec.name in _registered:
        raise ValueError(f"format {spec.name!r} is registered already")
    # As config.yaml gives it: its names are read casefolded.
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", spec.name):
        raise ValueError(f"format name {spec.name!r} is not lowercase words between hyphens")
    if not re.fullmatch(r"\.[a-z0-9]+", spec.suffix):
        raise ValueError(f"format {spec.name!r}: suffix {spec.suffix!r} is not a dot and a lowercase word")
    if spec.kind not in FILE_KINDS:
        raise ValueError(f"format {spec.name!r}: kind {spec.kind!r} is not one of {', '.join(FILE_KINDS)}")
    unknown = [n for n in spec.site_files if n not in {f.name for f in SITE_FILES}]
    if unknown:
        raise ValueError(f"format {spec.name!r}: {unknown[0]!r} is not a site file")
    for other, _ in _registered.values():
        if other.suffix == spec.suffix:
            raise ValueError(f"format {spec.name!r}: suffix {spec.suffix!r} is format {other.name!r}'s")
    site = _site_types().get(spec.suffix)
    if site is not None and (site.media_type, site.kind) != (spec.media_type, spec.kind):
        raise ValueError(f"format {spec.name!r}: suffix {spec.suffix!r} is served otherwise as a site file")
    _registered[spec.name] = (spec, render)


def unregister(name: Format) -> None:
    """Forget format `name` (a test's, once it is done with it)."""
    del _registered[name]


def specs() -> tuple[FormatSpec, ...]:
    """Every registered format, in registration order."""
    return tuple(spec for spec, _ in _registered.values())


def spec_of(name: Format) -> FormatSpec:
    """The description of registered format `name` (KeyError if there is none)."""
    return _registered[name][0]


def renderer_of(name: Format) -> Renderer:
    """The renderer of registered format `name` (KeyError if there is none)."""
    return _registered[name][1]


def names() -> tuple[Format, ...]:
    """The names config.yaml's `formats:` accepts."""
    return tuple(_registered)


def default_formats() -> tuple[Format, ...]:
    """What a topic gets unless told otherwise: the formats on by default."""
    return tuple(spec.name for spec, _ in _registered.values() if spec.default)


def file_types() -> dict[str, FileType]:
    """How each file the program makes is served, by suffix: formats' and site files'."""
    types = _site_types()
    for spec in specs():
        types[spec.suffix] = FileType(spec.media_type, spec.kind, spec.browser_type)
    return types


def websub_suffixes() -> tuple[str, ...]:
    """The suffixes of the files hubs are told of when they change."""
    return tuple(spec.suffix for spec in specs() if spec.websub)


def _site_types() -> dict[str, FileType]:
    return {posixpath.splitext(f.name)[1]: FileType(f.media_type, f.kind) for f in SITE_FILES}


class Suffixes(Mapping[str, str]):
    """Each registered format's suffix by its name, as registered when asked."""

    def __getitem__(self, name: str) -> str:
        return spec_of(name).suffix

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __len__(self) -> int:
        return len(_registered)


class FeedFormats(Collection[str]):
    """The names of the registered formats a reader subscribes to, as registered when asked."""

    def __contains__(self, name: object) -> bool:
        return name in _registered and _registered[name][0].feed

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(spec.name for spec in specs() if spec.feed))

    def __len__(self) -> int:
        return sum(1 for spec in specs() if spec.feed)


def nginx_types(indent: str = "    ") -> str:
    """deploy/nginx.conf's `types {}` block, as the registry has it: print it with
    `python -c 'from topicfeeds.formats.spec import nginx_types; print(nginx_types())'`."""
    by_type: dict[str, list[str]] = {}
    for suffix, file_type in file_types().items():
        by_type.setdefault(file_type.media_type, []).append(suffix.lstrip("."))
    width = max(len(t) for t in by_type) + 2
    lines = [f"{indent * 2}{t.ljust(width)}{' '.join(extensions)};" for t, extensions in by_type.items()]
    return "\n".join([f"{indent}types {{", *lines, f"{indent}}}"])
