"""Read config.yaml: a YAML loader that refuses what a configuration never needs, then
the checker (check.py, sections.py), which reports every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, Problem, display_path
from .check import shown as _shown
from .model import Config
from .sections import ConfigChecker

MAX_DEPTH = 32  # levels of nesting; the deepest key config.yaml knows is at 4


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
    checker = ConfigChecker(shown, node)
    config = checker.config(data, path.resolve())
    if checker.problems or config is None:
        raise ConfigError(sorted(checker.problems, key=lambda p: p.line or 0))
    return config
