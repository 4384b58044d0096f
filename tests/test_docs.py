"""The docs hold to the code: the reference pages are what the code makes, every local
link leads somewhere, and the README's first commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from topicfeeds import reference

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS.rglob("*.md")])
# Pages written on other branches of this round, which docs/index.md already links.
PENDING: set[Path] = set()

INSTALL = "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/topicfeeds build"
TEST = (
    "python3 -m venv .venv && .venv/bin/pip install -q --no-compile -e '.[test]' && .venv/bin/ruff check . "
    "&& .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/pytest"
)


@pytest.mark.parametrize("name", sorted(reference.PAGES))
def test_a_reference_page_is_what_the_code_makes(name: str) -> None:
    written = (DOCS / "reference" / name).read_text(encoding="utf-8")
    assert written == reference.pages()[name], f"run: {reference.MADE_BY}"


def test_the_generator_writes_the_pages_and_then_finds_them_current(tmp_path: Path) -> None:
    assert reference.main([str(tmp_path), "--check"]) == 1
    assert reference.main([str(tmp_path)]) == 0
    assert reference.main([str(tmp_path), "--check"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == set(reference.PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_leads_to_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in _links(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if file in PENDING and not file.exists():
            continue
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _headings(file)):
            broken.append(target)
    assert broken == []


def test_the_readme_begins_with_the_install_and_the_test_command_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)\n```", readme, re.DOTALL | re.MULTILINE)
    assert blocks[:2] == [INSTALL, TEST]
    assert TEST in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_anchors_are_made_as_github_makes_them() -> None:
    text = "# Exit status\n## What `--json` gives\n## Cron, and exit statuses (0-5)\n## Notes\n## Notes\n"
    assert _anchors(text) == {
        "exit-status",
        "what---json-gives",
        "cron-and-exit-statuses-0-5",
        "notes",
        "notes-1",
    }


def _links(markdown: str) -> list[str]:
    """The targets of a page's Markdown links, outside code blocks and code spans."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def _headings(page: Path) -> set[str]:
    return _anchors(page.read_text(encoding="utf-8"))


def _anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped,
    spaces as hyphens, and -1, -2 after a repeated one."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors
