"""Read record files into `Record` values; every failure becomes a `RecordError`."""

from __future__ import annotations

import email.utils
import fnmatch
import functools
import hashlib
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import dateutil.parser
import yaml

from .clean import canonical_url, clean_line, clean_text, clean_url, image_media_type
from .errors import Problem, RecordError, dotted
from .model import Image, Provider, Record, Related
from .workers import iter_files


class _Refused(yaml.MarkedYAMLError):
    """YAML that is valid but that a record never needs and an attacker would use."""

    def __init__(self, problem: str, node: yaml.Node, field: str | None = None) -> None:
        super().__init__(problem=problem, problem_mark=node.start_mark)
        self.field = field


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MAX_DEPTH = 64


class _StrictConstructor(yaml.constructor.SafeConstructor):
    """Builds plain dicts, lists and scalars from the composed nodes, directly.

    It refuses aliases (the "billion laughs" expansion: without aliases no node is
    reached twice), duplicate keys (PyYAML would keep the last silently) and deep
    nesting, and it skips SafeConstructor's per-node bookkeeping, which is most of
    the cost of loading a record. Scalars still go through SafeConstructor, so
    YAML 1.1 values read exactly as PyYAML reads them.
    """

    may_alias = True  # set False by the loader when the text has no "*": no alias can occur

    def construct_document(self, node: yaml.Node) -> Any:
        return self._build(node, set() if self.may_alias else None, 0)

    def _build(self, node: yaml.Node, seen: set[int] | None, depth: int) -> Any:
        if seen is not None:
            if id(node) in seen:
                raise _Refused("anchors and aliases are not allowed", node)
            seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if depth >= _MAX_DEPTH:
            raise _Refused("nested too deeply", node)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._build(key_node, seen, depth + 1)
                if isinstance(key, (dict, list)):
                    raise _Refused("a key must be a plain value", key_node)
                if key in mapping:
                    raise _Refused("duplicate key", key_node, field=str(key))
                # Most values are strings: skip a call for them when no alias can occur.
                if seen is None and value_node.tag == _STR and isinstance(value_node, yaml.ScalarNode):
                    mapping[key] = value_node.value
                else:
                    mapping[key] = self._build(value_node, seen, depth + 1)
            return mapping
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [self._build(item, seen, depth + 1) for item in node.value]
        raise _Refused(f"the tag {node.tag!r} is not allowed", node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:
            return node.value
        constructor = self.yaml_constructors.get(node.tag)
        if constructor is None:
            raise _Refused(f"the tag {node.tag!r} is not allowed", node)
        try:
            return constructor(self, node)
        except Exception as exc:  # 2026-02-30, `!!bool maybe`: SafeConstructor lets these escape
            kind = node.tag.rsplit(":", 1)[-1]
            raise _Refused(f"cannot read {node.value!r} as {kind}", node) from exc


class _Resolver(yaml.resolver.Resolver):
    """PyYAML's YAML 1.1 resolver, remembering its answer for each plain scalar: records
    repeat the same few (true, article, small numbers, dates), and resolving is a run
    of regular expressions for every scalar of every record."""

    _known: dict[str, str] = {}  # noqa: RUF012 - shared on purpose: the answers never change

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
        tag = self._known.get(value)
        if tag is None:
            tag = str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
            if len(self._known) < 100_000:
                self._known[value] = tag
        return tag


class _PureLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _StrictConstructor,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _StrictConstructor.__init__(self)
        _Resolver.__init__(self)


_Loader: Any = _PureLoader
try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]

    class _CLoader(_CParser, _StrictConstructor, _Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _StrictConstructor.__init__(self)
            _Resolver.__init__(self)

    # libyaml's parser: the same YAML 1.1 rules, several times faster.
    _Loader = _CLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    pass

DEFAULT_PATTERNS = ("*.txt", "*.md")
DEFAULT_MAX_BYTES = 1024 * 1024

# Front matter: a first line of `---`, then YAML up to a line of `---` or `...`.
_OPENING = re.compile(r"---[ \t]*\r?\n")
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)")


