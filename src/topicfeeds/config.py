"""Load and validate config.yaml: every problem is reported at once, naming its key and line."""

from __future__ import annotations

import difflib
import hashlib
import re
import reprlib
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from .core.archive import is_archive
from .errors import ConfigError, Problem, dotted
from .records.clean import clean_line, clean_url, redact_url
from .records.reader import DEFAULT_MAX_BYTES
from .sources.stamps import DEFAULT_PATTERNS, display_path

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
# module loads: they import it (Site, Topic), so it cannot import them then.
def format_names() -> tuple[Format, ...]:
    """The formats config.yaml may name: every registered one."""
    from .formats.spec import names

    return names()


def default_formats() -> tuple[Format, ...]:
    """What a topic gets unless told otherwise: the registered formats on by default."""
    from .formats.spec import default_formats

    return default_formats()


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
    timeout: float = 5.0  # seconds a request may take, all told, before the hub counts as down


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
    formats: tuple[Format, ...] = field(default_factory=default_formats)  # the files it gets, in this order
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


# -- slugs

_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {f"{d}{n}" for d in ("com", "lpt") for n in range(10)}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 64
# The files a site has beside its topics' (formats/spec.py's SITE_FILES); a test holds
# them to those modules. No topic's file may take one's name.
SITE_FILES = ("index.html", "topics.opml", "style.css", "feed.css")
# Symbols spelt out in slugs: "C++" and "C#" would otherwise both come to "c".
_SPELT = {"+": " plus ", "#": " sharp ", "&": " and ", "@": " at ", "%": " percent ", "$": " dollar "}
# An automatic topic's name that its slug spells exactly: lowercase ASCII words between
# single spaces or hyphens. "energy policy" and "energy-policy" are one topic (topic_key).
_PLAIN = re.compile(r"[a-z0-9]+(?:[ -][a-z0-9]+)*")
DIGEST = 8  # hex digits of the name's digest in the slug of a name its slug cannot spell
# Slugs that end as a digest does: a name whose slug would end so is given a digest too,
# so no name's slug is another's.
_DIGEST_LIKE = re.compile(rf".+-[0-9a-f]{{{DIGEST}}}|topic-[0-9a-f]{{10}}")


def is_slug(value: str) -> bool:
    """Whether `value` is usable as a feed's file name stem."""
    return len(value) <= MAX_SLUG and _SLUG.fullmatch(value) is not None and value not in _WINDOWS_DEVICES


def site_file_taken(slug: str) -> str | None:
    """The site file (or archive page) one of topic `slug`'s files would be, or None."""
    from .formats.spec import specs  # see format_names

    for spec in specs():
        name = f"{slug}{spec.suffix}"
        if name in SITE_FILES or is_archive(name):
            return name
    return None


def _spelt(name: str) -> str:
    """`name` as slug text: symbols spelt out, letters folded to ASCII, lowercase, every
    other run of characters one hyphen; "" when nothing is left."""
    text = "".join(_SPELT.get(c, c) for c in name)
    ascii_name = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def slugify(name: str) -> str:
    """A lowercase ASCII slug for `name`; never empty, never a path, a device name or
    a site file's name. What a configured topic's key is told to be instead."""
    slug = _spelt(name)[:MAX_SLUG].strip("-")
    if not slug:
        # Non-Latin names keep a stable, distinct slug.
        return "topic-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    if slug in _WINDOWS_DEVICES or site_file_taken(slug):
        return f"{slug}-topic"
    return slug


def topic_key(name: str) -> str:
    """Which automatic topic record topic `name` belongs to: its casefolded name, where a
    hyphen between two words of a plain name counts as a space. "COVID-19" and "Covid 19"
    are spellings of one topic, as "AI" and "ai" are."""
    key = name.casefold()
    return key.replace("-", " ") if _PLAIN.fullmatch(key) else key


