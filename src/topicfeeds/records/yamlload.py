"""YAML front matter to plain values, as PyYAML's YAML 1.1 reads them, refusing what a
record never needs (aliases, tags, deep nesting, duplicate keys); every failure
becomes a `RecordError` with the line of the file it is on."""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import RecordError


class _Refused(yaml.MarkedYAMLError):
    """YAML that is valid but that a record never needs and an attacker would use."""

    def __init__(self, problem: str, node: yaml.Node, field: str | None = None) -> None:
        super().__init__(problem=problem, problem_mark=node.start_mark)
        self.field = field


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MAX_DEPTH = 64
_UNKNOWN = object()
# Entries each scalar cache holds. Values that repeat (true, widths, small numbers) come
# back within a few records; values that do not (each record's own date) would fill a
# cache for good and stay in memory for the life of a `watch`. A full cache is emptied
# and starts again: the repeating values are back after a few records.
CACHE_LIMIT = 4096


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

    # Scalars built by tag and text: records repeat the same widths, qualities, flags
    # and dates, and SafeConstructor's int, bool and timestamp readers are Python code
    # run per value. Every value they return is immutable, and depends on the tag and
    # the text alone, never on the node's style.
    _values: dict[tuple[str, str], Any] = {}  # noqa: RUF012 - shared on purpose, as _Resolver._known

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        known = (tag, node.value)
        value = self._values.get(known, _UNKNOWN)
        if value is not _UNKNOWN:
            return value
        constructor = self.yaml_constructors.get(tag)
        if constructor is None:
            raise _Refused(f"the tag {tag!r} is not allowed", node)
        try:
            value = constructor(self, node)
        except Exception as exc:  # 2026-02-30, `!!bool maybe`: SafeConstructor lets these escape
            kind = tag.rsplit(":", 1)[-1]
            # Quoted short: the value may be as long as the record.
            shown = repr(node.value) if len(node.value) <= 60 else repr(node.value[:54]) + "..."
            raise _Refused(f"cannot read {shown} as {kind}", node) from exc
        if len(self._values) >= CACHE_LIMIT:
            self._values.clear()
        self._values[known] = value
        return value


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
            if len(self._known) >= CACHE_LIMIT:
                self._known.clear()
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


LOADERS: dict[str, Any] = {"pure": _PureLoader}  # the ways of reading YAML there are here
try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]

    class _CLoader(_CParser, _StrictConstructor, _Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _StrictConstructor.__init__(self)
            _Resolver.__init__(self)

    # libyaml's parser: the same YAML 1.1 rules, several times faster.
    LOADERS["libyaml"] = _CLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    pass

DEFAULT_LOADER = LOADERS.get("libyaml", _PureLoader)

UNSURE: Any = object()
"""What `plain_value` gives for a scalar whose value it leaves to the loaders."""
_TYPED = frozenset(f"tag:yaml.org,2002:{kind}" for kind in ("null", "bool", "int", "float", "timestamp"))
_RESOLVER = _Resolver()
_CONSTRUCTOR = _StrictConstructor()


def plain_tag(text: str) -> str:
    """The tag YAML 1.1 gives the plain scalar `text`, as PyYAML resolves it."""
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))


def plain_value(text: str) -> Any:
    """The value PyYAML's loader gives the plain scalar `text`, or UNSURE when its type
    is not text, null, a bool, a number or a timestamp, or PyYAML would refuse it."""
    tag = plain_tag(text)
    if tag == _STR:
        return text
    if tag not in _TYPED:
        return UNSURE
    try:
        return _CONSTRUCTOR._scalar(yaml.ScalarNode(tag, text))
    except _Refused:
        return UNSURE


def compose_yaml(text: str, loader_class: Any = DEFAULT_LOADER) -> yaml.Node | None:
    """The node tree `load_yaml` reads the YAML `text` through, for text it has read
    without error: where each value is, for messages that name its line."""
    loader = loader_class(text)
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    finally:
        loader.dispose()


def load_yaml(text: str, shown: str, loader_class: Any = DEFAULT_LOADER) -> tuple[yaml.Node | None, Any]:
    """The node tree of the YAML `text` (None when it holds nothing) and its value;
    `shown` names the file in errors, whose lines count from the file's second."""
    try:
        loader = loader_class(text)  # the pure-Python reader checks characters right here
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
