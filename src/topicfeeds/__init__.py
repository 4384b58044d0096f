"""topicfeeds: publish news records as per-topic feeds (Atom, RSS, JSON Feed) and web pages."""

from __future__ import annotations

__version__ = "0.1.0"

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

# The names below are imported when first used (PEP 562), so that the `topicfeeds`
# command can take SIGTERM and ^C quietly before it loads the rest of the package.
if TYPE_CHECKING:
    from .config import Config, Rules, Site, Topic, load_config
    from .core.model import Entry, Image, Provider, Record, Related
    from .core.rules import exclusion
    from .core.select import select
    from .core.topics import topics_for
    from .errors import (
        ConfigError,
        LockedError,
        OutputError,
        Problem,
        PublishError,
        RecordError,
        RemovalsRefused,
        StateError,
        TopicfeedsError,
    )
    from .pipeline import BuildReport, build, explain, explain_each
    from .records.reader import read_record, read_records

_HOMES = {
    **dict.fromkeys(["Config", "Rules", "Site", "Topic", "load_config"], "config"),
    **dict.fromkeys(
        ["ConfigError", "LockedError", "OutputError", "Problem", "PublishError", "RecordError",
         "RemovalsRefused", "StateError", "TopicfeedsError"],
        "errors",
    ),
    **dict.fromkeys(["Entry", "Image", "Provider", "Record", "Related"], "core.model"),
    **dict.fromkeys(["BuildReport", "build", "explain", "explain_each"], "pipeline"),
    **dict.fromkeys(["read_record", "read_records"], "records.reader"),
    "exclusion": "core.rules",
    "select": "core.select",
    "topics_for": "core.topics",
}  # fmt: skip


def lazy_names(package: str, homes: dict[str, str], namespace: dict[str, object]) -> Callable[[str], object]:
    """A package's `__getattr__` (PEP 562) that imports each of its names from the
    module `homes` gives, relative to `package`, on first use, and keeps it in the
    package's `namespace`. (Here, not in a module of its own: the command's entry
    point loads this package and nothing more before it takes signals in hand.)"""

    def load(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{home}", package), name)
        namespace[name] = value
        return value

    return load


__getattr__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "BuildReport",
    "Config",
    "ConfigError",
    "Entry",
    "Image",
    "LockedError",
    "OutputError",
    "Problem",
    "Provider",
    "PublishError",
    "Record",
    "RecordError",
    "Related",
    "RemovalsRefused",
    "Rules",
    "Site",
    "StateError",
    "Topic",
    "TopicfeedsError",
    "__version__",
    "build",
    "exclusion",
    "explain",
    "explain_each",
    "load_config",
    "read_record",
    "read_records",
    "select",
    "topics_for",
]