def topic_slug(name: str, taken: Collection[str] = ()) -> str:
    """The slug of the automatic topic `name`: made from its casefolded name alone (and
    `taken`, the configured topics' slugs), never from which other topics there are, so
    a slug never passes from one topic to another. A name of lowercase ASCII words
    between single spaces or hyphens is spelt exactly ("climate change" and
    "climate-change": "climate-change", one topic by `topic_key`); any
    other name, and one whose exact slug is a device, a site file, a configured topic's
    or looks like a digest, is spelt as well as it can be, then a digest of the name
    follows ("C++": "c-plus-plus-" and 8 hex digits); a name with nothing to spell is
    "topic-" and 10 hex digits. Distinct names get distinct slugs, as long as digests
    differ."""
    key = topic_key(name)
    if len(key) <= MAX_SLUG and _PLAIN.fullmatch(key):
        slug = key.replace(" ", "-")
        clash = slug in _WINDOWS_DEVICES or site_file_taken(slug) or slug in taken
        if not clash and not _DIGEST_LIKE.fullmatch(slug):
            return slug
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    base = _spelt(key)[: MAX_SLUG - DIGEST - 1].strip("-")
    if not base:
        return "topic-" + digest[:10]
    return f"{base}-{digest[:DIGEST]}"


# -- loading

MAX_DEPTH = 32  # levels of nesting; the deepest key config.yaml knows is at 4
QUOTED = 60  # characters of a value a message quotes: a value may be as long as the file


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what config.yaml never needs. An anchor and its
    aliases: each alias stands for the whole anchored value again, so a few lines can
    stand for billions of values (the "billion laughs"), which checking or quoting them
    would expand. Deep nesting: composing recurses once a level. A scalar its tag cannot
    be made from (`!!timestamp 2026-13-45`, an integer of 5,000 digits) is a YAML error
    with its line, not the ValueError SafeConstructor lets out."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases are not allowed", event.start_mark
            )
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            kind = str(node.tag).rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {_shown(node.value)} as {kind}", node.start_mark
            ) from exc


