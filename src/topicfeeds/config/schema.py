"""Every key config.yaml knows, described once: where it goes, what it takes, its
default, what it means and what a change to it does. The checker takes its known keys,
kinds, bounds, choices and defaults from here; the fingerprints (digest.py) take the keys
whose change reaches what is published or sent; the reference (reference.py) is written
from it. A new setting is a row here, a field of its settings object, and its check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..defaults import DEFAULT_MAX_BYTES, DEFAULT_PATTERNS
from ..notify.cdn import settings as cdn
from .model import (
    ADDRESSING,
    DEFAULT_AUTO_MAX_TOPICS,
    DEFAULT_AUTO_MAX_TOPICS_PER_RECORD,
    DEFAULT_CACHE_CONTROL,
    DEFAULT_CLOCK_SKEW_MINUTES,
    DEFAULT_GUARD_MIN_REMOVALS,
    DEFAULT_GUARD_REMOVALS,
    DEFAULT_HUB_TIMEOUT,
    DEFAULT_LIMIT,
    DEFAULT_MAX_DELETES,
    DEFAULT_S3_ATTEMPTS,
    DEFAULT_S3_PARALLEL,
    DEFAULT_STATE,
    DEFAULT_STATE_SCHEMA,
    FUTURE,
    HUB_PARAMS,
    HUB_TIMEOUT_LIMIT,
    PUBLISHED,
    RELATED_MODES,
    SORTS,
    FileKind,
    default_formats,
    format_names,
)

Effect = Literal["output", "sent", "none"]
"""What a change to a key does. "output": what is published, its files' bytes, which
files there are or where they go; the next run chooses every topic afresh (the
fingerprint). "sent": what goes with the files but not their bytes (an object's
Cache-Control); the next run sends every file again. "none": how a run works, not what
it publishes."""
EFFECTS: dict[Effect, str] = {
    "output": "it changes what is published (the files' bytes, which files there are, or where they go): "
    "the next run chooses every topic's entries afresh",
    "sent": "it changes what is sent with the files, not their bytes (an object's Cache-Control): the next "
    "run sends every file again, once",
    "none": "it changes how a run works, not what it publishes: nothing is made or sent again",
}

Kind = Literal["mapping", "list", "text", "url", "number", "whole number", "true or false", "choice", "names"]

RULES = "rules"
"""The section of the rules: keys that go under `defaults` and under each topic."""
SECTIONS: dict[str, str] = {  # section: what the reference calls it
    "": "Top level",
    "site": "`site`",
    "site.author": "`site.author`",
    "site.hubs[]": "`site.hubs`: each hub",
    "s3": "`s3`",
    "s3.cache_control": "`s3.cache_control`",
    "cdn": "`cdn`: the CDN in front of the output (see [guide/cdn.md](../guide/cdn.md))",
    "topics.<slug>": "`topics.<slug>`",
    RULES: "Rules: under `defaults`, and under `topics.<slug>` to override them",
    "rules.providers": "`providers` (a rule)",
    "rules.keywords": "`keywords` (a rule)",
}


@dataclass(frozen=True, slots=True)
class Key:
    """One key of config.yaml."""

    section: str  # one of SECTIONS: where the key goes
    name: str  # the key as written
    kind: Kind  # what its value must be; a mapping or list is a section of its own
    # Its value when not given (None: no value, or see `shown_default`); a function for a
    # value asked when used (the registered formats, which cannot be asked while config loads).
    default: object
    meaning: str  # one line, for the reference
    effect: Effect = "none"
    fields: tuple[str, ...] = ()  # the attributes of its settings object it sets
    bounds: tuple[float | None, float | None] = (None, None)  # for a number: least and most
    # For a choice, or the names a list may hold; a function as for `default`.
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    required: bool = False
    shown_default: str | None = None  # the default in words, where it is not a value

    @property
    def default_value(self) -> object:
        """Its value when not given, asked now where it is a function."""
        return self.default() if callable(self.default) else self.default

    @property
    def choice_values(self) -> tuple[str, ...]:
        """What a choice or a list of names may hold, asked now where it is a function."""
        return self.choices() if callable(self.choices) else self.choices

    @property
    def path(self) -> str:
        """The key's dotted path, as messages name it (with the section's placeholder)."""
        return f"{self.section}.{self.name}" if self.section else self.name

    @property
    def opens(self) -> str | None:
        """The section whose keys go inside this key's mapping (or each item of its list)."""
        path = _OPENS.get(self.path, self.path)
        return next((s for s in (path, f"{path}[]") if s in SECTIONS), None)

    @property
    def minimum(self) -> float | None:
        """The least a number may be."""
        return self.bounds[0]

    @property
    def maximum(self) -> float | None:
        """The most a number may be."""
        return self.bounds[1]


