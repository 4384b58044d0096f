"""Faults a cron job meets: killed runs, full disks, unusable folders; and what a run
may touch: no network, nothing outside the output folder but its state, no secrets."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from topicfeeds import build, load_config
from topicfeeds.cli import main

from .conftest import BASE_CONFIG, THOROUGH, make_config, record_fields, record_text

NOW = "2026-11-28T00:00:00Z"
TOPICS = ["Energy", "Space", "Climate", "Privacy"]


def write_corpus(seeds: Path, count: int, edition: int = 0) -> None:
    """`count` records spread over the topics; `edition` changes every title."""
    for n in range(count):
        (seeds / f"{n:05}.txt").write_text(story(n).replace("EDITION", str(edition)), encoding="utf-8")


@functools.cache
def story(n: int) -> str:
    """Record n's text, its edition to fill in (dumping YAML is most of writing a corpus)."""
    fields = record_fields(
        title=f"Story {n}, edition EDITION",
        webUrl=f"https://news.example/{n}",
        originalUrl=...,
        topics=[TOPICS[n % len(TOPICS)], TOPICS[(n // 3) % len(TOPICS)]],
        secured=f"SECRET-{n:06}-c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wdWJsaXNoZWQ",
    )
    return record_text(fields)


def auto_project(root: Path, count: int) -> Path:
    make_config(root, BASE_CONFIG.replace("records: seeds", "records: seeds\nauto: true"))
    write_corpus(root / "seeds", count)
    return root / "config.yaml"


def run(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    """A build in its own process, as cron starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "topicfeeds", "build", "-q", "-c", str(config), "--now", NOW, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def snapshot(feeds: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(feeds.iterdir())}


def complete(name: str, data: bytes) -> None:
    """Fail unless `data` is a whole file of its kind."""
    if name.endswith(".json"):
        json.loads(data)
    elif name.endswith(".html"):
        assert data.endswith(b"</html>\n"), name
    elif not name.endswith(".css"):
        etree.fromstring(data)  # complete XML


@pytest.mark.slow
def test_a_run_killed_at_any_moment_leaves_old_or_new_feeds(tmp_path: Path) -> None:
    """SIGKILL at several moments of a run that changes every feed: each file is
    always the old complete one or the new complete one, and the next run finishes."""
    original = tmp_path / "site"
    original.mkdir()
    # Records enough for a run of a few seconds here, all of it to be killed in; more
    # under TOPICFEEDS_THOROUGH=1, with the moments between.
    records = 3000 if THOROUGH else 1500
    config = auto_project(original, records)
    assert run(config).wait() == 0
    old = snapshot(original / "feeds")
    # The expected new feeds: the same change, built to the end in a copy.
    reference = tmp_path / "reference"
    shutil.copytree(original, reference)
    for root in (original, reference):
        write_corpus(root / "seeds", records, edition=1)
    started = time.monotonic()
    assert run(reference / "config.yaml", "-j", "1").wait() == 0
    duration = time.monotonic() - started
    new = snapshot(reference / "feeds")
    topic_files = [k for k in new if k.endswith((".atom", ".rss", ".json", ".html")) and k != "index.html"]
    assert set(new) == set(old) and all(new[k] != old[k] for k in topic_files)

    # Spread over the run; TOPICFEEDS_THOROUGH=1 also the moments between.
    for fraction in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95) if THOROUGH else (0.05, 0.5, 0.95):
        victim = run(config, "-j", "1")
        time.sleep(duration * fraction)
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
        for name, data in snapshot(original / "feeds").items():
            if name.startswith("."):
                continue  # a temporary file; the next run removes it
            assert data in (old[name], new[name]), f"{name} is neither the old nor the new feed"
            complete(name, data)
    assert run(config).wait() == 0
    assert snapshot(original / "feeds") == new  # no temporary file left either


def test_a_terminated_run_cleans_up_and_releases_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = auto_project(tmp_path, 20)
    real_fsync = os.fsync

    def terminate_while_writing(fd: int) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill` from a shell or a service manager
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", terminate_while_writing)
    with pytest.raises(SystemExit) as stopped:
        main(["build", "-q", "-c", str(config), "--now", NOW])
    assert stopped.value.code == 128 + signal.SIGTERM
    assert list((tmp_path / "feeds").iterdir()) == []  # the temporary file went with the run
    monkeypatch.undo()
    assert main(["build", "-q", "-c", str(config), "--now", NOW]) == 0  # lock released, state consistent
    # Four topics with a feed each in Atom, RSS and JSON and a page, the index,
    # the OPML list and two stylesheets.
    assert len(list((tmp_path / "feeds").iterdir())) == 4 * 4 + 4


@pytest.mark.parametrize("where", ["write", "fsync", "rename"])
def test_a_full_disk_keeps_the_old_feeds_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    config = auto_project(tmp_path, 20)
    assert main(["build", "-q", "-c", str(config), "--now", NOW]) == 0
    old = snapshot(tmp_path / "feeds")
    write_corpus(tmp_path / "seeds", 20, edition=1)

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    if where == "write":
        real_fdopen = os.fdopen

        def full_disk_file(fd: int, mode: str = "r") -> object:
            handle = real_fdopen(fd, mode)
            return type(
                "Full",
                (),
                {
                    "__enter__": lambda self: self,
                    "__exit__": lambda self, *a: handle.close(),
                    "write": no_space,
                    "flush": handle.flush,
                    "fileno": handle.fileno,
                },
            )()

        monkeypatch.setattr(os, "fdopen", full_disk_file)
    else:
        target = {"fsync": (os, "fsync"), "rename": (Path, "replace")}[where]
        monkeypatch.setattr(*target, no_space)
    assert main(["build", "-q", "-c", str(config), "--now", NOW]) == 4
    err = capsys.readouterr().err
    assert f"{tmp_path / 'feeds'}/" in err and "No space left on device" in err
    assert snapshot(tmp_path / "feeds") == old
    monkeypatch.undo()
    assert main(["build", "-q", "-c", str(config), "--now", NOW]) == 0
    assert snapshot(tmp_path / "feeds") != old


def test_an_output_path_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = auto_project(tmp_path, 3)
    (tmp_path / "feeds").rmdir()
    (tmp_path / "feeds").write_text("not a folder", encoding="utf-8")
    assert main(["build", "-c", str(config)]) == 2
    assert "output path is not a folder" in capsys.readouterr().err


def test_an_unwritable_output_folder_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = auto_project(tmp_path, 3)
    # Root ignores permission bits, so the refusal is simulated where it is checked.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == tmp_path / "feeds" else real_access(p, mode)
    )
    assert main(["build", "-c", str(config)]) == 2
    assert "output folder is not writable" in capsys.readouterr().err
    assert list((tmp_path / "feeds").iterdir()) == []


def test_the_build_makes_no_network_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = auto_project(tmp_path, 30)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the build tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    report = build(load_config(config), jobs=1)
    assert report.written > 0


def test_nothing_is_written_outside_the_output_folder_but_the_state(tmp_path: Path) -> None:
    config = auto_project(tmp_path, 30)
    before = {p for p in tmp_path.rglob("*") if "feeds" not in p.parts}
    assert run(config).wait() == 0
    after = {p for p in tmp_path.rglob("*") if "feeds" not in p.parts}
    assert sorted(p.name for p in after - before) == [
        ".topicfeeds-state.sqlite",
        ".topicfeeds-state.sqlite.lock",
    ]
    for feed in (tmp_path / "feeds").iterdir():
        assert feed.stat().st_mode & 0o777 == 0o644


def test_secured_values_never_reach_any_output_byte(tmp_path: Path) -> None:
    config = auto_project(tmp_path, 60)
    assert run(config).wait() == 0
    outputs = [*sorted((tmp_path / "feeds").iterdir()), tmp_path / ".topicfeeds-state.sqlite"]
    assert len(outputs) > 4
    for path in outputs:
        data = path.read_bytes()
        assert b"SECRET-" not in data, path
        assert b"c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wdWJsaXNoZWQ" not in data, path