def front_matter(text: str) -> str | None:
    """The YAML between the opening and closing lines, or None when there is none."""
    opening = _OPENING.match(text)
    if opening is None:
        return None
    # From the opening line's own newline, so that an empty front matter is found too.
    closing = _CLOSING.search(text, opening.end() - 1)
    return None if closing is None else text[opening.end() : closing.start() + 1]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a folder of record files gave."""

    records: tuple[Record, ...]  # the good ones, in file-name order
    errors: tuple[Problem, ...]  # one per rejected file
    warnings: tuple[Problem, ...]  # parts dropped from records that were kept
    files: int  # how many record files were looked at


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, for messages."""
    return f"{_display_folder(path.parent, os.getcwd())}{path.name}"  # noqa: PTH109 - a str key is cheapest


@functools.lru_cache(maxsize=64)
def _display_folder(folder: Path, cwd: str) -> str:
    # Once a folder, not once a file: relpath is a noticeable cost over 100,000 files.
    rel = os.path.relpath(folder, cwd)
    if rel == ".":
        return ""
    return f"{folder.as_posix() if rel.startswith('..') else Path(rel).as_posix()}/"


@functools.lru_cache(maxsize=16)
def name_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a file name is a record's: it matches a pattern and is not hidden. One
    compiled expression, since fnmatch per pattern per file adds up over 100,000 files."""
    expression = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    return lambda name: not name.startswith(".") and expression.match(name) is not None


def list_record_files(folder: Path, patterns: Sequence[str] = DEFAULT_PATTERNS) -> list[Path]:
    """The record files directly in `folder`, sorted by name; hidden files are skipped."""
    matches = name_matcher(tuple(patterns))
    with os.scandir(folder) as it:
        names = [e.name for e in it if matches(e.name) and e.is_file()]
    return [folder / n for n in sorted(names)]


def read_records(
    folder: Path,
    patterns: Sequence[str] = DEFAULT_PATTERNS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    jobs: int = 1,
) -> ReadResult:
    """Read every record file in `folder`, with up to `jobs` processes; a bad file is
    reported, never fatal."""
    files = list_record_files(folder, patterns)
    return collect(files, (t.outcome for t in read_files(files, max_bytes, jobs)))


Outcome = tuple["Record | None", tuple[Problem, ...]]
"""A record and the warnings about it, or None and the one error that rejected the file."""


class Stamp(NamedTuple):
    """What stat says of a file: enough to notice any ordinary change to it. A tuple,
    since a run over 100,000 files makes and compares that many."""

    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int  # changes on every write or rename, and cannot be set back


def stamp_of(st: os.stat_result) -> Stamp:
    """The stamp of a stat result."""
    return Stamp(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class Tracked:
    """One file's outcome with the stamp and content hash of the bytes it came from."""

    path: Path
    stamp: Stamp | None  # None when the file could not be opened
    sha256: str | None  # None when the file was not read (missing, too large)
    outcome: Outcome


def collect(files: Sequence[Path], outcomes: Iterable[Outcome]) -> ReadResult:
    """Sort outcomes into records, errors and warnings."""
    records: list[Record] = []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for record, problems in outcomes:
        if record is None:
            errors.extend(problems)
        else:
            records.append(record)
            warnings.extend(problems)
    return ReadResult(tuple(records), tuple(errors), tuple(warnings), len(files))


