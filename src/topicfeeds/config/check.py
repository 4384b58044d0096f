"""The checker's means: where each key is in the file, and how a value of each kind is
checked. The sections (sections.py) put them together as the table (schema.py) says."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Sequence
from typing import Any

import yaml

from ..errors import Problem, dotted
from ..records.clean import clean_line, clean_url, redact_url
from .model import Format, format_names
from .schema import Key, names

QUOTED = 60  # characters of a value a message quotes: a value may be as long as the file

Path_ = tuple[str | int, ...]


class Checker:
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
                    name = str(k.value)
                    if name in keys:
                        self.problems.append(
                            Problem(
                                self.shown,
                                k.start_mark.line + 1,
                                dotted((*path, name)),
                                "duplicate key: only one may be given",
                            )
                        )
                    keys.add(name)
                    key_path = (*path, name)
                    self.lines[key_path] = k.start_mark.line + 1
                    stack.append((v, key_path))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((item, (*path, i)) for i, item in enumerate(node.value))

    def problem(self, path: Path_, message: str) -> None:
        """Note a problem at `path`, with the line of its key (or of the nearest one above)."""
        line = None
        for depth in range(len(path), -1, -1):
            line = self.lines.get(path[:depth])
            if line is not None:
                break
        # A key is quoted as a value is: an unknown one may be as long as the file.
        steps = (s if isinstance(s, int) or len(s) <= QUOTED else s[: QUOTED - 3] + "..." for s in path)
        self.problems.append(Problem(self.shown, line, dotted(steps) or None, message))

    def mapping(self, value: Any, path: Path_, known: Sequence[str]) -> dict[str, Any]:
        """`value` as a mapping (empty when not one, reported), each key not `known` reported."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {describe(value)}")
            return {}
        for name in value:
            if str(name) not in known:
                hint = suggestion(str(name), known)
                extra = f"; did you mean {hint!r}?" if hint else f"; known keys: {', '.join(known)}"
                self.problem((*path, str(name)), f"unknown key{extra}")
        return {str(k): v for k, v in value.items()}

    def section(self, value: Any, path: Path_, section: str) -> dict[str, Any]:
        """`value` as a mapping of the keys `section` knows (the table's), each unknown
        one reported."""
        return self.mapping(value, path, names(section))

    def value(self, m: dict[str, Any], row: Key, path: Path_) -> Any:
        """As `setting`, with the table's default for a key not given or not usable."""
        value = self.setting(m, row, path)
        return row.default_value if value is None else value

    def setting(self, m: dict[str, Any], row: Key, path: Path_) -> Any:
        """The value mapping `m` gives key `row`, checked as the table says its kind is;
        None when it is not given or not usable (reported). A required key that is
        missing is reported too."""
        name = row.name
        if row.kind == "text":
            return self.text(m, name, path, required=row.required)
        if row.kind == "url":
            return self.url(m, name, path, required=row.required)
        if row.kind in ("number", "whole number"):
            whole = row.kind == "whole number"
            floor = float("-inf") if row.minimum is None else row.minimum
            value = self.number(m, name, path, minimum=floor, integer=whole)
            return int(value) if whole and value is not None else value
        if row.kind == "true or false":
            if name not in m:
                return None
            if not isinstance(m[name], bool):  # null too: true or false, nothing else
                self.problem((*path, name), f"expected true or false, got {shown(m[name])}")
                return None
            return m[name]
        if row.kind == "choice":
            return self.choice(m, name, path, row.choice_values)
        if row.kind == "names":
            return self.names(m.get(name), (*path, name))
        raise ValueError(f"{row.path}: a {row.kind} is checked by its section")

    # -- scalar kinds

    def text(
        self, m: dict[str, Any], name: str, path: Path_, default: str | None = None, *, required: bool = False
    ) -> str | None:
        """Key `name` of `m` as one line of text; `default` when not given or not text."""
        value = m.get(name)
        if value is None:
            if required:
                self.problem((*path, name), "missing")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem((*path, name), f"expected text, got {describe(value)}")
            return default
        text = clean_line(str(value))
        if not text and required:
            self.problem((*path, name), "must not be empty")
        return text or default

    def url(
        self, m: dict[str, Any], name: str, path: Path_, *, required: bool, secret: bool = False
    ) -> str | None:
        """Key `name` of `m` as an absolute http(s) URL; None when not given or not one."""
        value = m.get(name)
        if value is None:
            if required:
                self.problem((*path, name), "missing; an absolute http(s) URL is needed")
            return None
        url = clean_url(value)
        if url is None:
            # A hub's URL may carry a token or a password: the message shows neither.
            quoted = redact_url(value) if secret and isinstance(value, str) else value
            self.problem((*path, name), f"{shown(quoted)} is not an absolute http(s) URL")
        return url

    def number(
        self, m: dict[str, Any], name: str, path: Path_, *, minimum: float, integer: bool = False
    ) -> float | None:
        """Key `name` of `m` as a number of at least `minimum`; None when not given or not one."""
        value = m.get(name)
        if value is None:
            return None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and integer and not float(value).is_integer():
            ok = False
        if not ok or value < minimum:
            kind = "a whole number" if integer else "a number"
            floor = f" of at least {minimum:g}" if minimum > float("-inf") else ""
            self.problem((*path, name), f"expected {kind}{floor}, got {shown(value)}")
            return None
        return float(value)

    def choice(self, m: dict[str, Any], name: str, path: Path_, choices: Sequence[str]) -> str | None:
        """Key `name` of `m` as one of `choices`; None when not given or not one."""
        value = m.get(name)
        if value is None:
            return None
        if value not in choices:
            hint = suggestion(value, choices)
            extra = f"; did you mean {hint!r}?" if hint else ""
            self.problem((*path, name), f"{shown(value)} is not one of {', '.join(choices)}{extra}")
            return None
        return str(value)

    def names(self, value: Any, path: Path_) -> tuple[str, ...] | None:
        """A name or a list of names, casefolded, each once; None when not given or not one."""
        if value is None:
            return None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
        ):
            self.problem(path, f"expected a list of names, got {describe(value)}")
            return None
        found = (clean_line(str(v)).casefold() for v in value)
        return tuple(dict.fromkeys(n for n in found if n))

    def formats(self, value: Any, path: Path_) -> tuple[Format, ...] | None:
        """The `formats` rule: at least one, each a known format; None when not given or wrong."""
        listed = self.names(value, path)
        if listed is None:
            return None
        formats = format_names()
        if not listed:
            self.problem(path, f"give at least one of {', '.join(formats)}")
            return None
        known: list[Format] = []
        for i, name in enumerate(listed):
            if name not in formats:
                hint = suggestion(name, formats)
                extra = f"; did you mean {hint!r}?" if hint else ""
                self.problem((*path, i), f"{shown(name)} is not one of {', '.join(formats)}{extra}")
            else:
                known.append(name)
        return tuple(known) if len(known) == len(listed) else None

    def include_exclude(self, value: Any, path: Path_) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """A rule given as `{include, exclude}`, or as a list (include only)."""
        if value is None:
            return None
        if isinstance(value, (list, str)):
            return self.names(value, path) or (), ()
        m = self.section(value, path, f"rules.{path[-1]}")
        return (
            self.names(m.get("include"), (*path, "include")) or (),
            self.names(m.get("exclude"), (*path, "exclude")) or (),
        )


def describe(value: Any) -> str:
    """`value` as a message names what it got: a mapping, a list, or the value quoted."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shown(value)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = QUOTED
_REPR.maxlist = _REPR.maxdict = _REPR.maxset = _REPR.maxtuple = 4


def shown(value: Any) -> str:
    """`value` as a message quotes it: its repr, cut short (reprlib looks at no more
    of it than it shows)."""
    text = _REPR.repr(value)
    return text if len(text) <= QUOTED else text[: QUOTED - 3] + "..."


def suggestion(value: Any, known: Sequence[str]) -> str | None:
    """The known value `value` was probably meant to be: only for a short text, as
    matching a long one costs time in proportion to its length and never matches."""
    if not isinstance(value, str) or len(value) > QUOTED:
        return None
    hint = difflib.get_close_matches(value, known, n=1)
    return hint[0] if hint else None
