"""RFC 5005 archives: the pure rule that pages a topic's entries, and topics with
`archive: true` built over time, walked back from the subscription feed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from topicfeeds import build, load_config
from topicfeeds.config import Config
from topicfeeds.core.archive import archive_name, is_archive, plan_archive
from topicfeeds.notify.websub import changed_feeds
from topicfeeds.store.copy import copy_state

from .backends import Backend
from .conftest import BASE_CONFIG, make_config, write_record

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"


pytestmark = pytest.mark.usefixtures("no_racy_window")


# -- the pure rule


def test_entries_that_leave_the_feed_fill_pages_from_the_oldest() -> None:
    plan = plan_archive(["d", "c", "b"], ["c", "b", "a"], [], set(), 2)
    assert plan == plan_archive(["d", "c", "b"], ["c", "b", "a"], [], (), 2)
    assert (plan.shown, plan.log, plan.pages) == (("d", "c", "b"), ("a",), ())
    plan = plan_archive(["f", "e", "d"], ["d", "c", "b"], ["a"], set(), 2)
    # c and b left, lowest-ranked first; a, b make page 1, c waits for the next
    assert (plan.shown, plan.log, plan.pages) == (("f", "e", "d"), ("c",), (("a", "b"),))


def test_an_entry_of_the_log_selected_again_goes_back_to_the_feed() -> None:
    plan = plan_archive(["a", "d"], ["d"], ["a", "b"], set(), 5)
    assert (plan.shown, plan.log) == (("a", "d"), ("b",))


def test_an_entry_sealed_in_a_page_is_never_shown_again() -> None:
    plan = plan_archive(["a", "d"], ["d"], [], {"a"}, 5)
    assert (plan.shown, plan.log, plan.pages) == (("d",), (), ())


def test_a_page_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        plan_archive([], [], [], set(), 0)


def test_archive_names_cannot_meet_a_topics_files() -> None:
    assert archive_name("ai", 3) == "ai.archive-3.atom"
    assert is_archive("ai.archive-3.atom") and is_archive("computer-vision.archive-12.atom")
    others = ("ai.atom", "ai-archive-3.atom", "ai.archive-0.atom", "x/ai.archive-1.atom")
    assert not any(is_archive(n) for n in others)


IDS = st.sampled_from([f"e{n}" for n in range(12)])
SELECTIONS = st.lists(st.lists(IDS, max_size=6, unique=True), min_size=1, max_size=25)


def _replay(selections: list[list[str]], size: int) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Run the rule over successive selections; return the pages sealed, in order, and
    after each run what the subscription feed holds (shown, then the log)."""
    pages: list[tuple[str, ...]] = []
    shown: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    documents = []
    for selected in selections:
        plan = plan_archive(selected, shown, log, {i for p in pages for i in p}, size)
        pages += plan.pages
        shown, log = plan.shown, plan.log
        documents.append((*shown, *reversed(log)))
    return pages, documents


@settings(max_examples=300, deadline=None)
@given(SELECTIONS, st.integers(min_value=1, max_value=4))
def test_walking_back_meets_every_entry_ever_published_exactly_once(
    selections: list[list[str]], size: int
) -> None:
    published: set[str] = set()
    pages: list[tuple[str, ...]] = []
    shown: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    for selected in selections:
        plan = plan_archive(selected, shown, log, {i for p in pages for i in p}, size)
        pages += plan.pages
        shown, log = plan.shown, plan.log
        published |= set(shown)
        walked = [*shown, *reversed(log), *(i for page in reversed(pages) for i in reversed(page))]
        assert sorted(walked) == sorted(published)  # each once, none missing
        assert all(len(page) == size for page in pages)  # a page is sealed only when full


@settings(max_examples=300, deadline=None)
@given(SELECTIONS, SELECTIONS, st.integers(min_value=1, max_value=4))
def test_more_history_never_changes_a_completed_page(
    first: list[list[str]], more: list[list[str]], size: int
) -> None:
    before, _ = _replay(first, size)
    after, _ = _replay(first + more, size)
    assert after[: len(before)] == before


# -- topics with archive: true

ARCHIVED = BASE_CONFIG + "    limit: 3\n    archive: true\n"