def read_tracked(path: Path, max_bytes: int, shown: str | None = None, key: str | None = None) -> Tracked:
    """Read and parse one file, noting its stamp and content hash; `shown` names it in
    messages (by default its path as the user would write it), `key` is the record's
    identity (by default the file's name)."""
    shown = display_path(path) if shown is None else shown
    stamp = None
    try:
        with path.open("rb") as fh:
            stamp = stamp_of(os.fstat(fh.fileno()))
            if stamp.size > max_bytes:
                raise RecordError(shown, f"larger than the {max_bytes}-byte limit for a record")
            # Read what stat promised, and one byte more to notice a file still growing:
            # asking for max_bytes would allocate that much for every file.
            data = fh.read(stamp.size + 1)
        if len(data) > max_bytes:
            raise RecordError(shown, f"larger than the {max_bytes}-byte limit for a record")
    except OSError as exc:
        error = RecordError(shown, f"cannot read: {exc.strerror or exc}")
        return Tracked(path, stamp, None, (None, (error.problem,)))
    except RecordError as exc:
        return Tracked(path, stamp, None, (None, (exc.problem,)))
    digest = hashlib.sha256(data).hexdigest()
    try:
        record, warnings = parse_record(data, shown, key=key or path.name)
    except RecordError as exc:
        return Tracked(path, stamp, digest, (None, (exc.problem,)))
    return Tracked(path, stamp, digest, (record, tuple(warnings)))


def read_record(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Record, list[Problem]]:
    """One record file, and the warnings about parts of it that were dropped."""
    record, problems = read_tracked(path, max_bytes).outcome
    if record is None:
        raise RecordError(
            problems[0].path, problems[0].message, line=problems[0].line, field=problems[0].field
        )
    return record, list(problems)


def read_files(paths: Sequence[Path], max_bytes: int, jobs: int = 1) -> list[Tracked]:
    """Every file in `paths`, read and parsed, in order, with up to `jobs` processes."""
    return list(iter_files(paths, functools.partial(read_tracked, max_bytes=max_bytes), jobs))


def parse_record(data: bytes, shown: str, key: str | None = None) -> tuple[Record, list[Problem]]:
    """Parse the bytes of one record file; `shown` names it in messages, `key` (the
    file's name within the records folder; by default the last part of `shown`) is
    the record's identity."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise RecordError(shown, f"not UTF-8: byte 0x{bad} at offset {exc.start} cannot be decoded") from exc
    yaml_text = front_matter(text)
    if yaml_text is None:
        raise RecordError(
            shown,
            "no front matter: the file must start with a '---' line and the YAML must end with another",
            line=1,
        )
    node, fields = _load_yaml(yaml_text, shown)
    if not isinstance(fields, dict):
        kind = "empty" if fields is None else f"a {_kind(fields)}"
        raise RecordError(shown, f"front matter is {kind}, not a mapping of fields", line=2)
    return _Builder(shown, node).record(fields, shown.rsplit("/", 1)[-1] if key is None else key)


def _load_yaml(text: str, shown: str) -> tuple[yaml.Node | None, Any]:
    try:
        loader = _Loader(text)  # the pure-Python reader checks characters right here
    except yaml.reader.ReaderError as exc:
        raise _character_error(text, exc, shown) from exc
    loader.may_alias = "*" in text
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        return node, loader.construct_document(node)
    except _Refused as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark is not None else None
        message = exc.problem if exc.field else f"invalid YAML: {exc.problem}"
        raise RecordError(shown, message or "refused", line=line, field=exc.field) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise RecordError(shown, f"invalid YAML: {reason}", line=line) from exc
    except yaml.reader.ReaderError as exc:
        raise _character_error(text, exc, shown) from exc
    except yaml.YAMLError as exc:
        raise RecordError(shown, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise RecordError(shown, "invalid YAML: nested too deeply") from exc
    finally:
        loader.dispose()


def _character_error(text: str, exc: yaml.reader.ReaderError, shown: str) -> RecordError:
    """A character YAML does not allow, named with its line in the file."""
    character = exc.character if isinstance(exc.character, str) else chr(exc.character)
    line = text.count("\n", 0, exc.position) + 2  # the front matter starts on line 2
    return RecordError(shown, f"invalid YAML: character U+{ord(character):04X} is not allowed", line=line)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "scalar"


class _Builder:
    """Turns the loaded mapping of one file into a Record, collecting warnings."""

    def __init__(self, shown: str, node: yaml.Node | None) -> None:
        self.shown = shown
        self.node = node
        self.warnings: list[Problem] = []

    # -- locating and reporting

    def line(self, path: Sequence[str | int]) -> int | None:
        """The file line of the value at `path`, or of its nearest ancestor."""
        node = self.node
        found = None
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                node = next((v for k, v in node.value if k.value == step), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                node = node.value[step] if step < len(node.value) else None
            else:
                node = None
            if node is None:
                break
            found = node
        return None if found is None else found.start_mark.line + 2

    def fail(self, path: Sequence[str | int], message: str) -> RecordError:
        return RecordError(self.shown, message, line=self.line(path), field=dotted(path))

    def warn(self, path: Sequence[str | int], message: str) -> None:
        self.warnings.append(Problem(self.shown, self.line(path), dotted(path), message))

    # -- the record

    def record(self, f: dict[Any, Any], key: str) -> tuple[Record, list[Problem]]:
        title = self.text(f, ("title",), line=True)
        if not title:
            raise self.fail(("title",), "missing or empty; a feed entry needs a title")
        web = self.url(f, ("webUrl",), required=False)
        original = self.url(f, ("originalUrl",), required=False)
        link = web or original
        if link is None:
            key = "webUrl" if "webUrl" in f or "originalUrl" not in f else "originalUrl"
            value = f.get(key)
            reason = "missing" if value is None else f"{_show(value)} is not an absolute http(s) URL"
            raise self.fail((key,), f"{reason}; a feed entry needs a link")
        published = self.date(f, ("publishedDateTime",))
        if published is None:
            raise self.fail(("publishedDateTime",), "missing; a feed entry needs a date")
        updated = self.date(f, ("updatedDateTime",), required=False) or published
        record = Record(
            key=key,
            id=canonical_url(original or link),
            title=title,
            link=link,
            excerpt=self.text(f, ("excerpt",)),
            published=published,
            updated=max(updated, published),
            type=self.text(f, ("type",), line=True) or None,
            category=self.text(f, ("category",), line=True) or None,
            quality=self.number(f, ("quality",)),
            heat=self.number(f, ("heat",)),
            is_published=self.flag(f, ("published",), default=True),
            provider=self.provider(f.get("provider"), ("provider",)),
            topics=self.topics(f.get("topics"), ("topics",)),
            images=self.images(f.get("images"), ("images",)),
            related=self.related(f.get("related"), ("related",)),
        )
        return record, self.warnings

    # -- fields

    def text(self, f: dict[Any, Any], path: tuple[str | int, ...], *, line: bool = False) -> str:
        value = f.get(path[-1])
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.warn(path, f"expected text, got a {_kind(value)}; ignored")
            return ""
        text = str(value)
        return clean_line(text) if line else clean_text(text)

    def url(self, f: dict[Any, Any], path: Sequence[str | int], *, required: bool = True) -> str | None:
        value = f.get(path[-1])
        if value is None:
            return None
        url = clean_url(value)
        if url is None and not required:
            self.warn(path, f"{_show(value)} is not an absolute http(s) URL; ignored")
        return url

    def date(
        self, f: dict[Any, Any], path: tuple[str | int, ...], *, required: bool = True
    ) -> datetime | None:
        value = f.get(path[-1])
        if value is None:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            if required:
                raise self.fail(path, f"cannot read {_show(value)} as a date")
            self.warn(path, f"cannot read {_show(value)} as a date; ignored")
        return parsed

    def number(self, f: dict[Any, Any], path: tuple[str | int, ...]) -> float | None:
        value = f.get(path[-1])
        if value is None:
            return None
        number = _to_number(value)
        if number is None:
            self.warn(path, f"{_show(value)} is not a number; ignored")
        return number

    def flag(self, f: dict[Any, Any], path: tuple[str | int, ...], *, default: bool) -> bool:
        value = f.get(path[-1])
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUTHY | _FALSY:
            return value.strip().lower() in _TRUTHY
        self.warn(path, f"{_show(value)} is not true or false; taken as {str(default).lower()}")
        return default

    def provider(self, value: Any, path: tuple[str | int, ...]) -> Provider | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            self.warn(path, f"expected a mapping with name and domain, got a {_kind(value)}; ignored")
            return None
        name = self.text(value, (*path, "name"), line=True)
        domain = value.get("domain")
        url = None
        if domain is not None:
            domain_text = str(domain).strip().strip("/")
            url = clean_url(domain_text if "://" in domain_text else f"https://{domain_text}/")
            if url is None:
                self.warn((*path, "domain"), f"{_show(domain)} is not a domain name; ignored")
        if not name:
            name = (domain and url and str(domain).strip()) or ""
        return Provider(clean_line(name), url) if name else None

    def topics(self, value: Any, path: tuple[str | int, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            self.warn(path, f"expected a list of names, got a {_kind(value)}; ignored")
            return ()
        topics: list[str] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                self.warn((*path, i), f"expected a name, got a {_kind(item)}; ignored")
                continue
            name = clean_line(str(item))
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                topics.append(name)
        return tuple(topics)

    def images(self, value: Any, path: tuple[str | int, ...]) -> tuple[Image, ...]:
        images: list[Image] = []
        for i, item in enumerate(self.items(value, path)):
            image = self.image(item, (*path, i))
            if image is not None and all(image.url != seen.url for seen in images):
                images.append(image)
        return tuple(images)

    def image(self, item: Any, path: tuple[str | int, ...]) -> Image | None:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            self.warn(path, f"expected a mapping with url, width and height, got a {_kind(item)}; dropped")
            return None
        url = clean_url(item.get("url"))
        if url is None:
            self.warn(
                (*path, "url"), f"{_show(item.get('url'))} is not an absolute http(s) URL; image dropped"
            )
            return None
        return Image(url, _to_size(item.get("width")), _to_size(item.get("height")), image_media_type(url))

    def related(self, value: Any, path: tuple[str | int, ...]) -> tuple[Related, ...]:
        related: list[Related] = []
        for i, item in enumerate(self.items(value, path)):
            at: tuple[str | int, ...] = (*path, i)
            if not isinstance(item, dict):
                self.warn(at, f"expected a mapping, got a {_kind(item)}; dropped")
                continue
            title = self.text(item, (*at, "title"), line=True)
            key = "webUrl" if "webUrl" in item or "url" not in item else "url"
            url = clean_url(item.get(key))
            if url is None:
                self.warn(
                    (*at, key),
                    f"{_show(item.get(key))} is not an absolute http(s) URL; related article dropped",
                )
                continue
            if not title:
                self.warn((*at, "title"), "missing; related article dropped")
                continue
            image = None
            for j, raw in enumerate(self.items(item.get("images"), (*at, "images"))):
                image = self.image(raw, (*at, "images", j))
                if image is not None:
                    break
            related_id = canonical_url(url)
            if any(r.id == related_id for r in related):
                continue
            related.append(
                Related(
                    id=related_id,
                    title=title,
                    url=url,
                    excerpt=self.text(item, (*at, "excerpt")),
                    published=self.date(item, (*at, "publishedDateTime"), required=False),
                    provider=self.provider(item.get("provider"), (*at, "provider")),
                    quality=self.number(item, (*at, "quality")),
                    image=image,
                )
            )
        return tuple(related)

    def items(self, value: Any, path: tuple[str | int, ...]) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, dict):
            return [value]
        if not isinstance(value, list):
            self.warn(path, f"expected a list, got a {_kind(value)}; ignored")
            return []
        return value


_TRUTHY = {"true", "yes", "on", "1"}
_FALSY = {"false", "no", "off", "0"}


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from a YAML timestamp, ISO 8601 or RFC 2822
    text; a value without a zone is taken as UTC. None when it is not a date."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = dateutil.parser.isoparse(text)
            except (ValueError, OverflowError):
                try:
                    parsed = email.utils.parsedate_to_datetime(text)
                except (TypeError, ValueError, IndexError, OverflowError):
                    return None
    else:
        return None
    try:
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def _to_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # "high", or an integer no float can hold
        return None
    return number if math.isfinite(number) else None


def _to_size(value: object) -> int | None:
    number = _to_number(value)
    if number is None or number < 0 or number != int(number) or number > 1_000_000:
        return None
    return int(number)


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
