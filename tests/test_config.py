from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from topicfeeds.config import SITE_FILES, Rules, is_slug, load_config, parse_config, slugify
from topicfeeds.errors import ConfigError

from .conftest import BASE_CONFIG

ROOT = Path(__file__).resolve().parent.parent


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    return [f"{p.line}: {p.field}: {p.message}" for p in caught.value.problems]


def test_the_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.records_dir == ROOT / "seeds"
    assert config.output_dir == ROOT / "feeds"
    assert [t.slug for t in config.topics] == ["ai", "computer-vision", "climate", "security", "space"]
    assert config.site.base_url.endswith("/")


def test_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    monkeypatch.chdir(tmp_path)
    config = parse_config(BASE_CONFIG, Path("conf/config.yaml"))
    assert config.records_dir == tmp_path / "conf" / "seeds"
    assert config.output_dir == tmp_path / "conf" / "feeds"


def test_topics_inherit_defaults_and_override_them(tmp_path: Path) -> None:
    text = BASE_CONFIG.replace(
        "records: seeds",
        "records: seeds\ndefaults:\n  min_quality: 40\n  sort: heat\n  keywords: [Battery]\n",
    ).replace("    match: [Energy]", "    match: [Energy, Grid]\n    sort: quality\n    limit: 5")
    config = parse_config(text, tmp_path / "config.yaml")
    rules = config.topics[0].rules
    assert rules == Rules(min_quality=40, keywords_include=("battery",), sort="quality", limit=5)
    assert config.topics[0].match == ("energy", "grid")


def test_every_problem_is_reported_at_once_with_key_and_line(tmp_path: Path) -> None:
    text = """\
site:
  title: Test
  link: not-a-url
  base_url: https://news.example/feeds/
  langauge: en
defaults:
  sort: oldest
  limit: -1
topics:
  Bad Slug:
    title: x
  good:
    match: [A]
    min_quality: high
    related: seealso
    published: yes
"""
    assert problems(text, tmp_path) == [
        "3: site.link: 'not-a-url' is not an absolute http(s) URL",
        "5: site.langauge: unknown key; did you mean 'language'?",
        "7: defaults.sort: 'oldest' is not one of newest, quality, heat",
        "8: defaults.limit: expected a whole number of at least 0, got -1",
        "10: topics.Bad Slug: 'Bad Slug' is not a usable slug (lowercase ASCII letters, digits and "
        "single hyphens, at most 64 characters); try 'bad-slug'",
        "14: topics.good.min_quality: expected a number, got 'high'",
        "15: topics.good.related: 'seealso' is not one of see-also, enclosure, entries, none; "
        "did you mean 'see-also'?",
        "16: topics.good.published: True is not one of only, any",
    ]


def test_duplicate_topic_is_an_error(tmp_path: Path) -> None:
    text = BASE_CONFIG + "  energy:\n    match: [Power]\n"
    assert problems(text, tmp_path) == ["14: topics.energy: duplicate key: only one may be given"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "None: None: the file is empty; it needs at least site and topics"),
        ("site: [\n", "2: None: invalid YAML: expected the node content, but found '<stream end>'"),
        ("- a list\n", "1: None: expected a mapping, got a list"),
        ("topics: {}\n", "1: site: missing; give at least title, link and base_url"),
        ("site: !!python/object:os.system {}\n", "1: None: invalid YAML: could not determine a constructor"),
    ],
)
def test_unusable_files(text: str, expected: str, tmp_path: Path) -> None:
    assert problems(text, tmp_path)[0].startswith(expected)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_output_may_not_be_the_records_folder(tmp_path: Path) -> None:
    assert problems(BASE_CONFIG.replace("output: feeds", "output: seeds"), tmp_path) == [
        "8: output: must not be the records folder"
    ]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Computer Vision", "computer-vision"),
        ("Zürich & São Paulo", "zurich-and-sao-paulo"),
        ("../../etc/passwd", "etc-passwd"),
        ("a/b", "a-b"),
        ("/abs", "abs"),
        ("CON", "con-topic"),
        ("lpt1", "lpt1-topic"),
        ("  ", "topic-"),
        ("人工知能", "topic-"),
        ("x" * 200, "x" * 64),
    ],
)
def test_slugify_gives_safe_file_stems(name: str, slug: str) -> None:
    result = slugify(name)
    assert result.startswith(slug)
    assert is_slug(result)


