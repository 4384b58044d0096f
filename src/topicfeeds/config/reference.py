"""The configuration reference, docs/reference/config.md, written from the table of keys
(schema.py). Regenerate it after changing the table (tests/test_schema.py checks it):

    python -m topicfeeds.reference docs/reference
"""

from __future__ import annotations

import json
import sys

from .schema import EFFECTS, RULES, SECTIONS, Key, keys

COMMAND = "python -m topicfeeds.reference docs/reference"
_CHANGE = {"output": "output", "sent": "sent", "none": "—"}


def _value(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, (tuple, list)):
        return f"`{json.dumps(list(value))}`"
    return f"`{value}`"


def _type(row: Key) -> str:
    kind: str = row.kind
    if row.kind == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in row.choice_values)
    if row.kind == "names":
        if row.choice_values:
            return "list of " + ", ".join(f"`{c}`" for c in row.choice_values)
        return "name, or list of names"
    low, high = row.bounds
    if low is not None and high is not None:
        return f"{kind}, {low:g} to {high:g}"
    if low is not None:
        return f"{kind}, at least {low:g}"
    return kind


def _default(row: Key) -> str:
    if row.shown_default is not None:
        return row.shown_default
    if row.required:
        return "required"
    if row.default_value is None or row.default_value == ():
        return "none"
    return _value(row.default_value)


def _shown_path(row: Key) -> str:
    if row.section == RULES:
        return row.name
    if row.section.startswith(f"{RULES}."):
        return f"{row.section[len(RULES) + 1 :]}.{row.name}"
    return row.path


def _change(row: Key) -> str:
    if not row.fields and row.opens is not None:
        return "see " + SECTIONS[row.opens].split(":")[0]
    return _CHANGE[row.effect]


def reference_markdown() -> str:
    """docs/reference/config.md: every key of config.yaml, section by section."""
    lines = [
        "# Configuration reference",
        "",
        f"<!-- Written from src/topicfeeds/config/schema.py by `{COMMAND}`;",
        "     tests/test_schema.py fails when the two differ. Do not edit by hand. -->",
        "",
        "Every key `config.yaml` knows. Paths resolve against the config file's folder. The last",
        "column says what a change to the key does:",
        "",
        *(f"- **{_CHANGE[effect]}**: {text}." for effect, text in EFFECTS.items()),
        "",
    ]
    for section, title in SECTIONS.items():
        lines += [f"## {title}", "", "| key | type | default | meaning | a change |", "|---|---|---|---|---|"]
        lines += [
            f"| `{_shown_path(row)}` | {_type(row)} | {_default(row)} | {row.meaning} | {_change(row)} |"
            for row in keys(section)
        ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())