def _story(seeds: Path, n: int) -> None:
    """Story n, published n hours after the first: each new one is the newest."""
    when = datetime(2026, 11, 20, tzinfo=timezone.utc) + timedelta(hours=n)
    write_record(
        seeds, f"{n:03}.txt", title=f"Story {n}", webUrl=f"https://www.gridwatch.example/{n}",
        originalUrl=..., publishedDateTime=when.strftime("%Y-%m-%dT%H:%M:%SZ"), related=[],
    )  # fmt: skip


def _walk(fetch: Callable[[str], bytes], start: str) -> list[str]:
    """Entry ids from the subscription feed at `start` back through prev-archive, as a
    reader would (feedparser), checking each archive page as it goes."""
    ids: list[str] = []
    url: str | None = start
    seen = set()
    while url is not None:
        assert url not in seen, f"prev-archive loops at {url}"
        seen.add(url)
        data = fetch(url)
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, url
        ids += [e.id for e in parsed.entries]
        links = {link.rel: link.href for link in parsed.feed.links}
        root = etree.fromstring(data)
        if url != start:
            assert root.find(f"{FH}archive") is not None, url
            assert links["current"] == start
            assert "next-archive" in links
        else:
            assert root.find(f"{FH}archive") is None and root.find(f"{FH}complete") is None
        url = links.get("prev-archive")
    return ids


def _from_files(config: Config) -> Callable[[str], bytes]:
    base = config.site.base_url

    def fetch(url: str) -> bytes:
        assert url.startswith(base)
        return (config.output_dir / url[len(base) :]).read_bytes()

    return fetch


def _files(config: Config) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(config.output_dir.iterdir())}


def _archives(config: Config) -> dict[str, tuple[bytes, int]]:
    return {name: v for name, v in _files(config).items() if is_archive(name)}


def test_walking_back_from_the_feed_meets_every_entry_once_and_pages_never_change(
    project: Path, backend: Backend
) -> None:
    config = make_config(project, backend.text(ARCHIVED))
    start = f"{config.site.base_url}energy.atom"
    published: set[str] = set()
    pages: dict[str, tuple[bytes, int]] = {}
    for n in range(14):
        _story(project / "seeds", n)
        published.add(f"https://www.gridwatch.example/{n}")
        report = build(config, NOW)
        ids = _walk(_from_files(config), start)
        assert sorted(ids) == sorted(published)
        now_pages = _archives(config)
        assert {k: now_pages[k] for k in pages} == pages  # a written page never changes
        assert not any(is_archive(str(p)) for p in changed_feeds(config.site, map(str, report.written_files)))
        pages = now_pages
    # 14 stories, 3 in the feed's selection: 11 left it, 3 pages of 3 and 2 in the log
    assert sorted(pages) == [f"energy.archive-{n}.atom" for n in (1, 2, 3)]
    feed = feedparser.parse((config.output_dir / "energy.atom").read_bytes())
    assert [e.title for e in feed.entries] == [f"Story {n}" for n in (13, 12, 11, 10, 9)]
    first = feedparser.parse(pages["energy.archive-1.atom"][0])
    assert [e.title for e in first.entries] == ["Story 2", "Story 1", "Story 0"]
    assert {link.rel for link in first.feed.links} == {"alternate", "self", "current", "next-archive"}
    # Rerun, --full, and a state lost: not one archive page rewritten.
    assert build(config, NOW).no_changes
    build(config, NOW, full=True)
    assert _archives(config) == pages
    backend.forget(config)
    build(config, NOW)
    assert _archives(config) == pages
    for n in range(14, 20):  # the new state numbers its pages after those it found
        _story(project / "seeds", n)
        build(config, NOW)
    after = _archives(config)
    assert {k: after[k] for k in pages} == pages
    assert "energy.archive-4.atom" in after
    walked = _walk(_from_files(config), start)
    # What the lost state alone knew is gone: the two entries that had left the feed but
    # filled no page yet (9 and 10). Every other entry is met once.
    kept = [f"https://www.gridwatch.example/{n}" for n in range(20) if n not in (9, 10)]
    assert sorted(walked) == sorted(kept)


