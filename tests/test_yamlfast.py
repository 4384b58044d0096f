"""The quick reader of record YAML gives exactly what the PyYAML path gives, or leaves
the text to it: the same values and types, the same refusals with the same lines."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from topicfeeds.errors import RecordError
from topicfeeds.records import reader
from topicfeeds.records.frontmatter import front_matter
from topicfeeds.records.yamlfast import load_simple
from topicfeeds.records.yamlload import LOADERS, load_yaml

from .conftest import SEEDS, examples
from .test_yamlload import same

# Plain scalars YAML 1.1 reads as something other than text, their near misses, and
# text that means something else in YAML when written plain.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "~", "null", "Null", "true", "071", "0o71", "0x1F", "0b101", "1_000",
    "1:20", "190:20:30", "-.inf", ".NaN", ".5", "0.", "+12", "-0", "1e3", "1.5e3", "6.8523015e+5", "1,000",
    "0xG", "1_0.5", "=", "<<", "2026-11-28", "2026-11-28T08:00:00Z", "2026-11-28 08:00:00.5 +02:00",
    "2026-11-28t08:00:00z", "2026-02-30", "2026-11-28T08:00:00", "2026-11-28T25:00:00Z", "12:30",
    "2026-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "2026-11-28T24:00:00Z", "9999-12-31T23:59:59Z",
    "2026-11-28T08:00:00.25Z", "2026-1-2T08:00:00Z", "2026-11-28T08:00:00+01:00",
    "a: b", "a #b", "a#b", "x:", "-", "- x", "-1", "--", "?x", "? x", ":x", "@x", "`x", "%x", "!x",
    "!!str 1", "!!int x", "&a x", "*a", "[a, b]", "{a: 1}", "[]", "{}", "[ ]", "[]x", "|", ">", "|-",
    "'", '"', "a 'b' c", 'a "b" c', "https://x.example/a#b", "a\\nb", "é", "Q&A", "50%", "A/B",
    "São-Paulo", "\u2028", "\x85", "\t", "a\tb", "\x7f", "\x1b[1m", "\ufeff", "---", "...",
]  # fmt: skip
KEYS = [
    "title", "quality", "topics", "images", "url", "webUrl", "publishedDateTime", "provider", "name",
    "domain", "related", "excerpt", "width", "a-b", "_x", "x1", "yes", "no", "null", "on", "1", "~",
    "a b", '"q"', "'q'", "é", "<<", "=", "? k", "-k", "[k]",
]  # fmt: skip
_TEXT = st.characters(codec="utf-8", exclude_categories=("Cs",))
_ESCAPED = ["\\\\", '\\"', "\\/", "\\n", "\\t", "\\x41", "\\u00e9", "\\U0001F600", "\\ud800", "\\x1",
            "\\q", "\\ ", "\\N", "\\_", "\\L", "\\0", "\\e", '"']  # fmt: skip
_YAMLISH = st.sampled_from(list(": #'\"-[]{},&*!|>%@`~.\\/?=<0123456789abeEnoxyTZ \té\u2028\x85\x00"))

plain = st.one_of(
    st.sampled_from(TRICKY),
    st.text(_YAMLISH, min_size=1, max_size=12),
    st.text(_TEXT, min_size=1, max_size=12),
)
double_quoted = st.builds(
    lambda parts: '"' + "".join(parts) + '"',
    st.lists(
        st.one_of(st.text(_YAMLISH, max_size=4), st.sampled_from(_ESCAPED)),
        max_size=5,
    ),
)
single_quoted = st.builds(
    lambda parts: "'" + "".join(parts) + "'",
    st.lists(st.one_of(st.text(_YAMLISH, max_size=4), st.sampled_from(["''", "'", '"'])), max_size=5),
)
scalar = st.one_of(plain, double_quoted, single_quoted)
after = st.sampled_from(["", "", "", " ", "  ", " # note", "# note", " #", "\t"])
key = st.one_of(st.sampled_from(KEYS), st.text(_YAMLISH, min_size=1, max_size=6))

# A YAML node as the lines that write it, built from the inside out:
#   ("scalar", text) | ("map", [(key, node), ...]) | ("seq", [node, ...])
node = st.recursive(
    st.tuples(st.just("scalar"), st.builds(lambda s, a: s + a, scalar, after)),
    lambda inner: st.one_of(
        st.tuples(st.just("map"), st.lists(st.tuples(key, inner), min_size=1, max_size=4)),
        st.tuples(st.just("seq"), st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=14,
)
layout = st.fixed_dictionaries(
    {
        "step": st.sampled_from([2, 2, 4, 1, 3]),
        "indentless": st.booleans(),
        "item_gap": st.sampled_from([1, 1, 3]),
        "empty_seq": st.sampled_from(["[]", "[]", "{}", ""]),
    }
)


def write(n: tuple[str, Any], indent: int, how: dict[str, Any]) -> list[str]:
    """The lines of a mapping or a sequence at `indent`."""
    kind, value = n
    pad = " " * indent
    lines: list[str] = []
    if kind == "map":
        for k, v in value:
            if v[0] == "scalar":
                lines.append(f"{pad}{k}: {v[1]}")
            elif v[0] == "seq":
                lines.append(f"{pad}{k}:")
                lines += write(v, indent if how["indentless"] else indent + how["step"], how)
            else:
                lines.append(f"{pad}{k}:")
                lines += write(v, indent + how["step"], how)
    elif kind == "seq":
        for v in value:
            if v[0] == "scalar":
                lines.append(f"{pad}-{' ' * how['item_gap']}{v[1]}")
            else:
                inner = write(v, indent + 1 + how["item_gap"], how)
                lines.append(f"{pad}-{' ' * how['item_gap']}{inner[0].lstrip(' ')}")
                lines += inner[1:]
    else:
        lines.append(pad + value)
    return lines


mutation = st.one_of(
    st.just(None),
    st.tuples(
        st.sampled_from(["indent+1", "indent-1", "tab", "blank", "comment", "repeat", "continue", "insert"]),
        st.integers(0, 40),
        st.sampled_from(["&a ", "*a", "!!str ", "|", ">", "? ", "[", "{", "- ", "  ", "\t", "%", "#"]),
    ),
)


def mutate(lines: list[str], how: tuple[str, int, str] | None) -> list[str]:
    """`lines` with one flaw of the kinds people and tools write: odd indentation, a tab,
    a repeated key, a value continued on the next line, a YAML feature records do not use."""
    if how is None or not lines:
        return lines
    kind, at, piece = how
    at %= len(lines)
    line = lines[at]
    changed = {
        "indent+1": " " + line,
        "indent-1": line[1:] if line.startswith(" ") else line,
        "tab": line.replace(" ", "\t", 1),
        "blank": line + "\n",
        "comment": line + "\n  # a comment",
        "repeat": line + "\n" + line,
        "continue": line + "\n" + " " * (len(line) - len(line.lstrip(" ")) + 2) + "more",
        "insert": line.replace(": ", ": " + piece, 1) if ": " in line else piece + line,
    }[kind]
    return [*lines[:at], changed, *lines[at + 1 :]]


documents = st.builds(
    lambda top, how, flaw, ending: "\n".join(mutate(write(("map", top), 0, how), flaw)) + ending,
    st.lists(st.tuples(key, node), min_size=1, max_size=6),
    layout,
    mutation,
    st.sampled_from(["\n", "\n", "", "\n\n", "\n# end\n"]),
)


def check(text: str) -> bool:
    """The quick reader agrees with every PyYAML loader; whether it read `text` itself."""
    fast = load_simple(text)
    if fast is None:
        return False
    for loader in LOADERS.values():
        _, value = load_yaml(text, "x.txt", loader)  # a refusal here fails the test
        assert same(fast, value), (loader.__name__, text)
    if "\r" not in text:
        crlf = load_simple(text.replace("\n", "\r\n"))
        assert crlf is not None and same(crlf, fast), text
    return True


@settings(max_examples=examples(150, 1000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
@example("title: x\ntitle: y\n")
@example("a:\n  b: 1\n c: 2\n")
@example("a: x\n  y\n")
@example("- a\n")
@example("k" * 1100 + ": x\n")
@example("a:\n- x\n-  y\nb: 1\n")
@example("a:\n  - b:\n    - x\n    c: 1\n")
@example("a: \"x\\ty\" # c\nb: 'it''s'\n")
def test_generated_records_read_as_pyyaml_reads_them(text: str) -> None:
    check(text)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.sampled_from(TRICKY), st.text(_YAMLISH, min_size=1, max_size=16)), after)
def test_plain_scalars_read_as_pyyaml_reads_them(value: str, comment: str) -> None:
    check(f"title: x\nvalue: {value}{comment}\nlist:\n  - {value}{comment}\nmap:\n  - k: {value}{comment}\n")


def test_the_shapes_records_use_are_read_here() -> None:
    """The quick reader is used for what records hold, not only for what it gets right."""
    text = (
        'title: "A \\"quoted\\" word"\nquality: 46 # of 100\nheat: -1\npublished: yes\n\n'
        "publishedDateTime: 2026-10-21T03:39:47Z\nexcerpt: 'it''s'\nempty:\ntopics: []\n"
        "provider:\n  name: Courier\n  domain: courier.example\n"
        "images:\n- url: https://img.example/a.jpg\n  width: 640\n"
        "related:\n  - title: x\n    images:\n      - url: https://img.example/b.jpg\n    quality: 5\n"
    )
    assert check(text)
    assert check(text.replace("\n", "\r\n"))


def test_every_shipped_seed_is_read_here_as_pyyaml_reads_it() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = front_matter(path.read_bytes().decode("utf-8-sig"))
        assert text is not None
        assert check(text), path.name


def _outcome(data: bytes) -> Any:
    """The record and its warnings, or the problem that rejected it."""
    try:
        return reader.parse_record(data, "seeds/x.txt")
    except RecordError as exc:
        return exc.problem


record_values = st.one_of(
    scalar,
    st.sampled_from(["https://news.example/a", "'https://news.example/b#c'", "ftp://x", "2026-11-28",
                     "Mon, 28 Nov 2026 08:00:00 GMT", "high", "71", '"71"', "[]", "maybe"]),
)  # fmt: skip
record_keys = st.sampled_from(
    ["title", "webUrl", "originalUrl", "publishedDateTime", "updatedDateTime", "excerpt", "quality",
     "heat", "published", "topics", "type", "category"]
)  # fmt: skip


@settings(max_examples=examples(200, 400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(record_keys, record_values), max_size=8),
    st.lists(st.tuples(st.sampled_from(["url", "width", "height"]), record_values), max_size=3),
    st.lists(st.tuples(st.sampled_from(["title", "webUrl", "url", "publishedDateTime"]), record_values),
             max_size=4),
    mutation,
)  # fmt: skip
def test_records_give_the_same_fields_warnings_and_errors_either_way(
    fields: list[tuple[str, str]],
    image: list[tuple[str, str]],
    related: list[tuple[str, str]],
    flaw: tuple[str, int, str] | None,
) -> None:
    lines = ["title: A title", "webUrl: https://news.example/x", "publishedDateTime: 2026-11-28T08:00:00Z"]
    lines += [f"{k}: {v}" for k, v in fields]
    if image:
        lines += ["images:", *(f"  {'-' if i == 0 else ' '} {k}: {v}" for i, (k, v) in enumerate(image))]
    if related:
        lines.append("related:")
        lines += [f"{'-' if i == 0 else ' '} {k}: {v}" for i, (k, v) in enumerate(related)]
    data = ("---\n" + "\n".join(mutate(lines, flaw)) + "\n---\nbody\n").encode("utf-8")
    quick = _outcome(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "load_simple", lambda text: None)
        slow = _outcome(data)
    assert quick == slow


def test_a_warning_names_the_line_of_a_value_read_quickly() -> None:
    data = b"---\ntitle: x\nwebUrl: https://news.example/a\npublishedDateTime: 2026-11-28\n"
    data += b"\nquality: high\n---\n"
    assert load_simple(front_matter(data.decode()) or "") is not None
    record, warnings = reader.parse_record(data, "seeds/x.txt")
    assert record.quality is None
    assert [(w.line, w.field) for w in warnings] == [(6, "quality")]


def test_the_quick_reader_s_caches_stay_small_however_many_values_records_bring() -> None:
    """A long-running watch reads record after record, each with its own numbers and
    keys: what the quick reader remembers must stay bounded, as yamlload's caches do."""
    from topicfeeds.records import yamlfast
    from topicfeeds.records.yamlload import CACHE_LIMIT

    for n in range(3 * CACHE_LIMIT):
        text = f"width: {n}\nkey{n}: v{n % 7}\nflag: yes\n"
        assert load_simple(text) == {"width": n, f"key{n}": f"v{n % 7}", "flag": True}
        assert len(yamlfast._PLAIN) <= CACHE_LIMIT
        assert len(yamlfast._GOOD_KEYS) <= CACHE_LIMIT


