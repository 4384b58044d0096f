"""topicfeeds: publish news records as per-topic feeds (Atom, RSS, JSON Feed) and web pages."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, Rules, Site, Topic, load_config
from .errors import (
    ConfigError,
    LockedError,
    OutputError,
    Problem,
    PublishError,
    RecordError,
    RemovalsRefused,
    TopicfeedsError,
)
from .model import Entry, Image, Provider, Record, Related
from .pipeline import BuildReport, build, explain
from .reader import read_record, read_records
from .selector import exclusion, select, topics_for

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
    "Topic",
    "TopicfeedsError",
    "__version__",
    "build",
    "exclusion",
    "explain",
    "load_config",
    "read_record",
    "read_records",
    "select",
    "topics_for",
]