def test_an_archive_page_removed_is_put_back_as_it_was(project: Path, backend: Backend) -> None:
    config = make_config(project, backend.text(ARCHIVED))
    for n in range(8):
        _story(project / "seeds", n)
        build(config, NOW)
    page = config.output_dir / "energy.archive-1.atom"
    data = page.read_bytes()
    page.unlink()
    report = build(config, NOW)
    assert page.read_bytes() == data
    assert report.written_files == (page,)


def test_incremental_runs_give_what_a_full_run_gives(project: Path, backend: Backend, tmp_path: Path) -> None:
    config = make_config(project, backend.text(ARCHIVED))
    for n in range(10):
        _story(project / "seeds", n)
        build(config, NOW)
    (project / "seeds" / "009.txt").unlink()  # the newest withdrawn: one comes back from the log
    build(config, NOW)
    incremental = _files(config)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    if config.state_db is not None:  # the copy's state a copy in a file, as the folder's would be
        make_config(copy, ARCHIVED)
        copy_state(config.state_db, copy / ".topicfeeds-state.sqlite")
    other = load_config(copy / "config.yaml")
    for name in incremental:
        (other.output_dir / name).unlink()
    build(other, NOW, full=True)
    assert {k: v[0] for k, v in _files(other).items()} == {k: v[0] for k, v in incremental.items()}


def test_a_topic_without_archive_is_as_before(project: Path, tmp_path: Path) -> None:
    plain = make_config(project)
    other = tmp_path / "other"
    other.mkdir()
    archived = make_config(other, ARCHIVED.replace("    limit: 3\n", ""))
    for n in range(3):
        _story(project / "seeds", n)
        _story(other / "seeds", n)
    build(plain, NOW)
    build(archived, NOW)
    # Nothing has left the feed yet: the same bytes, archive or not.
    assert {k: v[0] for k, v in _files(plain).items()} == {k: v[0] for k, v in _files(archived).items()}


def test_archive_needs_atom_and_a_boolean(tmp_path: Path) -> None:
    from topicfeeds.config import parse_config
    from topicfeeds.errors import ConfigError

    text = BASE_CONFIG + "    archive: yes please\n"
    with pytest.raises(ConfigError, match="archive: expected true or false"):
        parse_config(text, tmp_path / "config.yaml")
    text = BASE_CONFIG + "    archive: true\n    formats: [rss]\n"
    with pytest.raises(ConfigError, match="archives need the atom format"):
        parse_config(text, tmp_path / "config.yaml")