def test_the_files_no_slug_may_take_are_the_site_s_own() -> None:
    from topicfeeds.formats import TopicListing, site_file_names

    every = TopicListing("x", "X", "X", 0, None, ("atom", "rss", "json", "html"))
    assert sorted(SITE_FILES) == sorted(site_file_names([every]))


def test_slugs_of_non_latin_names_differ() -> None:
    assert slugify("人工知能") != slugify("機械学習")


def run_build(config: Path) -> subprocess.CompletedProcess[str]:
    """The installed command's build, as cron runs it."""
    return subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-q", "-c", str(config)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


# Anchors in a list, each a list of ten of the one before: a million values if expanded.
ALIASES = "[&l0 [x, x, x, x, x, x, x, x, x, x], " + ", ".join(
    f"&l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 7)
) + "]"  # fmt: skip
BAD_YAML = BASE_CONFIG.count("\n") + 2  # the line of the value under `defaults:`
SORTS = "newest, quality, heat"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (ALIASES, f"{BAD_YAML}: invalid YAML: anchors and aliases are not allowed"),
        ("&s newest", f"{BAD_YAML}: invalid YAML: anchors and aliases are not allowed"),
        ("[" * 10_000 + "]" * 10_000, f"{BAD_YAML}: invalid YAML: nested deeper than 32 levels"),
        ("1" * 5000, f"{BAD_YAML}: invalid YAML: cannot read '" + "1" * 27 + "..." + "1" * 28 + "' as int"),
        ("!!timestamp 2026-13-45", f"{BAD_YAML}: invalid YAML: cannot read '2026-13-45' as timestamp"),
        ("k" * 100_000, f"{BAD_YAML}: defaults.sort: '{'k' * 27}...{'k' * 28}' is not one of {SORTS}"),
    ],
    ids=["aliases", "anchor", "nested", "huge-int", "impossible-date", "long-value"],
)
def test_a_config_that_would_expand_recurse_or_overflow_is_one_line_and_status_2(
    project: Path, value: str, message: str
) -> None:
    config = project / "config.yaml"
    config.write_text(BASE_CONFIG + f"defaults:\n  sort: {value}\n", encoding="utf-8")
    result = run_build(config)
    assert (result.returncode, result.stderr) == (2, f"error: {config}:{message}\n")


def test_a_long_unknown_key_is_named_short(project: Path) -> None:
    config = project / "config.yaml"
    config.write_text(BASE_CONFIG + "defaults:\n  ? " + "k" * 5000 + "\n  : 1\n", encoding="utf-8")
    result = run_build(config)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {config}:{BAD_YAML}: defaults.{'k' * 57}...: unknown key; ")
    assert len(result.stderr) < 400 and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("setting", "make", "message"),
    [
        ("state: here", "here", "state: here is a folder; the state is a file (give its name)"),
        ("state: gone/state.sqlite", None, "state: gone: the state's folder does not exist"),
        ("state: s.sqlite", "s.sqlite.lock", "state: s.sqlite.lock, the state's lock file, is a folder"),
        ("", ".topicfeeds-state.sqlite", "state: .topicfeeds-state.sqlite is a folder; the state is a file"),
    ],
    ids=["folder", "no-folder", "lock-folder", "default-is-a-folder"],
)
def test_a_state_path_that_cannot_be_a_file_is_a_config_error(
    project: Path, setting: str, make: str | None, message: str
) -> None:
    config = project / "config.yaml"
    config.write_text(BASE_CONFIG + setting + "\n", encoding="utf-8")
    if make is not None:
        (project / make).mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "topicfeeds", "build", "-q"], cwd=project,
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    line = f"config.yaml:{BAD_YAML - 1}: " if setting else "config.yaml: "
    assert (result.returncode, result.stderr.count("\n")) == (2, 1), result.stderr
    assert result.stderr.startswith(f"error: {line}{message}"), result.stderr
