"""topicfeeds: publish news records as per-topic feeds (Atom, RSS, JSON Feed) and web pages."""

from __future__ import annotations

__version__ = "0.1.0"

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


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


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
