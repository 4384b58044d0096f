"""Shared helpers: records and configs built in memory or in a temporary folder."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from topicfeeds.config import Config, parse_config
from topicfeeds.core.model import Image, Provider, Record, Related
from topicfeeds.pipeline import refresh

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def record_text(fields: dict[str, Any]) -> str:
    """A record file's text: the fields as YAML front matter."""
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n"


def record_fields(**overrides: Any) -> dict[str, Any]:
    """A complete, valid record as the newsroom writes it."""
    fields: dict[str, Any] = {
        "category": "news",
        "title": "Grid batteries smooth out the evening peak",
        "excerpt": "Storage operators report record discharges during the cold snap.",
        "publishedDateTime": "2026-11-20T08:00:00Z",
        "originalUrl": "https://www.gridwatch.example/news/batteries-evening-peak",
        "webUrl": "https://www.gridwatch.example/news/batteries-evening-peak",
        "type": "article",
        "quality": 60,
        "heat": 10,
        "published": True,
        "provider": {"name": "GridWatch", "domain": "gridwatch.example"},
        "topics": ["Energy"],
        "images": [{"url": "https://media.gridwatch.example/battery.jpg", "width": 640, "height": 360}],
        "related": [
            {
                "title": "Why batteries are winning the peak",
                "excerpt": "An explainer.",
                "publishedDateTime": "2026-11-18T10:00:00Z",
                "webUrl": "https://www.climatewire.example/explainers/batteries-peak",
                "provider": {"name": "ClimateWire", "domain": "climatewire.example"},
                "quality": 50,
            }
        ],
        "secured": "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wdWJsaXNoZWQ=",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not ...}


def write_record(folder: Path, name: str, **overrides: Any) -> Path:
    """Write a valid record (with `overrides`) to folder/name."""
    path = folder / name
    path.write_text(record_text(record_fields(**overrides)), encoding="utf-8")
    return path


def make_record(**overrides: Any) -> Record:
    """A Record value for the pure stages, without any file."""
    when = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    values: dict[str, Any] = {
        "key": "a.txt",
        "id": "https://news.example/a",
        "title": "A title",
        "link": "https://news.example/a",
        "excerpt": "An excerpt.",
        "published": when,
        "updated": when,
        "type": "article",
        "category": "news",
        "quality": 50.0,
        "heat": 1.0,
        "is_published": True,
        "provider": Provider("News Example", "https://news.example/"),
        "topics": ("Energy",),
        "images": (Image("https://news.example/a.jpg", 640, 360, "image/jpeg"),),
        "related": (
            Related(
                id="https://other.example/b",
                title="Related reading",
                url="https://other.example/b",
                excerpt="",
                published=when,
                provider=Provider("Other", None),
                quality=None,
                image=None,
            ),
        ),
    }
    values.update(overrides)
    if "updated" not in overrides:
        values["updated"] = values["published"]
    return Record(**values)


BASE_CONFIG = """\
site:
  title: Test Site
  link: https://news.example/
  base_url: https://news.example/feeds/
  language: en
  author: Test Newsroom
records: seeds
output: feeds
topics:
  energy:
    title: Energy
    description: Power and storage.
    match: [Energy]
"""


def make_config(folder: Path, text: str = BASE_CONFIG) -> Config:
    """Write config text into folder/config.yaml with seeds/ and feeds/ beside it."""
    (folder / "seeds").mkdir(exist_ok=True)
    (folder / "feeds").mkdir(exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


@pytest.fixture
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test a moment ago are not 'racy': stat is trusted at once."""
    monkeypatch.setattr(refresh, "RACY_NS", 0)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with config.yaml, an empty seeds/ and an empty feeds/."""
    make_config(tmp_path)
    return tmp_path


def require_program(name: str) -> str:
    """The path of program `name`; a missing one fails the test under CI=true (CI installs
    it) and skips it elsewhere."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if found:
        return found
    message = f"{name} is not installed (Debian: apt-get install -y {name})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def without_views(feed: bytes) -> bytes:
    """An Atom or RSS feed without the XHTML views of its entries that browsers show, as
    it was before it carried them."""
    root = etree.fromstring(feed)
    for view in root.iterfind("*//{http://www.w3.org/1999/xhtml}div/.."):
        for child in view.findall("{http://www.w3.org/1999/xhtml}div"):
            view.remove(child)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


SCREENSHOTS: list[Path] = []  # folders of browser screenshots, named at the end of the run


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    folders = list(SCREENSHOTS)
    if not folders and hasattr(config, "_tmp_path_factory"):
        # Run by workers (pytest-xdist): each made its folder below the run's own.
        found = config._tmp_path_factory.getbasetemp().glob("*/screenshots*")
        folders = sorted(p for p in found if not p.is_symlink())  # not pytest's "…current" links
    for folder in folders:
        terminalreporter.write_line(f"browser screenshots: {folder}")


# TOPICFEEDS_THOROUGH=1 runs the long variants (docs/development.md): every kill moment,
# every seeded sequence and the property tests' larger example counts. The suite, as CI
# runs it, keeps the cases that found defects and a spread of the rest.
THOROUGH = os.environ.get("TOPICFEEDS_THOROUGH") == "1"


def examples(count: int, thorough: int) -> int:
    """A property test's number of examples: `count` in the suite, `thorough` when asked."""
    return thorough if THOROUGH else count


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker for each CPU this run may use (as `taskset` leaves it), and
    one more: many tests wait on a process, a server or a sleeping peer, and the extra
    worker keeps the CPUs busy meanwhile (on two CPUs: 254 s rather than 275 s)."""
    usable = getattr(os, "sched_getaffinity", None)
    return (len(usable(0)) if usable else os.cpu_count() or 1) + 1


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread the tests well over pytest-xdist's workers (`--dist loadgroup`, which
    hands a worker one test, or one group, at a time).

    The slow tests go first: the workers start on the long ones and share out the short
    ones at the end, rather than one finishing a long test while the other waits. Tests
    that share a module-scoped fixture (a server, a browser's site, a built corpus) are
    grouped to run on one worker, so that it is made once (a server's port and
    folder stay its own either way). A module's tests stay together in order, so that a
    run in one process makes it once too."""
    for item in items:
        infos = getattr(item, "_fixtureinfo", None)
        shared = infos and any(d.scope == "module" for defs in infos.name2fixturedefs.values() for d in defs)
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    slow = {item.nodeid for item in items if item.get_closest_marker("slow")}
    with_slow = {nodeid.split("::")[0] for nodeid in slow}
    items.sort(key=lambda item: (item.nodeid.split("::")[0] not in with_slow, item.nodeid not in slow))


class _XdistGroups:
    """pytest-xdist 3.8 names a test's group by renaming its node (`item._nodeid`), which
    pytest 9.2 no longer reads (it keeps the id in `item._id`): without this the groups
    are dropped and every worker makes a module's server again. Does nothing where
    pytest-xdist's renaming took."""

    @pytest.hookimpl(trylast=True)  # after pytest-xdist's own hook, on each worker
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
            node_id = getattr(item, "_id", None)
            if groups and node_id is not None and "@" not in item.nodeid:
                item._id = type(node_id).parse(f"{item.nodeid}@{'_'.join(groups)}")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False):
        config.pluginmanager.register(_XdistGroups(), "topicfeeds-xdist-groups")


# The state's backends (SQLite's file, a schema in a real PostgreSQL), for the tests of
# what the state keeps.
from .backends import backend, pg_server, postgresql  # noqa: E402, F401 - fixtures
