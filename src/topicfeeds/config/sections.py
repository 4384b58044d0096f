"""The checker's sections: the whole file, `site`, `s3`, rules and topics, each read as
the table (schema.py) lays it out, into the settings objects (model.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from ..errors import Problem, display_path
from ..notify.cdn.settings import CdnSettings, parse_cdn
from ..records.clean import redact_url
from .check import Checker, Path_, describe, shown
from .model import (
    ADDRESSING,
    DEFAULT_CACHE_CONTROL,
    FILE_KINDS,
    Addressing,
    Author,
    BucketUrl,
    Config,
    DatabaseState,
    Hub,
    Rules,
    S3Settings,
    Site,
    Topic,
    is_bucket,
    is_database,
)
from .schema import RULES, key, keys, names
from .slugs import MAX_SLUG, is_slug, site_file_taken, slugify

# The rules checked one by one, in the order their problems have always been listed.
# A schema's name as PostgreSQL takes it without quotes; pg_ names are the system's.
SCHEMA_NAME = re.compile(r"(?!pg_)[a-z_][a-z0-9_]{0,62}")
_PLAIN_RULES = ("min_quality", "types", "categories", "max_age_days", "sort", "limit", "related", "future",
                "clock_skew_minutes")  # fmt: skip


class ConfigChecker(Checker):
    """Reads a loaded config.yaml into a Config, or notes why not (`problems`)."""

    def config(self, data: Any, path: Path) -> Config | None:
        """The whole file, as loaded from `path`; None when anything in it is wrong."""
        if data is None:
            self.problem((), "the file is empty; it needs at least site and topics")
            return None
        top = self.section(data, (), "")
        if not top:
            return None
        base = path.parent
        site = self.site(top.get("site"), ("site",))
        records = self.value(top, key("records"), ())
        output = self.value(top, key("output"), ())
        state = self.value(top, key("state"), ())
        # An empty list is no list: the default patterns, as for a key not given.
        patterns: tuple[str, ...] = self.setting(top, key("patterns"), ()) or cast(
            Any, key("patterns").default_value
        )
        max_bytes = self.value(top, key("max_record_bytes"), ())
        auto = self.value(top, key("auto"), ())
        defaults = self.rules(self.section(top.get("defaults"), ("defaults",), RULES), ("defaults",), Rules())
        topics = self.topics(top.get("topics"), ("topics",), defaults)
        per_record = self.value(top, key("auto_max_topics_per_record"), ())
        ceiling = self.value(top, key("auto_max_topics"), ())
        retire = self.retire(top.get("retire"), ("retire",), {t.slug for t in topics})
        share = self.value(top, key("guard_removals"), ())
        if share > 1:
            self.problem(("guard_removals",), f"expected a share between 0 and 1, got {share:g}")
        minimum = self.value(top, key("guard_min_removals"), ())
        delete = self.value(top, key("delete"), ())
        max_deletes = self.value(top, key("max_deletes"), ())
        if not topics and not auto:
            self.problem(("topics",), "no topics configured and auto is off: nothing to publish")
        s3 = self.s3(top.get("s3"), ("s3",))
        cdn = self.cdn(top.get("cdn"), ("cdn",))
        output_url = self.bucket_url(output, ("output",))
        records_url = self.bucket_url(records, ("records",))
        if site is None or self.problems:
            return None
        # A bucket's folder stand-in is never read nor written; it keeps paths distinct.
        records_dir = (base / ("seeds" if records_url else records)).resolve()
        output_dir = (base / ("feeds" if output_url else output)).resolve()
        if output_url is not None and output_url == records_url:
            self.problem(("output",), "must not be the records bucket and prefix")
            return None
        if records_dir == output_dir:
            self.problem(("output",), "must not be the records folder")
            return None
        state_db, state_path = None, None
        if is_database(state):
            state_db = self.database(state, self.value(top, key("state_schema"), ()))
            if state_db is None:
                return None
        else:
            if "state_schema" in top:
                self.problem(("state_schema",), "only a PostgreSQL state has a schema; state names a file")
                return None
            state_path = (base / state).resolve()
            if state_path.is_relative_to(output_dir) or state_path.is_relative_to(records_dir):
                self.problem(("state",), "must not be inside the output or records folder")
                return None
        unusable = None if state_path is None else _unusable_state(state_path)
        if unusable is not None:
            if "state" in top:
                self.problem(("state",), unusable)
            else:  # the default, beside the config: no line says it
                self.problems.append(Problem(self.shown, None, "state", unusable))
            return None
        return Config(
            path=path,
            site=site,
            records_dir=records_dir,
            output_dir=output_dir,
            patterns=patterns,
            max_record_bytes=max_bytes,
            defaults=defaults,
            topics=topics,
            auto=auto,
            state_path=state_path,
            state_db=state_db,
            auto_max_topics_per_record=per_record,
            auto_max_topics=ceiling,
            retire=retire,
            guard_removals=share,
            guard_min_removals=minimum,
            output_url=output_url,
            records_url=records_url,
            s3=s3,
            delete=delete,
            max_deletes=max_deletes,
            cdn=cdn,
        )

    def database(self, url: str, schema: str) -> DatabaseState | None:
        """The PostgreSQL state `url` names, in schema `schema` (`state`, `state_schema`)."""
        why = database_problem(url)
        if why is not None:
            self.problem(("state",), why)
            return None
        if not SCHEMA_NAME.fullmatch(schema):
            self.problem(("state_schema",), f"expected a lowercase name of letters, digits and _ (not "
                         f"starting with a digit or pg_), at most 63 long, got {shown(schema)}")  # fmt: skip
            return None
        return DatabaseState(url, schema)

    def bucket_url(self, text: str | None, path: Path_) -> BucketUrl | None:
        """The bucket `text` names, when it names one (`records`, `output`)."""
        if not is_bucket(text):
            return None
        url = BucketUrl.parse(str(text))
        if url is None:
            self.problem(path, f"{shown(text)} is not an address such as s3://bucket/prefix/")
        return url

    def s3(self, value: Any, path: Path_) -> S3Settings:
        """The `s3` section: how to reach object storage."""
        m = self.section(value, path, "s3")
        endpoint = self.setting(m, key("s3.endpoint"), path)
        region = self.setting(m, key("s3.region"), path)
        style = self.text(m, "addressing_style", path) or str(key("s3.addressing_style").default_value)
        addressing: Addressing = "auto"
        if style in ADDRESSING:
            addressing = style
        else:
            choices = ", ".join(ADDRESSING)
            self.problem((*path, "addressing_style"), f"{shown(style)} is not one of {choices}")
        cache = dict(DEFAULT_CACHE_CONTROL)
        where = (*path, "cache_control")
        given = self.section(m.get("cache_control"), where, "s3.cache_control")
        for kind in FILE_KINDS:
            text = self.setting(given, key(f"s3.cache_control.{kind}"), where)
            if text is not None:
                cache[kind] = text
        attempts = self.value(m, key("s3.max_attempts"), path)
        parallel = self.value(m, key("s3.parallel"), path)
        return S3Settings(endpoint, region, addressing, tuple(cache.items()), attempts, parallel)

    def cdn(self, value: Any, path: Path_) -> CdnSettings | None:
        """The `cdn` section: which CDN to tell of changed files, and how (checked by
        parse_cdn, which knows the keys of each kind); None when not given."""
        if value is None:
            return None
        parsed = parse_cdn(value, path)
        if isinstance(parsed, CdnSettings):
            return parsed
        for problem in parsed:
            self.problem(problem.path, problem.message)
        return None

    def retire(self, value: Any, path: Path_, configured: set[str]) -> tuple[str, ...]:
        """The slugs `retire` lists; none may be a `configured` topic's."""
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(path, f"expected a list of slugs, got {describe(value)}")
            return ()
        slugs = []
        for i, item in enumerate(value):
            slug = str(item)
            if not is_slug(slug):
                self.problem((*path, i), f"{shown(slug)} is not a topic's slug")
            elif slug in configured:
                self.problem(
                    (*path, i), f"{slug!r} is a configured topic; remove it from topics to retire it"
                )
            else:
                slugs.append(slug)
        return tuple(dict.fromkeys(slugs))

    def site(self, value: Any, path: Path_) -> Site | None:
        """The `site` section; None when it is missing or lacks what every feed needs."""
        if value is None:
            needed = [row.name for row in keys("site") if row.required]
            self.problem(path, f"missing; give at least {', '.join(needed[:-1])} and {needed[-1]}")
            return None
        m = self.section(value, path, "site")
        title = self.setting(m, key("site.title"), path)
        link = self.setting(m, key("site.link"), path)
        base_url = self.setting(m, key("site.base_url"), path)
        language = self.setting(m, key("site.language"), path)
        if language is not None and not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", language):
            self.problem((*path, "language"), f"{shown(language)} is not a language tag such as en or en-GB")
        author = self.author(m.get("author"), (*path, "author"), title)
        hubs = self.hubs(m.get("hubs"), (*path, "hubs"))
        if not (title and link and base_url and author):
            return None
        if not base_url.endswith("/"):
            base_url += "/"
        return Site(title, link, base_url, language, author, hubs)

    def hubs(self, value: Any, path: Path_) -> tuple[Hub, ...]:
        """`site.hubs`: each a URL or a mapping; a URL given twice is reported."""
        if value is None:
            return ()
        if not isinstance(value, list):
            quoted = redact_url(value) if isinstance(value, str) else value
            self.problem(path, f"expected a list of hub URLs, got {describe(quoted)}")
            return ()
        hubs: list[Hub] = []
        for n, item in enumerate(value):
            where = (*path, str(n))
            if isinstance(item, str):
                item = {"url": item}
            if not isinstance(item, dict):
                self.problem(where, f"expected a hub URL or a mapping with url, param; got {describe(item)}")
                continue
            m = self.section(item, where, "site.hubs[]")
            url = self.url(m, "url", where, required=True, secret=True)
            param = m.get("param", key("site.hubs[].param").default_value)
            if param not in key("site.hubs[].param").choice_values:
                choices = ", ".join(key("site.hubs[].param").choice_values)
                self.problem((*where, "param"), f"expected one of {choices}, got {shown(param)}")
                continue
            per_request = self.value(m, key("site.hubs[].per_request"), where)
            timeout_key = key("site.hubs[].timeout")
            timeout = self.value(m, timeout_key, where)
            if timeout_key.maximum is not None and timeout > timeout_key.maximum:
                self.problem(
                    (*where, "timeout"), f"expected at most {timeout_key.maximum:g} seconds, got {timeout:g}"
                )
                timeout = timeout_key.default_value
            if url is not None:
                if any(h.url == url for h in hubs):
                    self.problem(where, f"{redact_url(url)} is listed twice")
                    continue
                hubs.append(Hub(url, param, per_request, timeout))
        return tuple(hubs)

    def author(self, value: Any, path: Path_, site_title: str | None) -> Author | None:
        """`site.author`: a name or a mapping; the site's title when not given."""
        if value is None:
            return Author(site_title or "")
        if isinstance(value, str):
            value = {"name": value}
        m = self.section(value, path, "site.author")
        name = self.setting(m, key("site.author.name"), path)
        email = self.setting(m, key("site.author.email"), path)
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            self.problem((*path, "email"), f"{shown(email)} is not an email address")
        uri = self.setting(m, key("site.author.uri"), path)
        return Author(name, email, uri) if name else None

    def rules(self, m: dict[str, Any], path: Path_, inherited: Rules) -> Rules:
        """The rules `m` gives, over those `inherited` (the defaults, for a topic)."""
        changes: dict[str, Any] = {}
        for name in _PLAIN_RULES:
            value = self.setting(m, key(f"{RULES}.{name}"), path)
            if value is not None:
                changes[name] = value
        formats = self.formats(m.get("formats"), (*path, "formats"))
        if formats is not None:
            changes["formats"] = formats
        archive = self.setting(m, key(f"{RULES}.archive"), path)
        if archive is not None:
            changes["archive"] = archive
        published = self.setting(m, key(f"{RULES}.published"), path)
        if published is not None:
            changes["published_only"] = published == "only"
        for name in ("providers", "keywords"):
            pair = self.include_exclude(m.get(name), (*path, name))
            if pair is not None:
                changes[f"{name}_include"], changes[f"{name}_exclude"] = pair
        rules = replace(inherited, **changes)
        if rules.archive and "atom" not in rules.formats and ("archive" in m or "formats" in m):
            # RFC 5005 archives are Atom documents, linked from the Atom feed.
            self.problem((*path, "archive"), "archives need the atom format among the topic's formats")
        return rules

    def topics(self, value: Any, path: Path_, defaults: Rules) -> tuple[Topic, ...]:
        """The configured topics, each with its rules over `defaults`."""
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping of slug: settings, got {describe(value)}")
            return ()
        known = (*names("topics.<slug>"), *names(RULES))
        topics = []
        for name, raw in value.items():
            slug = str(name)
            at = (*path, slug)
            if not is_slug(slug):
                self.problem(
                    at,
                    f"{shown(slug)} is not a usable slug (lowercase ASCII letters, digits "
                    f"and single hyphens, at most {MAX_SLUG} characters); "
                    f"try {slugify(slug)!r}",
                )
                continue
            clash = site_file_taken(slug)
            if clash is not None:
                self.problem(
                    at, f"{slug!r} is reserved: the site writes {clash} itself; try {slugify(slug)!r}"
                )
                continue
            m = self.mapping(raw, at, known)
            title = self.text(m, "title", at, slug.replace("-", " ").title()) or slug
            description = self.text(m, "description", at) or title
            match = self.setting(m, key("topics.<slug>.match"), at)
            rules = self.rules(m, at, defaults)
            topics.append(Topic(slug, title, description, match or (title.casefold(),), rules))
        return tuple(topics)


def database_problem(url: str) -> str | None:
    """Why `url` cannot name a PostgreSQL state, or None. A password is refused, and
    never quoted: config.yaml (or a command line) is no place for one."""
    parts = urlsplit(url)
    secrets = {"password", "sslpassword"}.intersection(parse_qs(parts.query, keep_blank_values=True))
    if parts.password is not None or secrets:
        where = "the URL's user part" if parts.password is not None else f"{min(secrets)}="
        return (f"a password in {where} is not kept there; give it in PGPASSWORD or ~/.pgpass "
                "(libpq's environment)")  # fmt: skip
    if parts.fragment:
        return "a PostgreSQL URL has no #fragment; the schema is state_schema"
    return None


def _unusable_state(path: Path) -> str | None:
    """Why the state file cannot be at `path` (nor its lock file beside it), or None."""
    lock = path.with_name(path.name + ".lock")
    if path.is_dir():
        return f"{display_path(path)} is a folder; the state is a file (give its name)"
    if lock.is_dir():
        return f"{display_path(lock)}, the state's lock file, is a folder"
    if not path.parent.is_dir():
        return f"{display_path(path.parent)}: the state's folder does not exist"
    return None