def test_a_reader_walks_the_archive_from_the_preview_server(project: Path) -> None:
    """feedparser, over HTTP from `topicfeeds serve` on 127.0.0.1, as a new subscriber."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = ARCHIVED.replace("https://news.example/feeds/", f"http://127.0.0.1:{port}/")
    config = make_config(project, text)
    for n in range(11):
        _story(project / "seeds", n)
        build(config, NOW)
    server = subprocess.Popen(
        [sys.executable, "-m", "topicfeeds", "serve", "-c", str(project / "config.yaml"),
         "--port", str(port)],
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert server.stderr is not None
        server.stderr.readline()  # it listens

        def fetch(url: str) -> bytes:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.headers["Content-Type"].startswith("application/atom+xml")
                return bytes(response.read())

        before = _archives(config)
        ids = _walk(fetch, f"http://127.0.0.1:{port}/energy.atom")
        assert sorted(ids) == sorted(f"https://www.gridwatch.example/{n}" for n in range(11))
        time.sleep(0.01)
        build(config, NOW)
        assert _archives(config) == before
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr is not None:
            server.stderr.close()


def test_a_state_of_schema_4_gains_the_archive_and_keeps_its_history(tmp_path: Path) -> None:
    import sqlite3

    from topicfeeds.store import History, StateStore

    path = tmp_path / "state.sqlite"
    store, _ = StateStore.open(path)
    store.set_history("energy", {"https://news.example/1": History("h", 1, None)})
    store.add_pings("https://hub.example/", ["https://news.example/feeds/energy.atom"])
    store.close()
    with sqlite3.connect(path) as db:  # as schema 4 left it
        db.execute("DROP TABLE archive")
        db.execute("DROP TABLE archive_pages")
        db.execute("ALTER TABLE pings DROP COLUMN noted")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    db.close()
    store, notes = StateStore.open(path)
    try:
        assert notes == []
        assert store.history("energy") == {"https://news.example/1": History("h", 1, None)}
        assert store.pings() == {"https://hub.example/": ["https://news.example/feeds/energy.atom"]}
        assert store.archive_entries("energy") == [] and store.archive_pages("energy") == []
        store.add_pings("https://hub.example/", ["https://news.example/feeds/energy.atom"])
        assert store.noted_pings() == {"https://hub.example/": {"https://news.example/feeds/energy.atom": 1}}
    finally:
        store.close()


def test_delete_never_removes_a_page_of_an_archived_topic(project: Path) -> None:
    config = make_config(project, ARCHIVED.replace("records: seeds", "records: seeds\ndelete: true"))
    for n in range(10):
        _story(project / "seeds", n)
        build(config, NOW)
    pages = _archives(config)
    assert len(pages) == 2
    report = build(config, NOW, full=True)
    assert report.removed == () and _archives(config) == pages


def _command(config: Config) -> None:
    """A build by the installed command, as cron runs it."""
    command = [str(Path(sys.executable).with_name("topicfeeds")), "build", "-q", "-c", str(config.path)]
    ran = subprocess.run([*command, "--now", "2026-11-28T00:00:00Z"],
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr


def _sealed(config: Config) -> dict[str, str]:
    """Every id in an archive page, with its page; an id in two pages fails."""
    found: dict[str, str] = {}
    for name, (data, _) in _archives(config).items():
        for entry_id in (e.id for e in feedparser.parse(data).entries):
            assert entry_id not in found, f"{entry_id} in both {found[entry_id]} and {name}"
            found[entry_id] = name
    return found


def test_pages_found_after_the_state_was_lost_are_read_back_and_never_sealed_again(
    project: Path, backend: Backend
) -> None:
    """What the pages hold is read from the pages: entries in them that the rules select
    again are not shown again, nor sealed a second time in a later page."""
    config = make_config(project, backend.text(ARCHIVED.replace("limit: 3", "limit: 2")))
    for n in range(10):
        _story(project / "seeds", n)
        build(config, NOW)
    config = make_config(project, backend.text(ARCHIVED))
    for n in range(10, 20):
        _story(project / "seeds", n)
        build(config, NOW)
    pages = _archives(config)
    assert sorted(_sealed(config)) == sorted(f"https://www.gridwatch.example/{n}" for n in range(17))
    backend.forget(config)
    for n in range(13, 20):  # the seven newest withdrawn: 12, 11 and 10 (in pages) are selected again
        (project / "seeds" / f"{n:03}.txt").unlink()
    _command(config)
    for n in range(20, 24):
        _story(project / "seeds", n)
        _command(config)
    after = _archives(config)
    assert {k: after[k] for k in pages} == pages  # no page rewritten
    # None sealed twice: the pages still hold 0 to 16 alone; 20 waits in the log, and
    # 17 to 19, withdrawn while only the lost state knew them, are gone.
    assert sorted(_sealed(config)) == sorted(f"https://www.gridwatch.example/{n}" for n in range(17))
    walked = _walk(_from_files(config), f"{config.site.base_url}energy.atom")
    assert sorted(walked) == sorted(
        f"https://www.gridwatch.example/{n}" for n in [*range(17), *range(20, 24)]
    )


def test_a_found_page_that_cannot_be_read_is_kept_as_it_is_and_reported(
    project: Path, backend: Backend
) -> None:
    config = make_config(project, backend.text(ARCHIVED))
    for n in range(11):
        _story(project / "seeds", n)
        build(config, NOW)
    page = config.output_dir / "energy.archive-1.atom"
    page.write_bytes(b"<feed>cut short")
    pages = _archives(config)
    assert len(pages) == 2
    backend.forget(config)
    report = build(config, NOW)
    assert _archives(config) == pages  # the page cut short too
    (warning,) = report.warnings
    assert str(warning).startswith(f"{page}: archive page not read (not XML: Premature end of data")
    assert str(warning).endswith("); kept as it is, but its entries may be archived again")