def load_config(path: Path) -> Config:
    """Read and validate the config file at `path`; raise ConfigError listing every problem."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([Problem(shown, None, None, f"cannot read: {reason}")]) from exc
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate config `text` as if read from `path` (paths resolve against its folder)."""
    shown = display_path(path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([Problem(shown, line, None, f"invalid YAML: {reason}")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(shown, None, None, f"invalid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    checker = _Checker(shown, node)
    config = checker.config(data, path.resolve())
    if checker.problems or config is None:
        raise ConfigError(sorted(checker.problems, key=lambda p: p.line or 0))
    return config


_TOP_KEYS = (
    "site",
    "records",
    "output",
    "state",
    "patterns",
    "max_record_bytes",
    "auto",
    "auto_max_topics_per_record",
    "auto_max_topics",
    "retire",
    "guard_removals",
    "guard_min_removals",
    "delete",
    "max_deletes",
    "s3",
    "defaults",
    "topics",
)
_S3_KEYS = ("endpoint", "region", "addressing_style", "cache_control", "max_attempts", "parallel")
_SITE_KEYS = ("title", "link", "base_url", "language", "author", "hubs")
_HUB_KEYS = ("url", "param", "per_request", "timeout")
_AUTHOR_KEYS = ("name", "email", "uri")
_RULE_KEYS = (
    "min_quality",
    "types",
    "categories",
    "providers",
    "keywords",
    "published",
    "max_age_days",
    "sort",
    "limit",
    "related",
    "future",
    "clock_skew_minutes",
    "formats",
    "archive",
)
_TOPIC_KEYS = ("title", "description", "match", *_RULE_KEYS)
_FILTER_KEYS = ("include", "exclude")

Path_ = tuple[str | int, ...]


class _Checker:
    """Walks the loaded config, collecting problems instead of stopping at the first."""

    def __init__(self, shown: str, node: yaml.Node | None) -> None:
        self.shown = shown
        self.problems: list[Problem] = []
        self.lines: dict[Path_, int] = {}
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, path: Path_) -> None:
        seen: set[int] = set()
        stack: list[tuple[yaml.Node, Path_]] = [(node, path)]
        while stack:
            node, path = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            self.lines.setdefault(path, node.start_mark.line + 1)
            if isinstance(node, yaml.MappingNode):
                keys: set[str] = set()
                for k, v in node.value:
                    key = str(k.value)
                    if key in keys:
                        self.problems.append(
                            Problem(
                                self.shown,
                                k.start_mark.line + 1,
                                dotted((*path, key)),
                                "duplicate key: only one may be given",
                            )
                        )
                    keys.add(key)
                    key_path = (*path, key)
                    self.lines[key_path] = k.start_mark.line + 1
                    stack.append((v, key_path))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((item, (*path, i)) for i, item in enumerate(node.value))

    def problem(self, path: Path_, message: str) -> None:
        line = None
        for depth in range(len(path), -1, -1):
            line = self.lines.get(path[:depth])
            if line is not None:
                break
        # A key is quoted as a value is: an unknown one may be as long as the file.
        steps = (s if isinstance(s, int) or len(s) <= QUOTED else s[: QUOTED - 3] + "..." for s in path)
        self.problems.append(Problem(self.shown, line, dotted(steps) or None, message))

    def mapping(self, value: Any, path: Path_, known: Sequence[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {_describe(value)}")
            return {}
        for key in value:
            if str(key) not in known:
                hint = _suggestion(str(key), known)
                extra = f"; did you mean {hint!r}?" if hint else f"; known keys: {', '.join(known)}"
                self.problem((*path, str(key)), f"unknown key{extra}")
        return {str(k): v for k, v in value.items()}

    # -- scalar kinds

    def text(
        self, m: dict[str, Any], key: str, path: Path_, default: str | None = None, *, required: bool = False
    ) -> str | None:
        value = m.get(key)
        if value is None:
            if required:
                self.problem((*path, key), "missing")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem((*path, key), f"expected text, got {_describe(value)}")
            return default
        text = clean_line(str(value))
        if not text and required:
            self.problem((*path, key), "must not be empty")
        return text or default

    def url(
        self, m: dict[str, Any], key: str, path: Path_, *, required: bool, secret: bool = False
    ) -> str | None:
        value = m.get(key)
        if value is None:
            if required:
                self.problem((*path, key), "missing; an absolute http(s) URL is needed")
            return None
        url = clean_url(value)
        if url is None:
            # A hub's URL may carry a token or a password: the message shows neither.
            shown = redact_url(value) if secret and isinstance(value, str) else value
            self.problem((*path, key), f"{_shown(shown)} is not an absolute http(s) URL")
        return url

    def number(
        self, m: dict[str, Any], key: str, path: Path_, *, minimum: float, integer: bool = False
    ) -> float | None:
        value = m.get(key)
        if value is None:
            return None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and integer and not float(value).is_integer():
            ok = False
        if not ok or value < minimum:
            kind = "a whole number" if integer else "a number"
            floor = f" of at least {minimum:g}" if minimum > float("-inf") else ""
            self.problem((*path, key), f"expected {kind}{floor}, got {_shown(value)}")
            return None
        return float(value)

    def choice(self, m: dict[str, Any], key: str, path: Path_, choices: Sequence[str]) -> str | None:
        value = m.get(key)
        if value is None:
            return None
        if value not in choices:
            hint = _suggestion(value, choices)
            extra = f"; did you mean {hint!r}?" if hint else ""
            self.problem((*path, key), f"{_shown(value)} is not one of {', '.join(choices)}{extra}")
            return None
        return str(value)

    def names(self, value: Any, path: Path_) -> tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
        ):
            self.problem(path, f"expected a list of names, got {_describe(value)}")
            return None
        names = (clean_line(str(v)).casefold() for v in value)
        return tuple(dict.fromkeys(n for n in names if n))

    def formats(self, value: Any, path: Path_) -> tuple[Format, ...] | None:
        names = self.names(value, path)
        if names is None:
            return None
        formats = format_names()
        if not names:
            self.problem(path, f"give at least one of {', '.join(formats)}")
            return None
        known: list[Format] = []
        for i, name in enumerate(names):
            if name not in formats:
                hint = _suggestion(name, formats)
                extra = f"; did you mean {hint!r}?" if hint else ""
                self.problem((*path, i), f"{_shown(name)} is not one of {', '.join(formats)}{extra}")
            else:
                known.append(name)
        return tuple(known) if len(known) == len(names) else None

    def include_exclude(self, value: Any, path: Path_) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        if value is None:
            return None
        if isinstance(value, (list, str)):
            return self.names(value, path) or (), ()
        m = self.mapping(value, path, _FILTER_KEYS)
        return (
            self.names(m.get("include"), (*path, "include")) or (),
            self.names(m.get("exclude"), (*path, "exclude")) or (),
        )

    # -- sections

    def config(self, data: Any, path: Path) -> Config | None:
        if data is None:
            self.problem((), "the file is empty; it needs at least site and topics")
            return None
        top = self.mapping(data, (), _TOP_KEYS)
        if not top:
            return None
        base = path.parent
        site = self.site(top.get("site"), ("site",))
        records = self.text(top, "records", (), "seeds")
        output = self.text(top, "output", (), "feeds")
        state = self.text(top, "state", (), DEFAULT_STATE)
        patterns = self.names(top.get("patterns"), ("patterns",))
        max_bytes = self.number(top, "max_record_bytes", (), minimum=1, integer=True)
        auto = top.get("auto", False)
        if not isinstance(auto, bool):
            self.problem(("auto",), f"expected true or false, got {_shown(auto)}")
            auto = False
        defaults = self.rules(
            self.mapping(top.get("defaults"), ("defaults",), _RULE_KEYS), ("defaults",), Rules()
        )
        topics = self.topics(top.get("topics"), ("topics",), defaults)
        per_record = self.number(top, "auto_max_topics_per_record", (), minimum=1, integer=True)
        ceiling = self.number(top, "auto_max_topics", (), minimum=0, integer=True)
        retire = self.retire(top.get("retire"), ("retire",), {t.slug for t in topics})
        share = self.number(top, "guard_removals", (), minimum=0)
        if share is not None and share > 1:
            self.problem(("guard_removals",), f"expected a share between 0 and 1, got {share:g}")
        minimum = self.number(top, "guard_min_removals", (), minimum=0, integer=True)
        delete = top.get("delete", False)
        if not isinstance(delete, bool):
            self.problem(("delete",), f"expected true or false, got {_shown(delete)}")
            delete = False
        max_deletes = self.number(top, "max_deletes", (), minimum=0, integer=True)
        if not topics and not auto:
            self.problem(("topics",), "no topics configured and auto is off: nothing to publish")
        s3 = self.s3(top.get("s3"), ("s3",))
        output_url = self.bucket_url(output, ("output",))
        records_url = self.bucket_url(records, ("records",))
        if site is None or self.problems:
            return None
        # A bucket's folder stand-in is never read nor written; it keeps paths distinct.
        records_dir = (base / ("seeds" if records_url or not records else records)).resolve()
        output_dir = (base / ("feeds" if output_url or not output else output)).resolve()
        if output_url is not None and output_url == records_url:
            self.problem(("output",), "must not be the records bucket and prefix")
            return None
        if records_dir == output_dir:
            self.problem(("output",), "must not be the records folder")
            return None
        state_path = (base / (state or DEFAULT_STATE)).resolve()
        if state_path.is_relative_to(output_dir) or state_path.is_relative_to(records_dir):
            self.problem(("state",), "must not be inside the output or records folder")
            return None
        unusable = _unusable_state(state_path)
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
            patterns=tuple(patterns) if patterns else DEFAULT_PATTERNS,
            max_record_bytes=int(max_bytes) if max_bytes else DEFAULT_MAX_BYTES,
            defaults=defaults,
            topics=topics,
            auto=auto,
            state_path=state_path,
            auto_max_topics_per_record=_int(per_record, DEFAULT_AUTO_MAX_TOPICS_PER_RECORD),
            auto_max_topics=_int(ceiling, DEFAULT_AUTO_MAX_TOPICS),
            retire=retire,
            guard_removals=DEFAULT_GUARD_REMOVALS if share is None else share,
            guard_min_removals=_int(minimum, DEFAULT_GUARD_MIN_REMOVALS),
            output_url=output_url,
            records_url=records_url,
            s3=s3,
            delete=delete,
            max_deletes=_int(max_deletes, DEFAULT_MAX_DELETES),
        )

    def bucket_url(self, text: str | None, path: Path_) -> BucketUrl | None:
        if not is_bucket(text):
            return None
        url = BucketUrl.parse(str(text))
        if url is None:
            self.problem(path, f"{_shown(text)} is not an address such as s3://bucket/prefix/")
        return url

    def s3(self, value: Any, path: Path_) -> S3Settings:
        m = self.mapping(value, path, _S3_KEYS)
        endpoint = self.url(m, "endpoint", path, required=False)
        region = self.text(m, "region", path)
        style = self.text(m, "addressing_style", path, "auto") or "auto"
        addressing: Addressing = "auto"
        if style in ADDRESSING:
            addressing = style
        else:
            choices = ", ".join(ADDRESSING)
            self.problem((*path, "addressing_style"), f"{_shown(style)} is not one of {choices}")
        cache = dict(DEFAULT_CACHE_CONTROL)
        given = self.mapping(m.get("cache_control"), (*path, "cache_control"), FILE_KINDS)
        for kind in FILE_KINDS:
            text = self.text(given, kind, (*path, "cache_control"))
            if text is not None:
                cache[kind] = text
        attempts = self.number(m, "max_attempts", path, minimum=1, integer=True)
        parallel = self.number(m, "parallel", path, minimum=1, integer=True)
        return S3Settings(
            endpoint, region, addressing, tuple(cache.items()),
            _int(attempts, DEFAULT_S3_ATTEMPTS), _int(parallel, DEFAULT_S3_PARALLEL),
        )  # fmt: skip

    def retire(self, value: Any, path: Path_, configured: set[str]) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(path, f"expected a list of slugs, got {_describe(value)}")
            return ()
        slugs = []
        for i, item in enumerate(value):
            slug = str(item)
            if not is_slug(slug):
                self.problem((*path, i), f"{_shown(slug)} is not a topic's slug")
            elif slug in configured:
                self.problem(
                    (*path, i), f"{slug!r} is a configured topic; remove it from topics to retire it"
                )
            else:
                slugs.append(slug)
        return tuple(dict.fromkeys(slugs))

    def site(self, value: Any, path: Path_) -> Site | None:
        if value is None:
            self.problem(path, "missing; give at least title, link and base_url")
            return None
        m = self.mapping(value, path, _SITE_KEYS)
        title = self.text(m, "title", path, required=True)
        link = self.url(m, "link", path, required=True)
        base_url = self.url(m, "base_url", path, required=True)
        language = self.text(m, "language", path)
        if language is not None and not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", language):
            self.problem((*path, "language"), f"{_shown(language)} is not a language tag such as en or en-GB")
        author = self.author(m.get("author"), (*path, "author"), title)
        hubs = self.hubs(m.get("hubs"), (*path, "hubs"))
        if not (title and link and base_url and author):
            return None
        if not base_url.endswith("/"):
            base_url += "/"
        return Site(title, link, base_url, language, author, hubs)

    def hubs(self, value: Any, path: Path_) -> tuple[Hub, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            shown = redact_url(value) if isinstance(value, str) else value
            self.problem(path, f"expected a list of hub URLs, got {_describe(shown)}")
            return ()
        hubs: list[Hub] = []
        for n, item in enumerate(value):
            where = (*path, str(n))
            if isinstance(item, str):
                item = {"url": item}
            if not isinstance(item, dict):
                self.problem(where, f"expected a hub URL or a mapping with url, param; got {_describe(item)}")
                continue
            m = self.mapping(item, where, _HUB_KEYS)
            url = self.url(m, "url", where, required=True, secret=True)
            param = m.get("param", "url")
            if param not in HUB_PARAMS:
                choices = ", ".join(HUB_PARAMS)
                self.problem((*where, "param"), f"expected one of {choices}, got {_shown(param)}")
                continue
            per_request = self.number(m, "per_request", where, minimum=1, integer=True)
            timeout = self.number(m, "timeout", where, minimum=0.1)
            if timeout is not None and timeout > HUB_TIMEOUT_LIMIT:
                self.problem(
                    (*where, "timeout"), f"expected at most {HUB_TIMEOUT_LIMIT:g} seconds, got {timeout:g}"
                )
                timeout = None
            if url is not None:
                if any(h.url == url for h in hubs):
                    self.problem(where, f"{redact_url(url)} is listed twice")
                    continue
                hubs.append(Hub(url, param, int(per_request or 1), timeout or 5.0))
        return tuple(hubs)

    def author(self, value: Any, path: Path_, site_title: str | None) -> Author | None:
        if value is None:
            return Author(site_title or "")
        if isinstance(value, str):
            value = {"name": value}
        m = self.mapping(value, path, _AUTHOR_KEYS)
        name = self.text(m, "name", path, required=True)
        email = self.text(m, "email", path)
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            self.problem((*path, "email"), f"{_shown(email)} is not an email address")
        uri = self.url(m, "uri", path, required=False)
        return Author(name, email, uri) if name else None

    def rules(self, m: dict[str, Any], path: Path_, inherited: Rules) -> Rules:
        changes: dict[str, Any] = {}
        check: list[tuple[str, Callable[[], Any]]] = [
            ("min_quality", lambda: self.number(m, "min_quality", path, minimum=float("-inf"))),
            ("types", lambda: self.names(m.get("types"), (*path, "types"))),
            ("categories", lambda: self.names(m.get("categories"), (*path, "categories"))),
            ("max_age_days", lambda: self.number(m, "max_age_days", path, minimum=0)),
            ("sort", lambda: self.choice(m, "sort", path, SORTS)),
            ("limit", lambda: self.number(m, "limit", path, minimum=0, integer=True)),
            ("related", lambda: self.choice(m, "related", path, RELATED_MODES)),
            ("future", lambda: self.choice(m, "future", path, FUTURE)),
            ("clock_skew_minutes", lambda: self.number(m, "clock_skew_minutes", path, minimum=0)),
        ]
        for name, get in check:
            value = get()
            if value is not None:
                changes[name] = int(value) if name == "limit" else value
        formats = self.formats(m.get("formats"), (*path, "formats"))
        if formats is not None:
            changes["formats"] = formats
        if "archive" in m:
            if isinstance(m["archive"], bool):
                changes["archive"] = m["archive"]
            else:
                self.problem((*path, "archive"), f"expected true or false, got {_shown(m['archive'])}")
        published = self.choice(m, "published", path, PUBLISHED)
        if published is not None:
            changes["published_only"] = published == "only"
        for key in ("providers", "keywords"):
            pair = self.include_exclude(m.get(key), (*path, key))
            if pair is not None:
                changes[f"{key}_include"], changes[f"{key}_exclude"] = pair
        rules = replace(inherited, **changes)
        if rules.archive and "atom" not in rules.formats and ("archive" in m or "formats" in m):
            # RFC 5005 archives are Atom documents, linked from the Atom feed.
            self.problem((*path, "archive"), "archives need the atom format among the topic's formats")
        return rules

    def topics(self, value: Any, path: Path_, defaults: Rules) -> tuple[Topic, ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping of slug: settings, got {_describe(value)}")
            return ()
        topics = []
        for key, raw in value.items():
            slug = str(key)
            at = (*path, slug)
            if not is_slug(slug):
                self.problem(
                    at,
                    f"{_shown(slug)} is not a usable slug (lowercase ASCII letters, digits "
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
            m = self.mapping(raw, at, _TOPIC_KEYS)
            title = self.text(m, "title", at, slug.replace("-", " ").title()) or slug
            description = self.text(m, "description", at) or title
            match = self.names(m.get("match"), (*at, "match"))
            rules = self.rules(m, at, defaults)
            topics.append(Topic(slug, title, description, match or (title.casefold(),), rules))
        return tuple(topics)


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


def _int(value: float | None, default: int) -> int:
    return default if value is None else int(value)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _shown(value)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = QUOTED
_REPR.maxlist = _REPR.maxdict = _REPR.maxset = _REPR.maxtuple = 4


def _shown(value: Any) -> str:
    """`value` as a message quotes it: its repr, cut short (reprlib looks at no more
    of it than it shows)."""
    text = _REPR.repr(value)
    return text if len(text) <= QUOTED else text[: QUOTED - 3] + "..."


def _suggestion(value: Any, known: Sequence[str]) -> str | None:
    """The known value `value` was probably meant to be: only for a short text, as
    matching a long one costs time in proportion to its length and never matches."""
    if not isinstance(value, str) or len(value) > QUOTED:
        return None
    hint = difflib.get_close_matches(value, known, n=1)
    return hint[0] if hint else None
