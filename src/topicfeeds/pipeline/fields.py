"""Which record fields a topic's rules read, and so whether its records must be whole.

Stands in for `core.rules` (a registry of rules, each declaring the `Record` fields it
reads) until that lands: then `LIGHT_FIELDS` and `needs_whole` come from there, and
this module goes. The rules that ship read only what a light record holds; a rule
added beside them says what it reads with a `reads` attribute (a set of field names),
and one that does not is taken to read every field.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache

from ..config import Topic
from ..core import select
from ..core.model import Record

_ALL_FIELDS = frozenset(f.name for f in fields(Record))
LIGHT_FIELDS = _ALL_FIELDS - {"images", "related"}
"""The fields a light record has (see records/codec.py): the others are left empty."""

_SHIPPED = frozenset(select.RULES)  # they read none of the fields a light record lacks


def _reads(rule: select.Rule) -> frozenset[str]:
    declared = getattr(rule, "reads", None)
    if declared is not None:
        return frozenset(declared)
    return LIGHT_FIELDS if rule in _SHIPPED else _ALL_FIELDS


def needs_whole(topic: Topic) -> bool:
    """Whether `topic`'s rules read a field a light record lacks: its records are then
    given to them whole, wherever they run."""
    return _any_whole(select.RULES)


@lru_cache(maxsize=8)
def _any_whole(rules: tuple[select.Rule, ...]) -> bool:
    # Every topic runs every rule: asked once per set of rules, not per topic.
    return any(not _reads(rule) <= LIGHT_FIELDS for rule in rules)
