"""The record loader reads values exactly as PyYAML's safe loader does (YAML 1.1),
with both of its parsers, whatever the record holds; it only refuses more."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from topicfeeds.errors import RecordError
from topicfeeds.records.yamlload import LOADERS, load_yaml

from .conftest import examples

# Scalars YAML 1.1 reads as something other than text, and their near misses.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "~", "null", "Null", "true", "071", "0o71", "0x1F", "0b101",
    "1_000", "1:20", "190:20:30", "-.inf", ".NaN", "1e3", "1.5e3", "6.8523015e+5", "2026-11-28",
    "2026-11-28T08:00:00Z", "2026-11-28 08:00:00.5 +02:00", "2026-02-30", "+12", "-0", "0.",
    "=", "<<", "12:30", "1,000", "0xG", "2026-11-28t08:00:00z", "1_0.5",
]  # fmt: skip

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.dates(),
)
keys = st.one_of(
    st.sampled_from(["title", "quality", "topics", "images", "url", "yes", "1"]), st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)
records = st.dictionaries(keys, values, max_size=8)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, in the same order (NaN equal to NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b and repr(a) == repr(b)


def check(text: str) -> None:
    try:
        expected = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):  # 2026-02-30: PyYAML lets the ValueError escape
        for loader in LOADERS.values():
            with pytest.raises(RecordError):
                load_yaml(text, "x.txt", loader)
        return
    if _has_duplicate_keys(text):  # PyYAML keeps the last silently; records refuse them
        for loader in LOADERS.values():
            with pytest.raises(RecordError, match="duplicate key"):
                load_yaml(text, "x.txt", loader)
        return
    for loader in LOADERS.values():
        _, value = load_yaml(text, "x.txt", loader)
        assert same(value, expected), (loader.__name__, text)


def _has_duplicate_keys(text: str) -> bool:
    """Whether a mapping in `text` has two keys PyYAML reads as equal (a dumped key
    such as '\\x85' can come back as another one: the dump folds the line break)."""
    loader = yaml.SafeLoader(text)
    try:
        pending = [loader.get_single_node()]
        while pending:
            node = pending.pop()
            if isinstance(node, yaml.MappingNode):
                keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
                if len({repr(k) for k in keys}) < len(keys):
                    return True
                pending += [v for _, v in node.value]
            elif isinstance(node, yaml.SequenceNode):
                pending += node.value
        return False
    finally:
        loader.dispose()


@settings(max_examples=examples(80, 300), deadline=None)
@given(records, st.sampled_from([False, True, None]))
@example({" ": 0, "\x85": 1}, False)  # the dump turns the second key into the first
def test_records_read_as_pyyaml_reads_them(record: dict[str, Any], flow: bool | None) -> None:
    check(yaml.safe_dump(record, allow_unicode=True, sort_keys=False, default_flow_style=flow))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(TRICKY), st.text(alphabet="0123456789abefinoxyz:._-+ TZ~", max_size=16)))
@example("2026-11-28T08:00:00Z")
def test_plain_scalars_read_as_pyyaml_reads_them(scalar: str) -> None:
    """Written plain, as a newsroom writes them, so YAML 1.1 resolves their type."""
    check(f"title: x\nvalue: {scalar}\nlist: [{scalar}, {scalar}]\n")


@pytest.mark.parametrize("parser", sorted(LOADERS))
def test_scalar_caches_stay_small_however_many_values_records_bring(parser: str) -> None:
    """A long-running watch reads record after record, each with its own date and
    numbers: the caches of scalar values must not keep them all."""
    from topicfeeds.records import yamlload

    for n in range(yamlload.CACHE_LIMIT):  # two or three values each: every cache empties twice
        text = f"when: 2026-11-{1 + n % 28:02}T08:{n // 60 % 60:02}:{n % 60:02}Z\nwidth: {n}\nflag: yes\n"
        _, value = load_yaml(text, "x.txt", LOADERS[parser])
        assert value == yaml.safe_load(text)
        assert len(yamlload._StrictConstructor._values) <= yamlload.CACHE_LIMIT
        assert len(yamlload._Resolver._known) <= yamlload.CACHE_LIMIT