def test_every_character_python_prints_is_one_the_quick_reader_reads_itself() -> None:
    """The quick check of a text's characters (is it printable?) never lets through a
    character the full check would send to PyYAML, on any code point."""
    from topicfeeds.records import yamlfast

    for point in range(0x110000):
        character = chr(point)
        if character.isprintable():
            assert yamlfast._UNUSUAL.match(character) is None, hex(point)
        assert yamlfast._usual(character) == (yamlfast._UNUSUAL.match(character) is None), hex(point)


_DIGITS = st.text("0123456789", min_size=2, max_size=2)


@settings(max_examples=300, deadline=None)
@given(st.text("0123456789", min_size=4, max_size=4), _DIGITS, _DIGITS, _DIGITS, _DIGITS, _DIGITS, after)
@example("2026", "02", "29", "12", "00", "00", "")  # no such day in 2026
@example("2024", "02", "29", "23", "59", "59", "")
@example("2026", "11", "28", "23", "59", "60", "")  # a leap second PyYAML refuses
@example("2026", "11", "28", "24", "00", "00", "")
@example("0000", "01", "01", "00", "00", "00", " # c")
def test_utc_dates_in_the_newsroom_form_read_as_pyyaml_reads_them(
    year: str, month: str, day: str, hour: str, minute: str, second: str, comment: str
) -> None:
    value = f"{year}-{month}-{day}T{hour}:{minute}:{second}Z"
    check(f"title: x\nvalue: {value}{comment}\nlist:\n  - {value}{comment}\n")


@settings(max_examples=examples(150, 300), deadline=None)
@given(st.lists(st.one_of(st.text(_YAMLISH, max_size=5), st.sampled_from(['\\"', '\\"', "\\\\", "\\n"])),
                max_size=6), after)  # fmt: skip
@example(['say \\"no\\"'], "")
@example(['\\"', "\\\\"], "")
@example(["a\\\\", '\\"'], " # c")
def test_double_quoted_text_with_escaped_quotes_reads_as_pyyaml_reads_it(
    parts: list[str], comment: str
) -> None:
    value = '"' + "".join(parts) + '"'
    check(f"title: x\nvalue: {value}{comment}\nlist:\n  - {value}{comment}\n")


def test_escaped_quotes_are_read_here() -> None:
    assert check('excerpt: "say \\"no\\" now" # c\nlist:\n  - "\\"x\\""\n')


def test_newsroom_dates_carry_python_s_own_utc() -> None:
    """PyYAML gives `Z` dates `timezone.utc` itself; so does the quick reader."""
    value = load_simple("published: 2026-10-21T03:39:47Z\n")
    assert value is not None
    assert value["published"].tzinfo is timezone.utc
