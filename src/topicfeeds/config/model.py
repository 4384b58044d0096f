"""The settings a run works from, as config.yaml gives them once checked: frozen values,
with the closed sets of choices and the defaults. schema.py describes each key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from ..notify.cdn.settings import CdnSettings

Sort = Literal["newest", "quality", "heat"]
RelatedMode = Literal["see-also", "enclosure", "entries", "none"]
# A registered format's name (formats/spec.py): a new format is a module and a
# registration there, not a name here.
Format = str
SORTS: tuple[Sort, ...] = get_args(Sort)
RELATED_MODES: tuple[RelatedMode, ...] = get_args(RelatedMode)
PUBLISHED = get_args(Literal["only", "any"])
FUTURE = ("hold", "publish")
Future = Literal["hold", "publish"]
HubParam = Literal["url", "topic"]  # how a WebSub hub wants a changed feed named: hub.url or hub.topic
HUB_PARAMS: tuple[HubParam, ...] = get_args(HubParam)
# A hub's longest `timeout`: a run may spend three times it on the hub.
HUB_TIMEOUT_LIMIT = 300.0
DEFAULT_HUB_TIMEOUT = 5.0
DEFAULT_CLOCK_SKEW_MINUTES = 5.0
# A record with thousands of topics would otherwise make thousands of feeds.
DEFAULT_AUTO_MAX_TOPICS_PER_RECORD = 20
DEFAULT_AUTO_MAX_TOPICS = 2000
# A run that finds more than this share of the records gone, and at least the minimum,
# changes nothing until told to (a records folder that did not mount, say).
DEFAULT_GUARD_REMOVALS = 0.5
DEFAULT_GUARD_MIN_REMOVALS = 10
DEFAULT_MAX_DELETES = 256  # as `hugo deploy --maxDeletes`
DEFAULT_LIMIT = 50
MATCH_ALL = "*"
# Beside config.yaml, never in the served folder.
DEFAULT_STATE = ".topicfeeds-state.sqlite"


# The formats are asked for their names when a config is checked, never while this
# package loads: they import it (Site, Topic), so it cannot import them then.
def format_names() -> tuple[Format, ...]:
    """The formats config.yaml may name: every registered one."""
    from ..formats.spec import names

    return names()


def default_formats() -> tuple[Format, ...]:
    """What a topic gets unless told otherwise: the registered formats on by default."""
    from ..formats.spec import default_formats as registered

    return registered()


@dataclass(frozen=True, slots=True)
class Author:
    """Who is responsible for the feeds."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Hub:
    """A WebSub hub that is told when feeds change."""

    url: str
    param: HubParam = "url"  # the publish request names feeds as hub.url (or hub.topic)
    per_request: int = 1  # feed URLs one publish request may name (WebSub leaves it to the hub)
    timeout: float = DEFAULT_HUB_TIMEOUT  # seconds a request may take, all told, before the hub is down


@dataclass(frozen=True, slots=True)
class Site:
    """The publication the feeds belong to."""

    title: str
    link: str  # the site's home page: the alternate link of feeds whose topic has no page
    base_url: str  # where the output folder is served; ends with "/"
    language: str | None
    author: Author
    hubs: tuple[Hub, ...] = ()  # WebSub hubs each feed names, and which are told of changes