_OPENS = {"defaults": RULES, "topics": "topics.<slug>"}


def _rows() -> tuple[Key, ...]:
    """The table, section by section; within a section, in the order messages list known keys."""
    out: Effect = "output"
    sent: Effect = "sent"
    none: Effect = "none"

    def k(section: str, name: str, kind: Kind, default: object, effect: Effect, fields: tuple[str, ...],
          meaning: str, **more: Any) -> Key:  # fmt: skip
        return Key(section, name, kind, default, meaning, effect, fields, **more)

    # fmt: off
    top = [
        k("", "site", "mapping", None, none, (), "the publication the feeds belong to", required=True),
        k("", "records", "text", "seeds", out, ("records_dir", "records_url"),
          "the records: a folder, or `s3://bucket/prefix/` (see `s3`)"),
        k("", "output", "text", "feeds", out, ("output_dir", "output_url"),
          "where the files go: a folder (made when its parent folder exists), or `s3://bucket/prefix/`"),
        k("", "state", "text", DEFAULT_STATE, none, ("state_path", "state_db"),
          "the state file, beside the config; never inside the output or records folder; its folder must "
          "exist. Or a PostgreSQL database, `postgresql://user@host:port/dbname`, without a password "
          "(libpq's PGPASSWORD or `~/.pgpass` gives it; PGHOST, PGUSER… what the URL leaves out)"),
        k("", "state_schema", "text", DEFAULT_STATE_SCHEMA, none, (),
          "with a PostgreSQL state, the schema its tables are in (made by the first run): publications "
          "that share a database each need their own"),
        k("", "patterns", "names", DEFAULT_PATTERNS, out, ("patterns",),
          "which files are records; a pattern with `/` such as `**/*.txt` also reads subfolders, skipping "
          "hidden ones"),
        k("", "max_record_bytes", "whole number", DEFAULT_MAX_BYTES, out, ("max_record_bytes",),
          "a larger record file is rejected", bounds=(1, None), shown_default="`1048576` (1 MiB)"),
        k("", "auto", "true or false", False, out, ("auto",),
          "also publish a feed, with the defaults, for every record topic no configured topic matches"),
        k("", "auto_max_topics_per_record", "whole number", DEFAULT_AUTO_MAX_TOPICS_PER_RECORD, out,
          ("auto_max_topics_per_record",),
          "only a record's first this many topics can make automatic topics", bounds=(1, None)),
        k("", "auto_max_topics", "whole number", DEFAULT_AUTO_MAX_TOPICS, out, ("auto_max_topics",),
          "at most this many automatic topics; those the fewest records name are left out",
          bounds=(0, None)),
        k("", "retire", "list", (), out, ("retire",),
          "slugs of automatic topics whose feeds are removed and never made again"),
        k("", "guard_removals", "number", DEFAULT_GUARD_REMOVALS, none, ("guard_removals",),
          "a run that finds more than this share of the records gone, and at least `guard_min_removals`, "
          "changes nothing (status 5); `1` switches the guard off", bounds=(0, 1)),
        k("", "guard_min_removals", "whole number", DEFAULT_GUARD_MIN_REMOVALS, none, ("guard_min_removals",),
          "the fewest records gone that `guard_removals` refuses", bounds=(0, None)),
        k("", "delete", "true or false", False, none, ("delete",),
          "remove the files this program published and no longer makes (every run weighs removals anew)"),
        k("", "max_deletes", "whole number", DEFAULT_MAX_DELETES, none, ("max_deletes",),
          "a run that would remove more files than this removes none (status 5)", bounds=(0, None)),
        k("", "s3", "mapping", None, none, (),
          "how to reach object storage, when `records` or `output` is a bucket"),
        k("", "cdn", "mapping", None, none, (),
          "the CDN told to drop the changed files' copies before the WebSub hubs are told of them"),
        k("", "defaults", "mapping", None, none, (), "rules every topic inherits"),
        k("", "topics", "mapping", None, none, (),
          "`slug: {title, description, match, ...rules}`; the slug names the topic's files",
          shown_default="none (then `auto` must be on)"),
    ]
    site = [
        k("site", "title", "text", None, out, ("title",), "the publication's name", required=True),
        k("site", "link", "url", None, out, ("link",),
          "its home page: the alternate link of feeds whose topic has no page", required=True),
        k("site", "base_url", "url", None, out, ("base_url",),
          "where the output is served: self links and Atom ids are built from it", required=True),
        k("site", "language", "text", None, out, ("language",),
          "a language tag such as `en` or `en-GB`: the feeds' `xml:lang` and `<language>`"),
        k("site", "author", "mapping", None, none, (),
          "the feeds' author: a name, or `{name, email, uri}`", shown_default="the site's title"),
        k("site", "hubs", "list", (), none, (),
          "WebSub hubs told of changed feeds: URLs, or `{url, param, per_request, timeout}`"),
    ]
    author = [
        k("site.author", "name", "text", None, out, ("name",), "the author's name", required=True),
        k("site.author", "email", "text", None, out, ("email",), "the author's email address"),
        k("site.author", "uri", "url", None, out, ("uri",), "the author's page"),
    ]
    hubs = [
        k("site.hubs[]", "url", "url", None, out, ("url",),
          "the hub's publish URL, which every feed names", required=True),
        k("site.hubs[]", "param", "choice", "url", none, ("param",),
          "the publish request names a feed as `hub.url` or as `hub.topic`", choices=HUB_PARAMS),
        k("site.hubs[]", "per_request", "whole number", 1, none, ("per_request",),
          "feed URLs one publish request may name", bounds=(1, None)),
        k("site.hubs[]", "timeout", "number", DEFAULT_HUB_TIMEOUT, none, ("timeout",),
          "seconds a request may take; a run spends at most three times it on the hub",
          bounds=(0.1, HUB_TIMEOUT_LIMIT)),
    ]
    s3 = [
        k("s3", "endpoint", "url", None, none, ("endpoint",),
          "the storage's endpoint, for storage other than AWS", shown_default="AWS's, for `region`"),
        k("s3", "region", "text", None, none, ("region",), "the bucket's region"),
        k("s3", "addressing_style", "choice", "auto", none, ("addressing",),
          "how requests name the bucket (`path`: MinIO, Ceph)", choices=ADDRESSING),
        k("s3", "cache_control", "mapping", None, none, (),
          "the Cache-Control each kind of object is sent with"),
        k("s3", "max_attempts", "whole number", DEFAULT_S3_ATTEMPTS, none, ("max_attempts",),
          "tries per request, with backoff between them", bounds=(1, None)),
        k("s3", "parallel", "whole number", DEFAULT_S3_PARALLEL, none, ("parallel",),
          "record objects fetched at once, when records come from a bucket", bounds=(1, None)),
    ]
    files: dict[FileKind, str] = {"feeds": "`.atom`, `.rss`, `.json`", "pages": "`.html`",
                                  "stylesheets": "`.css`", "listings": "`topics.opml`"}  # FILE_KINDS' order
    cache = [
        k("s3.cache_control", kind, "text", DEFAULT_CACHE_CONTROL[kind], sent, (kind,), f"for {what}")
        for kind, what in files.items()
    ]
    # Checked by notify/cdn/settings.py (parse_cdn), which knows which keys go with which
    # kind; its settings object's options differ by kind, so no key names fields here.
    timeouts = ", ".join(f"`{t:g}` ({kind})" for kind, t in cdn.DEFAULT_TIMEOUT.items())
    cdn_keys = [
        k("cdn", "kind", "choice", None, none, (), "which CDN: a `PURGE` per URL (Varnish, Fastly, nginx, "
          "Squid), CloudFront invalidations, or Cloudflare's purge by URL", choices=cdn.KINDS, required=True),
        k("cdn", "timeout", "number", None, none, (),
          "seconds a run's purge may take, all told; what is not purged by then keeps its pings waiting",
          bounds=(0.1, cdn.TIMEOUT_LIMIT), shown_default=timeouts),
        k("cdn", "endpoint", "url", None, none, (),
          "`http`: where `PURGE` goes (`scheme://host:port`), the URL's host in the Host header; "
          "`cloudfront`: a compatible server's API", shown_default="`http`: each URL's own host; "
          "`cloudfront`: AWS's"),
        k("cdn", "parallel", "whole number", cdn.HttpOptions().parallel, none, (),
          "`http`: `PURGE` requests at once", bounds=(1, cdn.PARALLEL_LIMIT)),
        k("cdn", "token_env", "text", None, none, (),
          "the environment variable holding the token: `http`, sent in `token_header` (over https only); "
          "`cloudflare`, an API token with the zone's Cache Purge permission",
          shown_default="`http`: none; `cloudflare`: `CLOUDFLARE_API_TOKEN`"),
        k("cdn", "token_header", "text", cdn.HttpOptions().token_header, none, (),
          "`http`: the header that carries the token"),
        k("cdn", "distribution", "text", None, none, (),
          "`cloudfront`: the distribution's id, such as `E2QWRUHAPOMQZL`",
          shown_default="required for `cloudfront`"),
        k("cdn", "per_invalidation", "whole number", cdn.CLOUDFRONT_PATHS, none, (),
          "`cloudfront`: paths one invalidation names", bounds=(1, cdn.CLOUDFRONT_PATHS)),
        k("cdn", "zone", "text", None, none, (), "`cloudflare`: the zone's id, 32 hex digits",
          shown_default="required for `cloudflare`"),
        k("cdn", "api", "url", cdn.CLOUDFLARE_API, none, (),
          "`cloudflare`: the API's base; https, or http to this machine only"),
        k("cdn", "per_request", "whole number", cdn.CLOUDFLARE_PER_REQUEST, none, (),
          "`cloudflare`: URLs one request names", bounds=(1, cdn.CLOUDFLARE_LIMIT)),
    ]
    topic = [
        k("topics.<slug>", "title", "text", None, out, ("title",), "the topic's name",
          shown_default="the slug's words, capitalised"),
        k("topics.<slug>", "description", "text", None, out, ("description",), "what the topic is about",
          shown_default="the title"),
        k("topics.<slug>", "match", "names", None, out, ("match",),
          'record topics the topic takes, case-insensitive; `"*"` takes every record',
          shown_default="the title"),
    ]
    rules = [
        k(RULES, "min_quality", "number", None, out, ("min_quality",),
          "keep records whose quality is at least this (a record with none fails)", shown_default="any"),
        k(RULES, "types", "names", (), out, ("types",), "keep only these record types", shown_default="any"),
        k(RULES, "categories", "names", (), out, ("categories",), "keep only these record categories",
          shown_default="any"),
        k(RULES, "providers", "mapping", None, out, ("providers_include", "providers_exclude"),
          "`{include, exclude}` by provider name or domain (a list: `include`)", shown_default="any"),
        k(RULES, "keywords", "mapping", None, out, ("keywords_include", "keywords_exclude"),
          "`{include, exclude}`: whole words, case-insensitive, in title and excerpt (a list: `include`)",
          shown_default="any"),
        k(RULES, "published", "choice", "only", out, ("published_only",),
          "`only` skips records marked `published: false`; `any` keeps them", choices=PUBLISHED),
        k(RULES, "max_age_days", "number", None, out, ("max_age_days",),
          "skip records published longer ago than this, counted from the run's time (`--now`)",
          bounds=(0, None), shown_default="no limit"),
        k(RULES, "sort", "choice", "newest", out, ("sort",),
          "the entries' order; ties by newest, then by entry id", choices=SORTS),
        k(RULES, "limit", "whole number", DEFAULT_LIMIT, out, ("limit",), "entries per feed",
          bounds=(0, None)),
        k(RULES, "related", "choice", "see-also", out, ("related",), "how related articles are shown",
          choices=RELATED_MODES),
        k(RULES, "future", "choice", "hold", out, ("future",),
          "`hold` keeps a record dated after the run's time out of the feed until then; `publish` "
          "publishes it at once", choices=FUTURE),
        k(RULES, "clock_skew_minutes", "number", DEFAULT_CLOCK_SKEW_MINUTES, out, ("clock_skew_minutes",),
          "how far ahead of the run's time a date may be and still count as now", bounds=(0, None)),
        k(RULES, "formats", "names", default_formats, out, ("formats",),
          "the files the topic gets, in this order", choices=format_names),
        k(RULES, "archive", "true or false", False, out, ("archive",),
          "keep every entry the topic ever published in RFC 5005 archive pages (needs `atom`)"),
    ]
    filters = [
        k(f"{RULES}.{rule}", name, "names", (), out, (), f"{what} {whose}")
        for rule, whose in (("providers", "providers (names or domains)"), ("keywords", "words"))
        for name, what in (("include", "keep only records with one of these"),
                           ("exclude", "skip records with any of these"))
    ]
    # fmt: on
    return (*top, *site, *author, *hubs, *s3, *cache, *cdn_keys, *topic, *rules, *filters)


KEYS: tuple[Key, ...] = _rows()
_BY_PATH = {key.path: key for key in KEYS}


def key(path: str) -> Key:
    """The key at dotted `path` (`site.title`, `rules.limit`, `topics.<slug>.match`)."""
    return _BY_PATH[path]


def keys(section: str) -> tuple[Key, ...]:
    """The keys of `section`, in the table's order."""
    return tuple(k for k in KEYS if k.section == section)


def names(section: str) -> tuple[str, ...]:
    """The names of the keys `section` knows, in the order a message lists them."""
    return tuple(k.name for k in KEYS if k.section == section)
