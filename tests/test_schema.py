"""The table of keys (config/schema.py) is what the checker knows, what the settings
hold, what the fingerprints hash and what the reference says."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from topicfeeds.config import (
    DEFAULT_CACHE_CONTROL,
    FILE_KINDS,
    Author,
    Config,
    Hub,
    Rules,
    S3Settings,
    Site,
    Topic,
    fingerprint,
    parse_config,
    sent_digest,
)
from topicfeeds.config.reference import COMMAND, reference_markdown
from topicfeeds.config.schema import KEYS, RULES, SECTIONS, Key, keys, names
from topicfeeds.errors import ConfigError

from .conftest import BASE_CONFIG

ROOT = Path(__file__).resolve().parent.parent
FULL = (
    BASE_CONFIG.replace(
        "  author: Test Newsroom\n",
        "  author: {name: Test Newsroom, email: desk@news.example, uri: https://news.example/desk}\n"
        "  hubs: [https://hub.example/]\n",
    )
    + "s3:\n  region: us-east-1\ndefaults:\n  providers: {include: [a], exclude: [b]}\n"
)

# Each settings object, the section of the table that describes it, and its attributes
# that no key sets: those set by a key that opens a section of their own, and the derived.
SETTINGS: list[tuple[str, type, set[str]]] = [
    ("", Config, {"path", "site", "s3", "defaults", "topics", "cdn"}),
    ("site", Site, {"author", "hubs"}),
    ("site.author", Author, set()),
    ("site.hubs[]", Hub, set()),
    ("s3", S3Settings, {"cache_control"}),
    ("topics.<slug>", Topic, {"slug", "rules", "automatic"}),
    (RULES, Rules, set()),
]


def config(tmp_path: Path, text: str = FULL) -> Config:
    return parse_config(text, tmp_path / "config.yaml")


def test_the_configuration_reference_is_written_from_the_table() -> None:
    written = (ROOT / "docs" / "reference" / "config.md").read_text(encoding="utf-8")
    assert written == reference_markdown(), f"the table changed: run {COMMAND}"


@pytest.mark.parametrize(("section", "cls", "others"), SETTINGS)
def test_every_setting_is_set_by_a_key_of_the_table(section: str, cls: type, others: set[str]) -> None:
    fields = {f for row in keys(section) for f in row.fields}
    assert fields | others == {f.name for f in dataclasses.fields(cls)}
    assert not fields & others


def test_the_cache_control_keys_are_the_kinds_of_file() -> None:
    assert names("s3.cache_control") == FILE_KINDS
    assert {r.name: r.default for r in keys("s3.cache_control")} == DEFAULT_CACHE_CONTROL


def test_every_key_that_opens_a_section_names_one() -> None:
    for row in KEYS:
        assert row.section in SECTIONS
        if row.kind in ("mapping", "list") and row.path != "retire":
            assert row.opens is not None, row.path


def test_the_defaults_the_settings_take_are_the_table_s(tmp_path: Path) -> None:
    made = config(tmp_path, BASE_CONFIG)
    objects: dict[str, Any] = {
        "": made, RULES: Rules(), "s3": S3Settings(), "site.hubs[]": Hub("https://hub.example/"),
        "s3.cache_control": dict(S3Settings().cache_control),
    }  # fmt: skip
    paths = {"records": made.records_dir, "output": made.output_dir, "state": made.state_path}
    checked = 0
    for row in KEYS:
        if row.section not in objects or row.default_value is None or len(row.fields) != 1:
            continue
        obj, field = objects[row.section], row.fields[0]
        got = obj[field] if isinstance(obj, dict) else getattr(obj, field)
        if row.path in paths:
            assert paths[row.path] == tmp_path / str(row.default_value), row.path
        elif row.path == f"{RULES}.published":
            assert got is (row.default_value == "only")
        else:
            assert got == row.default_value, row.path
        checked += 1
    assert checked > 25


def _add(after: str, text: str) -> str:
    return BASE_CONFIG.replace(after, after + text, 1)


# A key of each section that is not known, and the section whose keys its message lists.
UNKNOWN = [
    (BASE_CONFIG + "zzz: 1\n", ""),
    (_add("  language: en\n", "  zzz: 1\n"), "site"),
    (BASE_CONFIG.replace("  author: Test Newsroom\n", "  author: {name: N, zzz: 1}\n"), "site.author"),
    (_add("  language: en\n", "  hubs: [{url: 'https://h.example/', zzz: 1}]\n"), "site.hubs[]"),
    (BASE_CONFIG + "s3: {zzz: 1}\n", "s3"),
    (BASE_CONFIG + "s3: {cache_control: {zzz: 1}}\n", "s3.cache_control"),
    (BASE_CONFIG + "defaults: {zzz: 1}\n", RULES),
    (BASE_CONFIG + "defaults: {keywords: {zzz: 1}}\n", f"{RULES}.keywords"),
    (_add("    match: [Energy]\n", "    zzz: 1\n"), "topics.<slug>"),
]


@pytest.mark.parametrize(("text", "section"), UNKNOWN, ids=[s or "top" for _, s in UNKNOWN])
def test_the_checker_knows_the_keys_of_the_table(tmp_path: Path, text: str, section: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.yaml")
    known = names(section) + (names(RULES) if section == "topics.<slug>" else ())
    assert [(p.field or "").rsplit(".", 1)[-1] for p in caught.value.problems] == ["zzz"]
    assert caught.value.problems[0].message == f"unknown key; known keys: {', '.join(known)}"


def _changed(made: Config, row: Key, field: str) -> Config:
    """`made` with the value of `row`'s `field` changed, wherever its section puts it."""

    def other(value: Any) -> Any:
        if isinstance(value, bool):
            return not value
        if isinstance(value, (int, float)):
            return value + 1
        if isinstance(value, str):
            return value + "-x"
        if isinstance(value, tuple):
            return (*value, "x")
        if isinstance(value, Path):
            return value / "x"
        return "x"

    def swap(obj: Any) -> Any:
        return dataclasses.replace(obj, **{field: other(getattr(obj, field))})

    site, s3 = made.site, made.s3
    if row.section == "":
        return swap(made)
    if row.section == "site":
        return dataclasses.replace(made, site=swap(site))
    if row.section == "site.author":
        return dataclasses.replace(made, site=dataclasses.replace(site, author=swap(site.author)))
    if row.section == "site.hubs[]":
        return dataclasses.replace(made, site=dataclasses.replace(site, hubs=(swap(site.hubs[0]),)))
    if row.section == "s3":
        return dataclasses.replace(made, s3=swap(s3))
    if row.section == "s3.cache_control":
        cache = tuple((k, v + "-x" if k == field else v) for k, v in s3.cache_control)
        return dataclasses.replace(made, s3=dataclasses.replace(s3, cache_control=cache))
    if row.section == "topics.<slug>":
        return dataclasses.replace(made, topics=(swap(made.topics[0]),))
    assert row.section == RULES
    return dataclasses.replace(made, defaults=swap(made.defaults))


@pytest.mark.parametrize("row", [r for r in KEYS if r.fields], ids=lambda r: r.path)
def test_a_change_reaches_the_fingerprint_it_is_marked_for(tmp_path: Path, row: Key) -> None:
    """A key marked as changing the output changes the fingerprint (the next run is a full
    one); one marked as changing what is sent changes the sent digest (every file is sent
    again); one marked as neither changes neither."""
    made = config(tmp_path)
    for field in row.fields:
        changed = _changed(made, row, field)
        assert changed != made
        assert (fingerprint(changed, 1) != fingerprint(made, 1)) == (row.effect == "output"), field
        assert (sent_digest(changed) != sent_digest(made)) == (row.effect == "sent"), field


def test_the_fingerprint_holds_the_version_and_the_state_schema(tmp_path: Path) -> None:
    made = config(tmp_path)
    assert fingerprint(made, 1) == fingerprint(config(tmp_path), 1)
    assert fingerprint(made, 1) != fingerprint(made, 2)