@dataclass(frozen=True, slots=True)
class Rules:
    """How a topic selects, orders and presents records. Text values are casefolded."""

    min_quality: float | None = None
    types: tuple[str, ...] = ()  # empty: any type
    categories: tuple[str, ...] = ()  # empty: any category
    providers_include: tuple[str, ...] = ()  # names or domains; empty: any provider
    providers_exclude: tuple[str, ...] = ()
    keywords_include: tuple[str, ...] = ()  # whole words in title or excerpt
    keywords_exclude: tuple[str, ...] = ()
    published_only: bool = True  # skip records whose `published` flag is false
    max_age_days: float | None = None  # measured from the build's reference time
    sort: Sort = "newest"
    limit: int = DEFAULT_LIMIT
    related: RelatedMode = "see-also"
    future: Future = "hold"  # a record dated after the run's time waits for it; "publish": at once
    clock_skew_minutes: float = DEFAULT_CLOCK_SKEW_MINUTES  # a date this far ahead still counts as now
    formats: tuple[Format, ...] = field(
        default_factory=lambda: default_formats()
    )  # the files it gets, in order
    archive: bool = False  # keep every entry ever published in RFC 5005 archive pages (Atom)


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic: its feeds and page, feeds/<slug>.atom, .rss, .json and .html."""

    slug: str
    title: str
    description: str
    match: tuple[str, ...]  # casefolded record topics; ("*",) matches every record
    rules: Rules
    automatic: bool = False  # made by `auto` for a record topic, not configured


@dataclass(frozen=True, slots=True)
class Config:
    """A validated configuration, with every path made absolute."""

    path: Path
    site: Site
    records_dir: Path
    output_dir: Path
    patterns: tuple[str, ...]
    max_record_bytes: int
    defaults: Rules
    topics: tuple[Topic, ...]
    auto: bool
    state_path: Path | None = None  # the state store; None keeps it in memory for one run
    auto_max_topics_per_record: int = DEFAULT_AUTO_MAX_TOPICS_PER_RECORD  # a record's first topics only
    auto_max_topics: int = DEFAULT_AUTO_MAX_TOPICS  # automatic topics at most
    retire: tuple[str, ...] = ()  # slugs of automatic topics whose feeds are removed and not made again
    guard_removals: float = DEFAULT_GUARD_REMOVALS  # share of known records; 1 never refuses
    guard_min_removals: int = DEFAULT_GUARD_MIN_REMOVALS
    output_url: BucketUrl | None = None  # set: the output goes to this bucket, not output_dir
    records_url: BucketUrl | None = None  # set: records come from this bucket, not records_dir
    s3: S3Settings = field(default_factory=lambda: S3Settings())
    delete: bool = False  # remove the files this program published and no longer makes
    max_deletes: int = DEFAULT_MAX_DELETES  # more removals than this in one run: none at all
    cdn: CdnSettings | None = None  # the CDN told to drop changed files before the hubs are told


# -- object storage

Addressing = Literal["auto", "path", "virtual"]
ADDRESSING: tuple[Addressing, ...] = get_args(Addressing)
FileKind = Literal["feeds", "pages", "stylesheets", "listings"]
FILE_KINDS: tuple[FileKind, ...] = get_args(FileKind)
# Feeds and pages change with every run that touches their topic; stylesheets only
# with a new version of the program.
DEFAULT_CACHE_CONTROL: dict[FileKind, str] = {
    "feeds": "public, max-age=300",
    "pages": "public, max-age=300",
    "listings": "public, max-age=300",
    "stylesheets": "public, max-age=86400",
}
DEFAULT_S3_ATTEMPTS = 5
DEFAULT_S3_PARALLEL = 16


@dataclass(frozen=True, slots=True)
class BucketUrl:
    """A place in object storage: `s3://bucket/prefix/`."""

    bucket: str
    prefix: str  # "" or ends with "/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @classmethod
    def parse(cls, text: str) -> BucketUrl | None:
        """The bucket and prefix of an `s3://` address; None when it is not one."""
        match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?", text)
        if match is None:
            return None
        prefix = (match.group(2) or "").strip("/")
        return cls(match.group(1), f"{prefix}/" if prefix else "")


@dataclass(frozen=True, slots=True)
class S3Settings:
    """How to reach object storage. Credentials are not here: they come from the
    environment, the shared credentials file or the instance's role."""

    endpoint: str | None = None  # None: the provider's own endpoint for `region`
    region: str | None = None
    addressing: Addressing = "auto"
    cache_control: tuple[tuple[FileKind, str], ...] = tuple(DEFAULT_CACHE_CONTROL.items())
    max_attempts: int = DEFAULT_S3_ATTEMPTS  # per request, with backoff between them
    parallel: int = DEFAULT_S3_PARALLEL  # record objects fetched at once


def is_bucket(text: str | None) -> bool:
    """Whether a `records` or `output` value names object storage."""
    return text is not None and text.startswith("s3://")
