"""Feeds published to a bucket on a real S3-compatible server (moto's, on loopback,
through a proxy that counts requests and misbehaves on purpose), driven through the
command line with the real client library."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from topicfeeds.cli import main

from .conftest import BASE_CONFIG, SEEDS, make_config, record_fields, record_text, write_record
from .s3server import S3Server, dummy_credentials, running_s3

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28T00:00:00Z"
BUCKET = "feeds"
PREFIX = "news/"
S3_SETTINGS = """
s3:
  endpoint: {url}
  region: us-east-1
  addressing_style: path
  max_attempts: {attempts}
  cache_control:
    feeds: "public, max-age=60"
    stylesheets: "public, max-age=3600"
"""


@pytest.fixture(scope="module")
def server() -> Iterator[S3Server]:
    with running_s3() as s3:
        yield s3


@pytest.fixture
def s3(server: S3Server, monkeypatch: pytest.MonkeyPatch, no_racy_window: None) -> S3Server:
    """A fresh server with an empty bucket; dummy credentials from the environment.
    Record files written a moment ago are trusted at once (see refresh.RACY_NS)."""
    dummy_credentials(monkeypatch)
    server.reset()
    server.client().create_bucket(Bucket=BUCKET)
    return server


def make_site(root: Path, output: str, s3: S3Server | None = None, attempts: int = 3) -> Path:
    """The shipped config and seeds in `root`, with the output at `output`."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SEEDS, root / "seeds")
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("output: feeds", f"output: {output}", 1)
    if s3 is not None:
        text += S3_SETTINGS.format(url=s3.url, attempts=attempts)
    config = root / "config.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path, *extra: str) -> int:
    return main(["build", "-c", str(config), "--now", NOW, "-j", "1", *extra])


def objects(s3: S3Server) -> dict[str, dict[str, Any]]:
    """Every object under the prefix: its bytes and headers."""
    client = s3.client()
    found = {}
    for item in client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", []):
        got = client.get_object(Bucket=BUCKET, Key=item["Key"])
        found[item["Key"][len(PREFIX) :]] = {
            "body": got["Body"].read(),
            "type": got["ContentType"],
            "cache": got.get("CacheControl"),
        }
    return found


def local_build(root: Path) -> Path:
    config = make_site(root, "feeds")
    (root / "feeds").mkdir()
    assert run(config, "-q") == 0
    return root / "feeds"


def edit_a_record(seeds: Path) -> None:
    first = sorted(seeds.iterdir())[0]
    text = first.read_text(encoding="utf-8")
    first.write_text(text.replace('title: "', 'title: "Edited: ', 1), encoding="utf-8")


def test_a_build_to_a_bucket_holds_the_local_build_with_types_and_caching(
    s3: S3Server, tmp_path: Path
) -> None:
    local = local_build(tmp_path / "local")
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    assert run(config, "-q") == 0
    found = objects(s3)
    expected = {p.name: p.read_bytes() for p in local.iterdir() if p.is_file()}
    assert set(found) == set(expected)
    for name, data in expected.items():
        assert found[name]["body"] == data, name
    types = {".atom": "application/atom+xml", ".rss": "application/rss+xml",
             ".json": "application/feed+json", ".html": "text/html; charset=utf-8",
             ".opml": "text/x-opml; charset=utf-8", ".css": "text/css; charset=utf-8"}  # fmt: skip
    caching = {".atom": "public, max-age=60", ".rss": "public, max-age=60", ".json": "public, max-age=60",
               ".html": "public, max-age=300", ".opml": "public, max-age=300",
               ".css": "public, max-age=3600"}  # fmt: skip
    for name, got in found.items():
        suffix = Path(name).suffix
        assert got["type"] == types[suffix], name
        assert got["cache"] == caching[suffix], name
    assert not (tmp_path / "remote" / "feeds").exists()  # nothing went to a local folder


