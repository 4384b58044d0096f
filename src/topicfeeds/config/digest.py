"""Digests of the settings a state was built with, so that a run can tell when a change
of configuration reaches what it published (the fingerprint: the next run rebuilds every
topic) or what it sent with the files (the sent digest: the next run sends every file
again). Which keys count for which is the table's to say (schema.py, `Key.effect`)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from typing import get_args

from .. import __version__
from .model import Config
from .schema import KEYS, RULES, Effect


def _objects(config: Config) -> Iterator[tuple[str, str, object]]:
    """(section of the table, where in the file, the settings object it gave) for every
    section `config` has, in the file's order: the topics' order is part of the output."""
    yield "", "", config
    yield "site", "site", config.site
    yield "site.author", "site.author", config.site.author
    for n, hub in enumerate(config.site.hubs):
        yield "site.hubs[]", f"site.hubs.{n}", hub
    yield "s3", "s3", config.s3
    yield "s3.cache_control", "s3.cache_control", dict(config.s3.cache_control)
    yield RULES, "defaults", config.defaults
    for topic in config.topics:
        yield "topics.<slug>", f"topics.{topic.slug}", topic
        yield RULES, f"topics.{topic.slug}", topic.rules


def _getters(effect: Effect) -> dict[str, list[tuple[str, Callable[[object], tuple[object, ...]]]]]:
    """By section, each key of `effect` and how its values are read from the section's
    object. A key that opens a section of its own counts by that section's keys."""
    getters: dict[str, list[tuple[str, Callable[[object], tuple[object, ...]]]]] = {}
    for row in KEYS:
        if row.effect == effect and row.fields:
            fields = row.fields
            if row.section == "s3.cache_control":  # a mapping of kind: value
                get = functools.partial(lambda fs, obj: tuple(obj.get(f) for f in fs), fields)
            else:
                get = functools.partial(lambda fs, obj: tuple(getattr(obj, f) for f in fs), fields)
            getters.setdefault(row.section, []).append((row.name, get))
    return getters


_GETTERS = {effect: _getters(effect) for effect in get_args(Effect)}
# The last configuration's text for each effect: a run asks for its fingerprint several
# times, and with thousands of topics each costs tens of milliseconds.
_LAST: dict[Effect, tuple[Config, str]] = {}


def settings_text(config: Config, effect: Effect) -> str:
    """Every value `config` gives a key of `effect`, a line each as `where.key=value`."""
    last = _LAST.get(effect)
    if last is not None and last[0] is config:  # the same object: frozen, so the same values
        return last[1]
    getters = _GETTERS[effect]
    text = "\n".join(
        f"{where}.{name}={get(obj)!r}"
        for section, where, obj in _objects(config)
        for name, get in getters.get(section, ())
    )
    _LAST[effect] = (config, text)
    return text


def fingerprint(config: Config, schema: int) -> str:
    """What the output depends on besides the records: the settings whose change reaches
    what is published, the program's version and the state's schema `schema` (the
    store's to give: the configuration does not know it)."""
    text = settings_text(config, "output")
    return hashlib.sha256(f"{__version__}\0{schema}\0{text}".encode()).hexdigest()


def sent_digest(config: Config) -> str:
    """What is sent with the files besides their bytes (an object's Cache-Control): a
    file whose bytes are in place was sent with these settings only if they are the same."""
    return hashlib.sha256(settings_text(config, "sent").encode()).hexdigest()
