"""The fast path must read every document it accepts exactly as PyYAML does."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topicfeeds import _fastyaml, reader

from .conftest import SEEDS

DATA = Path(__file__).resolve().parent / "data" / "corpus"


def pyyaml(text: str) -> Any:
    loader = reader._PureLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, float) and a != a:
        return b != b  # NaN
    return bool(a == b)


def front_matter(path: Path) -> str:
    match = reader._FRONT.match(path.read_text(encoding="utf-8-sig"))
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")) + sorted(DATA.glob("*.*")), ids=lambda p: p.name)
def test_real_records_take_the_fast_path_and_read_the_same(path: Path) -> None:
    text = front_matter(path)
    fast = _fastyaml.parse(text)
    if path.name == "f-broken.txt":
        return
    if "{name:" in text or "[Energy" in text:
        assert fast is None  # flow collections are left to PyYAML
        return
    assert fast is not None, path
    assert same(fast[0], pyyaml(text))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: 0x1F\nc: 1_000\nd: 10:30\ne: -1\nf: 1.5\ng: .inf\nh: 1e3\ni: 0o17\n",
        "a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: ~\ng: null\nh: y\n",
        "a: 2026-11-20\nb: 2026-11-20T08:00:00Z\nc: 2026-11-20 08:00:00 +02:00\n"
        "d: 2026-11-20t08:00:00.5-05:00\n",
        'a: \'it\'\'s\'\nb: "say \\"hi\\" \\u00e9 \\x41 \\N\\_\\t"\nc: \'\'\nd: ""\ne: C#\nf: He said "hi"\n',
        "a:\n- x\n- y\nb:\n  - 1\n  -   two: 2\n      three: 3\n  - four: 4\nc: []\nd: {}\ne:\nf: last\n",
        "a:\n  b:\n    c: deep\n  d: e\n# a comment\n\nf: http://x.example/a:b#c\n",
    ],
)
def test_scalars_and_structures_read_as_pyyaml_reads_them(text: str) -> None:
    fast = _fastyaml.parse(text)
    assert fast is not None
    assert same(fast[0], pyyaml(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "- a list\n",
        "plain\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  block\n",
        "a: >\n  folded\n",
        "a: b # comment\n",
        "a: multi\n  line\n",
        "a: 1\na: 2\n",
        "a:\tb\n",
        "yes: 1\n",
        "a: 2026-02-30\n",
        'a: "\\q"\n',
        'a: "open\n',
        "a: b: c\n",
        "? complex\n: key\n",
        "a:\r\n  - x\r\n  - y\r",
        "a: \x85\n",
        "<<: {b: 1}\n",
        "a:\n  - x\n    - y\n",
    ],
)
def test_anything_else_is_left_to_pyyaml(text: str) -> None:
    assert _fastyaml.parse(text) is None


def test_lines_of_keys_and_items() -> None:
    text = "title: A\n\nimages:\n  - url: u\n    width: 1\nrelated:\n- title: r\n"
    fast = _fastyaml.parse(text)
    assert fast is not None
    assert fast[1] == {
        ("title",): 1,
        ("images",): 3,
        ("images", 0): 4,
        ("images", 0, "url"): 4,
        ("images", 0, "width"): 5,
        ("related",): 6,
        ("related", 0): 7,
        ("related", 0, "title"): 7,
    }


identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
# Mostly keys records use; now and then one YAML reads as something else.
keys = st.one_of(
    identifiers,
    identifiers,
    identifiers,
    st.sampled_from(["yes", "no", "on", "null", "true", "y", "n", "=", "<<", "1", "~"]),
)
tricky = st.sampled_from(
    [
        "",
        " ",
        "-",
        "- x",
        "-1",
        "#x",
        "a #b",
        "a: b",
        "a:",
        "'q'",
        '"d"',
        "x'y",
        "C#",
        "10:30",
        "1_0",
        "0x1G",
        "2026-11-20",
        "2026-02-30",
        "2026-11-20T08:00:00Z",
        ".nan",
        "NO",
        "~",
        "null",
        "[]",
        "{}",
        "&a",
        "*a",
        "!t",
        "|",
        ">",
        "%",
        "@",
        "`",
        "\\",
        "é",
        "\u2028",
        "\x85",
        "\t",
        "a\nb",
        "\ud800",
    ]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    tricky,
    st.dates(),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)
documents = st.recursive(
    st.dictionaries(identifiers, scalars, max_size=4),
    lambda children: st.dictionaries(
        identifiers,
        st.one_of(scalars, children, st.lists(st.one_of(scalars, children), max_size=3)),
        max_size=4,
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents,
    st.sampled_from([None, '"', "'"]),
    st.sampled_from([2, 4]),
    st.booleans(),
    st.booleans(),
)
def test_dumped_documents_read_the_same_or_fall_back(
    document: dict[str, Any], style: str | None, indent: int, unicode: bool, flow_leaves: bool
) -> None:
    text = yaml.safe_dump(
        document,
        default_style=style,
        indent=indent,
        allow_unicode=unicode,
        width=10_000,
        default_flow_style=None if flow_leaves else False,
        sort_keys=False,
    )
    fast = _fastyaml.parse(text)
    if fast is not None:
        assert same(fast[0], pyyaml(text))


@settings(max_examples=300, deadline=None)
@given(
    keys,
    tricky,
    st.lists(st.tuples(st.sampled_from(["", "  ", "    ", "- ", "  - "]), keys, tricky), max_size=8),
)
def test_hand_written_lines_read_the_same_or_fall_back(
    key: str, value: str, lines: list[tuple[str, str, str]]
) -> None:
    text = f"{key}: {value}\n" + "".join(f"{indent}{k}: {v}\n" for indent, k, v in lines)
    fast = _fastyaml.parse(text)
    if fast is None:
        return
    try:
        expected = pyyaml(text)
    except (yaml.YAMLError, ValueError):
        pytest.fail(f"the fast path accepted what PyYAML refuses: {text!r}")
    assert same(fast[0], expected), text


def test_same_is_strict() -> None:
    assert not same({"a": 1}, {"a": 1.0})
    assert not same([True], [1])
    assert same({"d": date(2026, 1, 1)}, {"d": date(2026, 1, 1)})