def test_a_rerun_makes_no_put_and_an_edit_uploads_exactly_what_changed(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    assert run(config, "-q") == 0
    s3.faults.clear()
    assert run(config) == 0
    assert "no changes" in capsys.readouterr().out
    assert s3.faults.count("PUT") == 0
    assert s3.faults.count("GET") == 1  # one listing

    # The same edit in a local build says which files change.
    local = make_site(tmp_path / "local", "feeds")
    (tmp_path / "local" / "feeds").mkdir()
    assert run(local, "-q") == 0
    edit_a_record(tmp_path / "local" / "seeds")
    capsys.readouterr()
    assert run(local, "--json") == 0
    changed = {Path(p).name for p in json.loads(capsys.readouterr().out)["written"]}
    assert changed

    edit_a_record(tmp_path / "remote" / "seeds")
    assert run(config, "--dry-run") == 0
    out = capsys.readouterr().out
    assert s3.faults.count("PUT") == 0
    planned = {
        line.split()[2].rsplit("/", 1)[1] for line in out.splitlines() if line.startswith("would write")
    }
    assert planned == changed
    assert "nothing was changed" in out

    assert run(config, "-q") == 0
    assert {p.rsplit("/", 1)[1] for p in s3.faults.puts()} == changed
    assert (
        objects(s3)[sorted(changed)[0]]["body"]
        == (tmp_path / "local" / "feeds" / sorted(changed)[0]).read_bytes()
    )


def test_an_object_removed_or_replaced_by_someone_else_is_put_back(s3: S3Server, tmp_path: Path) -> None:
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    assert run(config, "-q") == 0
    before = objects(s3)
    client = s3.client()
    client.delete_object(Bucket=BUCKET, Key=f"{PREFIX}ai.atom")
    client.put_object(Bucket=BUCKET, Key=f"{PREFIX}ai.rss", Body=b"defaced")
    s3.faults.clear()
    assert run(config, "-q") == 0
    assert sorted(p.rsplit("/", 1)[1] for p in s3.faults.puts()) == ["ai.atom", "ai.rss"]
    assert {k: v["body"] for k, v in objects(s3).items()} == {k: v["body"] for k, v in before.items()}


def shorter_feed_caching(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('feeds: "public, max-age=60"', 'feeds: "public, max-age=30"'), "utf-8")


def test_a_changed_cache_control_reaches_every_object_once(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An object whose ETag is the MD5 of its bytes was skipped, and the ETag says nothing
    of its Cache-Control: a changed s3.cache_control never reached the objects already
    uploaded, even with --full. Now the next run sends every file again, once."""
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    assert run(config, "-q") == 0
    before = objects(s3)
    shorter_feed_caching(config)
    capsys.readouterr()
    s3.faults.clear()
    assert run(config, "--dry-run") == 0
    planned = [line for line in capsys.readouterr().out.splitlines() if line.startswith("would write")]
    assert len(planned) == len(before) and s3.faults.count("PUT") == 0

    assert run(config, "-q") == 0
    assert sorted(p.rsplit("/", 1)[1] for p in s3.faults.puts()) == sorted(before)
    after = objects(s3)
    assert {k: v["body"] for k, v in after.items()} == {k: v["body"] for k, v in before.items()}
    for name, got in after.items():
        feed = Path(name).suffix in (".atom", ".rss", ".json")
        assert got["cache"] == ("public, max-age=30" if feed else before[name]["cache"]), name

    s3.faults.clear()
    assert run(config) == 0
    assert "no changes" in capsys.readouterr().out
    assert s3.faults.count("PUT") == 0


def test_a_state_that_never_noted_what_was_sent_sends_every_file_once(s3: S3Server, tmp_path: Path) -> None:
    """As a state from before the Cache-Control sent was noted: it cannot tell what the
    objects were sent with, so they are sent once more; a new state, which has sent
    nothing, sends only what is missing or changed."""
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    assert run(config, "-q") == 0
    state = tmp_path / "remote" / ".topicfeeds-state.sqlite"
    with contextlib.closing(sqlite3.connect(state)) as db, db:
        assert db.execute("DELETE FROM meta WHERE key = 'sent'").rowcount == 1
    s3.faults.clear()
    assert run(config, "-q") == 0
    assert len(s3.faults.puts()) == len(objects(s3))
    state.unlink()
    s3.faults.clear()
    assert run(config, "-q") == 0
    assert s3.faults.count("PUT") == 0


def test_a_folder_keeps_the_bytes_alone_and_a_cache_control_change_rewrites_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_racy_window: None
) -> None:
    config = make_site(tmp_path, "feeds")
    settings = S3_SETTINGS.format(url="http://127.0.0.1:9", attempts=1)
    config.write_text(config.read_text(encoding="utf-8") + settings, encoding="utf-8")
    (tmp_path / "feeds").mkdir()
    assert run(config, "-q") == 0
    shorter_feed_caching(config)
    capsys.readouterr()
    assert run(config) == 0
    assert "no changes" in capsys.readouterr().out


@pytest.mark.slow
def test_a_server_that_stops_mid_run_exits_4_and_the_next_run_finishes(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = local_build(tmp_path / "local")
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3, attempts=2)
    s3.faults.stop_after_puts = 5
    assert run(config, "-q") == 4
    err = capsys.readouterr().err
    uploaded = {p.rsplit("/", 1)[1] for p in s3.faults.puts()}
    assert len(uploaded) == 5
    missing = {p.name for p in local.iterdir()} - uploaded
    for name in missing:  # every file not uploaded is named
        assert f"s3://{BUCKET}/{PREFIX}{name}: cannot write: not uploaded" in err
    s3.faults.clear()
    assert run(config, "-q") == 0
    assert {p.rsplit("/", 1)[1] for p in s3.faults.puts()} == missing
    assert {k: v["body"] for k, v in objects(s3).items()} == {p.name: p.read_bytes() for p in local.iterdir()}


@pytest.mark.slow
def test_503_for_a_while_is_retried_with_backoff(s3: S3Server, tmp_path: Path) -> None:
    local = local_build(tmp_path / "local")
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3, attempts=5)
    s3.faults.unavailable = 3
    assert run(config, "-q") == 0
    assert s3.faults.unavailable == 0
    assert {k: v["body"] for k, v in objects(s3).items()} == {p.name: p.read_bytes() for p in local.iterdir()}


def test_a_wrong_credential_is_one_line_exit_2_and_nothing_written(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import settings

    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # the server checks signatures
    s3.faults.clear()
    assert run(config, "-q") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: s3://{BUCKET}/{PREFIX}: cannot list the bucket: InvalidAccessKeyId")
    assert "not-the-secret" not in err
    assert s3.faults.count("PUT") == 0
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
    assert objects(s3) == {}


def test_a_missing_bucket_is_exit_2(s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site(tmp_path / "remote", f"s3://no-such-bucket/{PREFIX}", s3)
    assert run(config, "-q") == 2
    assert "NoSuchBucket" in capsys.readouterr().err


# -- records from a bucket


def upload_seeds(s3: S3Server, folder: Path, prefix: str = "in/") -> None:
    client = s3.client()
    for path in folder.iterdir():
        client.put_object(Bucket="records", Key=prefix + path.name, Body=path.read_bytes())


def records_in_bucket(root: Path, s3: S3Server) -> Path:
    """A site at `root` whose records are the bucket's `records/in/`."""
    config = make_site(root, "feeds", s3)
    config.write_text(
        config.read_text(encoding="utf-8").replace("records: seeds", "records: s3://records/in/", 1),
        encoding="utf-8",
    )
    return config


def feeds_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_records_from_a_bucket_give_the_feeds_a_folder_gives_as_objects_come_and_go(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = local_build(tmp_path / "local")
    s3.client().create_bucket(Bucket="records")
    upload_seeds(s3, tmp_path / "local" / "seeds")
    root = tmp_path / "remote"
    config = records_in_bucket(root, s3)
    (root / "feeds").mkdir()
    shutil.rmtree(root / "seeds")
    assert run(config, "-q") == 0
    assert feeds_of(root / "feeds") == feeds_of(local)

    s3.faults.clear()
    assert run(config) == 0
    assert "no changes" in capsys.readouterr().out
    assert len(s3.faults.requests) == 1  # one listing, no object fetched
    assert s3.faults.requests[0][0] == "GET" and "list-type=2" in s3.faults.requests[0][1]

    # The same changes to the folder and to the bucket: one record edited, one removed,
    # one added in a nested "folder".
    seeds = tmp_path / "local" / "seeds"
    names = sorted(p.name for p in seeds.iterdir())
    edit_a_record(seeds)
    removed = seeds / names[1]
    removed.unlink()
    added = (seeds / names[2]).read_text(encoding="utf-8")
    added = added.replace('title: "', 'title: "Another: ', 1)
    added = added.replace('originalUrl: "', 'originalUrl: "https://elsewhere.example/x', 1)
    (seeds / "zz-added.txt").write_text(added, encoding="utf-8")
    assert run(tmp_path / "local" / "config.yaml", "-q") in (0, 1)
    client = s3.client()
    client.put_object(Bucket="records", Key=f"in/{names[0]}", Body=(seeds / names[0]).read_bytes())
    client.delete_object(Bucket="records", Key=f"in/{names[1]}")
    client.put_object(Bucket="records", Key="in/2026/11/zz-added.txt", Body=added.encode("utf-8"))
    s3.faults.clear()
    assert run(config, "-q") in (0, 1)
    fetched = [p for m, p in s3.faults.requests if m == "GET" and "list-type" not in p]
    assert sorted(fetched) == sorted([f"/records/in/{names[0]}", "/records/in/2026/11/zz-added.txt"])
    assert feeds_of(root / "feeds") == feeds_of(local)


# -- without a server


def test_a_dry_run_to_a_folder_lists_files_and_leaves_no_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path, "feeds")
    (tmp_path / "feeds").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run(config, "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("topicfeeds: dry run: 28 files would be written (")
    assert out[-1].endswith("; nothing was changed")
    assert f"would write {tmp_path / 'feeds' / 'ai.atom'} (" in "\n".join(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no state, no lock file
    assert list((tmp_path / "feeds").iterdir()) == []


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "output: s3://Bad_Bucket/x/",
            "output: 's3://Bad_Bucket/x/' is not an address such as s3://bucket/prefix/",
        ),
        (
            "s3:\n  addressing_style: sideways",
            "s3.addressing_style: 'sideways' is not one of auto, path, virtual",
        ),
        ("s3:\n  cache_control:\n    fonts: x", "s3.cache_control"),
        ("s3:\n  max_attempts: 0", "s3.max_attempts"),
    ],
)
def test_object_storage_settings_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, message: str
) -> None:
    config = make_site(tmp_path, "feeds")
    text = config.read_text(encoding="utf-8")
    if setting.startswith("output:"):
        text = text.replace("output: feeds", setting, 1)
    else:
        text += setting + "\n"
    config.write_text(text, encoding="utf-8")
    assert run(config) == 2
    assert message in capsys.readouterr().err


def test_records_in_dated_subfolders_give_the_feeds_of_a_flat_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_racy_window: None
) -> None:
    flat = local_build(tmp_path / "flat")
    root = tmp_path / "nested"
    config = make_site(root, "feeds")
    config.write_text(config.read_text(encoding="utf-8") + "patterns: ['**/*.txt']\n", encoding="utf-8")
    (root / "feeds").mkdir()
    files = sorted((root / "seeds").iterdir())
    for n, path in enumerate(files[:10]):  # the rest stay at the top
        folder = root / "seeds" / "2026" / "11" / f"{n % 3 + 27}"
        folder.mkdir(parents=True, exist_ok=True)
        path.rename(folder / path.name)
    hidden = root / "seeds" / ".drafts"
    hidden.mkdir()
    (hidden / "x.txt").write_text("not a record", encoding="utf-8")
    assert run(config, "-q") == 0
    assert feeds_of(root / "feeds") == feeds_of(flat)
    # Moved into another dated folder: the same feeds, by a removal and an addition.
    moved = next((root / "seeds" / "2026" / "11" / "27").iterdir())
    moved.rename(root / "seeds" / "2026" / "11" / "28" / moved.name)
    assert run(config, "-q") == 0
    assert feeds_of(root / "feeds") == feeds_of(flat)


# -- removals, when asked for


def no_automatic_topics(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("auto: true", "auto: false", 1), encoding="utf-8")


def without_space_topic(config: Path) -> None:
    """Take the `space` topic (the last one) out of the configuration; no automatic
    topic takes its place."""
    text = config.read_text(encoding="utf-8")
    head, tail = text.split("\n  space:\n", 1)
    rest = tail.split("\ns3:\n", 1)
    text = head + "\n" + ("\ns3:\n" + rest[1] if len(rest) == 2 else "")
    config.write_text(text.replace("auto: true", "auto: false", 1), encoding="utf-8")


SPACE_FILES = ["space.atom", "space.html", "space.json", "space.rss"]


def test_a_removed_topic_s_objects_go_only_when_asked_listed_first_and_capped(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    no_automatic_topics(config)
    assert run(config, "-q") == 0
    client = s3.client()
    # Objects this program did not write, under the prefix and beside it.
    client.put_object(Bucket=BUCKET, Key=f"{PREFIX}space.png", Body=b"an image")
    client.put_object(Bucket=BUCKET, Key=f"{PREFIX}archive/space.atom", Body=b"kept by hand")
    client.put_object(Bucket=BUCKET, Key="space.atom", Body=b"another site's")
    without_space_topic(config)
    names = objects(s3).keys()

    # By default nothing is deleted: subscribers never meet a 404.
    s3.faults.clear()
    capsys.readouterr()
    assert run(config, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["removed"] == [] and summary["removals_refused"] is None
    assert summary["kept"] == [f"s3://{BUCKET}/{PREFIX}{n}" for n in SPACE_FILES]
    assert s3.faults.count("DELETE") == 0
    before = objects(s3)
    assert before.keys() == names

    # A dry run lists what would go, and deletes nothing.
    assert run(config, "--delete", "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [f"would remove s3://{BUCKET}/{PREFIX}{n}" for n in SPACE_FILES]
    assert out[-1] == (
        "topicfeeds: dry run: 0 files would be written (0 bytes), 4 removed; nothing was changed"
    )
    assert s3.faults.count("DELETE") == 0

    # Over the cap: nothing deleted, said so, status 5; the rest is published.
    assert run(config, "--delete", "--max-deletes", "3") == 5
    captured = capsys.readouterr()
    assert captured.err == (
        "error: 4 files to remove, more than max_deletes (3); none was removed; "
        "raise max_deletes (--max-deletes) if that is intended\n"
    )
    assert s3.faults.count("DELETE") == 0
    assert objects(s3).keys() == before.keys()
    assert run(config, "--delete", "--max-deletes", "3", "-q") == 5  # every run, until resolved

    # Asked for: the removed topic's four objects go, each listed; nothing else is touched.
    s3.faults.clear()
    assert run(config, "--delete") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [f"removed s3://{BUCKET}/{PREFIX}{n}" for n in SPACE_FILES]
    assert out[-1].endswith("; 4 removed")
    assert sorted(p for m, p in s3.faults.requests if m == "DELETE") == [
        f"/{BUCKET}/{PREFIX}{n}" for n in SPACE_FILES
    ]
    after = objects(s3)
    assert after.keys() == before.keys() - set(SPACE_FILES)
    assert {k: v["body"] for k, v in after.items()} == {k: before[k]["body"] for k in after}
    assert client.get_object(Bucket=BUCKET, Key="space.atom")["Body"].read() == b"another site's"
    # Then nothing is left to do.
    s3.faults.clear()
    assert run(config, "--delete") == 0
    assert "no changes" in capsys.readouterr().out
    assert [m for m, _ in s3.faults.requests] == ["GET"]


def test_a_format_turned_off_goes_when_deletions_are_on_but_not_an_object_someone_replaced(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "delete: true\n", encoding="utf-8")
    assert run(config, "-q") == 0
    pages = sorted(n for n in objects(s3) if n.endswith((".html", "style.css")))
    assert "index.html" in pages and "style.css" in pages
    s3.client().put_object(Bucket=BUCKET, Key=f"{PREFIX}ai.html", Body=b"someone else's page")
    config.write_text(text.replace("formats: [atom, rss, json, html]", "formats: [atom, rss, json]", 1)
                      + "delete: true\n", encoding="utf-8")  # fmt: skip
    capsys.readouterr()
    assert run(config, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["removed"] == [f"s3://{BUCKET}/{PREFIX}{n}" for n in pages if n != "ai.html"]
    left = objects(s3)
    assert left["ai.html"]["body"] == b"someone else's page"  # not ours any more
    assert not [n for n in left if n.endswith((".html", ".css")) and n not in ("ai.html", "feed.css")]


def test_a_delete_that_is_refused_is_status_4_and_the_next_run_retries_it(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    no_automatic_topics(config)
    assert run(config, "-q") == 0
    without_space_topic(config)
    s3.faults.forbidden = frozenset({"DELETE"})  # credentials without s3:DeleteObject
    assert run(config, "-q", "--delete") == 4
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"error: s3://{BUCKET}/{PREFIX}{n}: cannot remove: AccessDenied (HTTP 403): Access Denied"
        for n in SPACE_FILES
    ]
    assert set(SPACE_FILES) <= objects(s3).keys()
    s3.faults.clear()
    assert run(config, "-q", "--delete") == 0
    assert not set(SPACE_FILES) & objects(s3).keys()
    assert s3.faults.count("DELETE") == 4


def test_the_listing_reads_every_key_and_stamp_as_the_client_library_would(s3: S3Server) -> None:
    import concurrent.futures

    from topicfeeds import s3 as storage
    from topicfeeds.config import BucketUrl, S3Settings

    client = s3.client()
    client.create_bucket(Bucket="records")
    odd = ["a b.txt", "a+b.txt", "R&D <draft>.txt", "café/ü.txt", "100%.txt", "2026/11/29/n.txt", "q?x=1.txt"]
    names = odd + [f"many/{n:04d}.txt" for n in range(1001)]  # two listing pages
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: client.put_object(Bucket="records", Key=f"in/{n}", Body=n.encode()), names))
    client.put_object(Bucket="records", Key="elsewhere/a b.txt", Body=b"not below the prefix")
    settings = S3Settings(endpoint=s3.url, region="us-east-1", addressing="path")
    got = list(storage.listed(storage.client(settings), BucketUrl("records", "in/")))
    expected = [
        storage.Listed(
            item["Key"][3:],
            item["Size"],
            storage.etag_number(item["ETag"]),
            int(item["LastModified"].timestamp() * 1_000_000) * 1000,
        )
        for page in client.get_paginator("list_objects_v2").paginate(Bucket="records", Prefix="in/")
        for item in page["Contents"]
    ]
    assert got == expected
    assert sorted(item.name for item in got) == sorted(names)
    assert all(item.etag >= 0 and item.size > 0 for item in got)
    # Read by the program, not by the client library's parser.
    page = storage.client(settings).list_objects_v2(Bucket="records", Prefix="in/a")
    lean = page[storage._LEAN]  # type: ignore[literal-required]
    assert "Contents" not in page and [row[0] for row in lean] == ["in/a b.txt", "in/a+b.txt"]


def test_explain_reads_a_record_from_the_records_bucket_as_from_a_folder(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = make_site(tmp_path / "local", "feeds")
    (tmp_path / "local" / "feeds").mkdir()
    s3.client().create_bucket(Bucket="records")
    upload_seeds(s3, tmp_path / "local" / "seeds")
    root = tmp_path / "remote"
    config = records_in_bucket(root, s3)
    shutil.rmtree(root / "seeds")
    name = sorted(p.name for p in (tmp_path / "local" / "seeds").iterdir())[0]
    explain = ["explain", "--now", NOW, "-c"]

    assert main([*explain, str(local), str(tmp_path / "local" / "seeds" / name)]) == 0
    expected = capsys.readouterr().out.splitlines()
    assert main([*explain, str(config), f"s3://records/in/{name}"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == expected[0].replace(str(tmp_path / "local" / "seeds") + "/", "s3://records/in/")
    assert out[1:] == expected[1:]
    assert "selected: entry" in "\n".join(out)

    # A draft on this machine is explained against the bucket's records.
    draft = tmp_path / "draft.txt"
    draft.write_bytes((tmp_path / "local" / "seeds" / name).read_bytes())
    assert main([*explain, str(config), str(draft)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{draft}: ") and len(out) == len(expected)
    assert "not used: the same article as s3://records/in/" in "\n".join(out)  # a second copy

    assert main([*explain, str(config), "s3://records/elsewhere/x.txt"]) == 1
    assert capsys.readouterr().err == (
        "error: s3://records/elsewhere/x.txt: not an object under the records address s3://records/in/\n"
    )
    assert main([*explain, str(config), "s3://records/in/missing.txt"]) == 1
    assert "s3://records/in/missing.txt: cannot read: NoSuchKey" in capsys.readouterr().err


def test_a_retired_topic_s_objects_leave_the_bucket(s3: S3Server, tmp_path: Path) -> None:
    config = make_site(tmp_path / "remote", f"s3://{BUCKET}/{PREFIX}", s3)
    seeds = tmp_path / "remote" / "seeds"
    write_record(seeds, "zz-story.txt", topics=["Energy", "Old Story"])
    assert run(config, "-q") == 0
    old = [f"old-story{suffix}" for suffix in (".atom", ".html", ".json", ".rss")]
    assert set(old) <= objects(s3).keys()
    write_record(seeds, "zz-story.txt", topics=["Energy"])
    assert run(config, "-q") == 0
    assert set(old) <= objects(s3).keys()  # kept: subscribers never meet a 404
    config.write_text(config.read_text(encoding="utf-8") + "retire: [old-story]\n", encoding="utf-8")
    s3.faults.clear()
    assert run(config, "-q") == 0
    assert not set(old) & objects(s3).keys()
    assert sorted(p.rsplit("/", 1)[1] for m, p in s3.faults.requests if m == "DELETE") == old


def test_archive_pages_in_the_bucket_are_read_back_after_the_state_was_lost(
    s3: S3Server, tmp_path: Path
) -> None:
    """The pages say which entries they hold: selected again, those are not shown again,
    nor sealed a second time in a later page."""
    text = (
        BASE_CONFIG.replace("output: feeds", f"output: s3://{BUCKET}/{PREFIX}")
        + "    limit: 2\n    archive: true\n"
    )
    config = make_config(tmp_path, text + S3_SETTINGS.format(url=s3.url, attempts=3)).path
    seeds = tmp_path / "seeds"

    def story(n: int) -> None:
        when = f"2026-11-1{n}T08:00:00Z"
        write_record(seeds, f"{n}.txt", title=f"Story {n}", webUrl=f"https://news.example/{n}",
                     originalUrl=..., publishedDateTime=when, related=[])  # fmt: skip

    for n in range(7):  # pages 1 (stories 0, 1) and 2 (2, 3); 4 waits in the log
        story(n)
        assert run(config, "-q") == 0
    pages = {k: v for k, v in objects(s3).items() if ".archive-" in k}
    assert sorted(pages) == ["energy.archive-1.atom", "energy.archive-2.atom"]
    (tmp_path / ".topicfeeds-state.sqlite").unlink()
    for n in (4, 5, 6):  # withdrawn: 3 and 2, in page 2, are selected again
        (seeds / f"{n}.txt").unlink()
    s3.faults.clear()
    assert run(config, "-q") == 0
    read_back = sorted(path for method, path in s3.faults.requests if method == "GET" and ".archive-" in path)
    for n in (7, 8, 9):
        story(n)
        assert run(config, "-q") == 0
    after = {k: v for k, v in objects(s3).items() if ".archive-" in k}
    assert sorted(after) == sorted(pages) and all(after[k] == pages[k] for k in pages)  # none sealed again
    feed = objects(s3)["energy.atom"]["body"]
    assert b"https://news.example/3" not in feed and b"https://news.example/9" in feed
    assert read_back == [f"/{BUCKET}/{PREFIX}energy.archive-{n}.atom" for n in (1, 2)]  # one GET a page


AWS_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>records</Name><Prefix>in/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Contents>
    <Key>in/R%26D+%3Cdraft%3E.txt</Key>
    <LastModified>2026-11-29T09:09:36.000Z</LastModified>
    <ETag>&quot;e6a1da9ba8f710a7ca6aef463447786a&quot;</ETag>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>
    <Size>2933</Size><Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>in/caf%C3%A9.txt</Key><LastModified>2026-11-29T09:09:37.500Z</LastModified>
    <ETag>"0123456789abcdef0123456789abcdef-2"</ETag><Size>7</Size>
  </Contents>
  <NextContinuationToken>token</NextContinuationToken>
</ListBucketResult>"""
AWS_ROWS = [
    ("in/R&D <draft>.txt", 2933, 0xE6A1DA9BA8F710A, 1795943376000000000),
    ("in/café.txt", 7, -1, 1795943377500000000),  # a multipart upload's ETag: never matches
]


@pytest.mark.parametrize(
    "body",
    [
        AWS_PAGE,
        # Another order of the fields: read with ElementTree instead.
        AWS_PAGE.replace(b"<Size>7</Size>", b"").replace(b"<Key>in/caf", b"<Size>7</Size><Key>in/caf"),
        # Keys not url-encoded: XML escapes instead.
        AWS_PAGE.replace(b"<EncodingType>url</EncodingType>", b"")
        .replace(b"in/R%26D+%3Cdraft%3E.txt", b"in/R&amp;D &lt;draft&gt;.txt")
        .replace(b"in/caf%C3%A9.txt", "in/café.txt".encode()),
    ],
)
def test_a_listing_page_is_read_as_the_client_library_would(body: bytes) -> None:
    from topicfeeds import s3 as storage

    response = {"status_code": 200, "body": body}
    extra: dict[str, Any] = {}
    storage._lean_listing(response, extra)
    assert extra[storage._LEAN] == AWS_ROWS
    assert b"<Contents>" not in response["body"]
    assert b"<NextContinuationToken>token</NextContinuationToken>" in response["body"]
    # An error answer is left to the client library.
    error = {"status_code": 403, "body": b"<Error><Code>AccessDenied</Code></Error>"}
    storage._lean_listing(error, extra := {})
    assert extra == {} and error["body"].startswith(b"<Error>")


def test_record_keys_that_start_with_a_slash_below_the_prefix_are_records_like_any_other(
    s3: S3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`in//lead.txt` names the record `/lead.txt` below the prefix `in/`: its name is
    text like any other, stored, read back and explained, never taken for a hex form."""
    local = make_site(tmp_path / "local", "feeds")
    seeds = tmp_path / "local" / "seeds"
    (tmp_path / "local" / "feeds").mkdir()
    s3.client().create_bucket(Bucket="records")
    upload_seeds(s3, seeds)
    config = records_in_bucket(tmp_path / "remote", s3)
    (tmp_path / "remote" / "feeds").mkdir()
    shutil.rmtree(tmp_path / "remote" / "seeds")
    odd = {"in//lead.txt": ("Lead", "lead.txt"), "in///deep.txt": ("Deep", "deep.txt"),
           "in//c0ffee/x.txt": ("Coffee", "c0ffee.txt")}  # fmt: skip
    client = s3.client()
    for key, (title, name) in odd.items():
        fields = record_fields(title=f"{title} story", webUrl=f"https://news.example/{name}", originalUrl=...,
                               topics=["AI"], publishedDateTime="2026-11-27T08:00:00Z")  # fmt: skip
        (seeds / name).write_text(record_text(fields), encoding="utf-8")
        client.put_object(Bucket="records", Key=key, Body=record_text(fields).encode("utf-8"))
    assert run(local, "-q") == 0

    # As cron runs it: every record read, no traceback.
    command = [sys.executable, "-m", "topicfeeds"]
    built = subprocess.run([*command, "build", "-q", "-c", str(config), "--now", NOW], capture_output=True,
                           text=True, check=False, timeout=120)  # fmt: skip
    assert (built.returncode, built.stderr) == (0, "")
    assert feeds_of(tmp_path / "remote" / "feeds") == feeds_of(tmp_path / "local" / "feeds")
    explained = subprocess.run([*command, "explain", "-c", str(config), "--now", NOW, "s3://records/in//lead.txt"],
                               capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert (explained.returncode, explained.stderr) == (0, "")
    assert explained.stdout.startswith("s3://records/in//lead.txt: Lead story\n")
    assert "selected: entry" in explained.stdout

    # Their names come back from the state as they went in: once settled, nothing to do.
    assert run(config, "-q") == 0
    capsys.readouterr()
    assert run(config) == 0
    assert "no changes" in capsys.readouterr().out
    client.delete_object(Bucket="records", Key="in//lead.txt")
    (seeds / "lead.txt").unlink()
    assert run(local, "-q") == 0
    assert run(config, "-q") == 0
    assert feeds_of(tmp_path / "remote" / "feeds") == feeds_of(tmp_path / "local" / "feeds")
