"""`build` and `watch` with a CDN: the changed files purged after they are in place and
before any hub is told, the pings held while a purge fails, and nothing different
without `cdn:`.

The CDN is Debian's Varnish with the shipped deploy/varnish.vcl (five minutes' TTL) in
front of nginx with deploy/nginx.conf serving the output; the hub is a loopback WebSub
hub that, on each ping, fetches the topic URL through Varnish and records the bytes it
got. Under CI=true a missing program fails."""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from topicfeeds.config import load_config
from topicfeeds.notify.cdn import PurgeResult
from topicfeeds.notify.purges import purge_urls
from topicfeeds.pipeline.run import build as build_in_process
from topicfeeds.pipeline.run import fingerprint, tell_hubs
from topicfeeds.store import StateStore

from .cdnpeers import (
    Request,
    build,
    get,
    make_site,
    peer,
    refused_url,
    reply,
    running_nginx,
    running_varnish,
    story,
)
from .test_cdn_varnish import READER, running_hub
from .test_watch import Watch, no_watch_left_behind  # noqa: F401 - a fixture

FEEDS = ("energy.atom", "energy.json", "energy.rss")  # the files hubs are told of


@dataclass(frozen=True)
class Edge:
    """Varnish on `port` in front of nginx serving `folder`; each test publishes into a
    folder of its own below it."""

    folder: Path
    port: int


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    # Outside pytest's private temporary folder: nginx's workers must read the files.
    folder = Path(tempfile.mkdtemp(prefix="topicfeeds-cdn-build-"))
    folder.chmod(0o755)
    try:
        with running_nginx(folder) as origin, running_varnish(origin) as port:
            yield Edge(folder, port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Site:
    """A site whose output `edge` serves at `base`."""

    config: Path
    output: Path
    base: str  # its base_url, through Varnish
    port: int  # Varnish's

    def edit(self, title: str) -> None:
        (self.config.parent / "seeds" / "1.txt").write_text(story(title), encoding="utf-8")

    def through_varnish(self, name: str) -> bytes:
        status, body = get(self.port, f"/{self.output.name}/{name}", accept=READER)
        assert status == 200
        return body


def site(tmp_path: Path, edge: Edge, hub: str, cdn: str | None) -> Site:
    output = edge.folder / tmp_path.name
    output.mkdir()
    base = f"http://127.0.0.1:{edge.port}/{output.name}/"
    config = make_site(tmp_path, hub=hub, cdn=cdn, base_url=base, output=output)
    return Site(config, output, base, edge.port)


def topicfeeds(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "topicfeeds", *args], capture_output=True, text=True, timeout=60, check=True
    )


def varnish(edge: Edge) -> str:
    return f"{{kind: http, endpoint: 'http://127.0.0.1:{edge.port}'}}"


def shown(data: bytes) -> str:
    """Bytes as the hub got them, in a few characters: length and digest."""
    return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]}"


def written_names(out: dict[str, object]) -> set[str]:
    written = out["written"]
    assert isinstance(written, list)
    return {Path(p).name for p in written}


@pytest.mark.slow
def test_without_a_cdn_the_hub_gets_the_bytes_varnish_cached_before_the_edit(
    tmp_path: Path, edge: Edge, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_hub() as (hub, got):
        s = site(tmp_path, edge, hub, cdn=None)
        first = build(s.config)
        assert first["status"] == 0 and first["pings"] == {"sent": 3, "waiting": 0}
        assert "purge" not in first  # without cdn: the summary is as it was
        old = (s.output / "energy.atom").read_bytes()
        assert dict(got)[f"{s.base}energy.atom"] == old  # the hub's fetch filled Varnish
        got.clear()
        s.edit("Batteries, revised")
        second = build(s.config)
        assert second["status"] == 0 and second["pings"] == {"sent": 3, "waiting": 0}
    new = (s.output / "energy.atom").read_bytes()
    fetched = dict(got)[f"{s.base}energy.atom"]
    # The push WebSub promises does not happen: told of the change, the hub saw none.
    assert fetched == old != new
    with capsys.disabled():
        print(f"\nno cdn: on disk {shown(new)}; the hub got {shown(fetched)} (the old copy)")


@pytest.mark.slow
def test_with_a_cdn_the_hub_gets_the_new_bytes_after_every_edit(
    tmp_path: Path, edge: Edge, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_hub() as (hub, got):
        s = site(tmp_path, edge, hub, cdn=varnish(edge))
        first = build(s.config)
        assert first["status"] == 0 and first["pings"] == {"sent": 3, "waiting": 0}
        seen = []
        for n in range(1, 4):
            got.clear()
            cached = s.through_varnish("energy.atom")
            assert cached == (s.output / "energy.atom").read_bytes()
            s.edit(f"Batteries, take {n}")
            out = build(s.config)
            assert out["status"] == 0, out["stderr"]
            assert out["pings"] == {"sent": 3, "waiting": 0}
            # Every changed file is purged (the page too), not only the feeds hubs hear of.
            assert written_names(out) >= {*FEEDS, "energy.html"}
            purged = len(purge_urls(load_config(s.config).site, written_names(out)))
            assert out["purge"] == {"purged": purged, "waiting": 0, "in_time": True}
            for name in FEEDS:
                assert dict(got)[f"{s.base}{name}"] == (s.output / name).read_bytes(), name
            fetched = dict(got)[f"{s.base}energy.atom"]
            assert f"take {n}".encode() in fetched and cached != fetched
            seen.append(f"cached {shown(cached)}, the hub got {shown(fetched)}")
            assert s.through_varnish("energy.html") == (s.output / "energy.html").read_bytes()
    with capsys.disabled():
        print("\nwith cdn, edit by edit (the hub's bytes are the new file's each time):", *seen, sep="\n  ")


@pytest.mark.slow
def test_a_purge_endpoint_that_is_down_holds_the_pings_with_a_warning_and_the_next_run_sends_them(
    tmp_path: Path, edge: Edge
) -> None:
    with running_hub() as (hub, got):
        s = site(tmp_path, edge, hub, cdn=varnish(edge))
        assert build(s.config)["status"] == 0
        old = s.through_varnish("energy.atom")
        text = s.config.read_text(encoding="utf-8")
        s.config.write_text(text.replace(f"http://127.0.0.1:{edge.port}'", f"{refused_url()}'"), "utf-8")
        got.clear()
        s.edit("Batteries, revised")
        down = build(s.config)
        assert down["status"] == 0  # as with a hub that is down: the files are in place
        assert down["pings"] == {"sent": 0, "waiting": 3}
        assert down["purge"]["purged"] == 0 and down["purge"]["waiting"] == len(
            purge_urls(load_config(s.config).site, written_names(down))
        )
        [warning] = down["warnings"]
        assert warning.startswith(f"{s.config}: cdn: not purged: ")
        assert warning.endswith(": connection refused; their pings wait until a later try purges them")
        assert f"warning: {warning}" in down["stderr"]
        assert got == []  # no hub heard of a feed Varnish still holds
        assert s.through_varnish("energy.atom") == old  # as it does
        # Again down: still held, and still reported.
        again = build(s.config)
        assert again["pings"] == {"sent": 0, "waiting": 3} and got == [] and again["warnings"] == [warning]
        s.config.write_text(text, "utf-8")  # back up
        back = build(s.config)
        assert back["status"] == 0 and back["written"] == []
        assert back["pings"] == {"sent": 3, "waiting": 0}
        assert back["purge"] == {
            "purged": down["purge"]["waiting"],
            "waiting": 0,
            "in_time": True,
        }
        new = (s.output / "energy.atom").read_bytes()
        assert dict(got)[f"{s.base}energy.atom"] == new != old
        assert build(s.config)["purge"] == {"purged": 0, "waiting": 0, "in_time": True}


@pytest.mark.slow
def test_watch_purges_before_it_pings_and_tries_again_after_a_failed_purge(
    tmp_path: Path, edge: Edge
) -> None:
    passing = [False]

    def cache(request: Request, conn: socket.socket) -> None:
        """The purge endpoint: down (503) until told otherwise, then Varnish itself."""
        reply(purge_through(edge.port, request) if passing[0] else 503)(request, conn)

    with running_hub() as (hub, got), peer(cache) as endpoint:
        s = site(tmp_path, edge, hub, cdn=f"{{kind: http, endpoint: '{endpoint.url}'}}")
        running = Watch(s.config.parent, "--json")
        try:
            running.wait_for_lines(2)  # the start, and the hubs' round: purge refused, pings held
            hubs = next(line for line in running.json_lines() if line["reason"] == "hubs")
            assert hubs["pings"] == {"sent": 0, "waiting": 3} and got == []
            assert hubs["purge"]["purged"] == 0 and hubs["purge"]["waiting"] > 0
            assert "not purged: " in hubs["warnings"][0] and ": HTTP 503; " in hubs["warnings"][0]
            passing[0] = True
            # Tried again a few seconds later without a run: purged, then the pings sent.
            deadline = time.monotonic() + 30
            while running.json_lines()[-1]["pings"]["sent"] == 0:
                assert time.monotonic() < deadline, running.lines
                time.sleep(0.05)
            again = running.json_lines()[-1]
            assert again["reason"] == "hubs", again
            assert again["pings"] == {"sent": 3, "waiting": 0} and len(got) == 3
            for n in range(1, 3):
                lines = len(running.lines)
                got.clear()
                assert s.through_varnish("energy.atom") == (s.output / "energy.atom").read_bytes()
                s.edit(f"Batteries, take {n}")
                running.wait_for_lines(lines + 2)  # the run, then the hubs' round
                deadline = time.monotonic() + 10
                while len(got) < 3 and time.monotonic() < deadline:
                    time.sleep(0.02)
                fetched = dict(got)[f"{s.base}energy.atom"]
                assert f"take {n}".encode() in fetched and fetched == (s.output / "energy.atom").read_bytes()
        finally:
            assert running.stop() == 0


def purge_through(port: int, request: Request) -> int:
    """Pass a PURGE on to Varnish on `port`, as the test's endpoint does once it is up;
    Varnish's status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("PURGE", request.target, headers={"Host": request.headers.get("host", "")})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


# -- without Varnish: what is noted, and when


def test_a_run_notes_its_purges_with_its_pings_and_a_later_run_makes_them(tmp_path: Path) -> None:
    with peer(reply(200)) as cache, peer(reply(202)) as hub:
        config_path = make_site(tmp_path, hub=hub.url, cdn="{kind: http}", base_url=f"{cache.url}/")
        config = load_config(config_path)
        # A run that ends before telling anyone (hubs=False stands for one that died then).
        report = build_in_process(config, hubs=False)
        assert report.purge is None and cache.requests == [] and hub.requests == []
        store, _ = StateStore.open(config.state_path)
        try:
            noted = store.noted_purges()
            assert sorted(noted) == purge_urls(config.site, [Path(p).name for p in report.written_files])
            assert len({change for _, change in noted.values()}) == 1  # one run, one change
            assert sorted(u for urls in store.pings().values() for u in urls) == [
                f"{cache.url}/{n}" for n in FEEDS
            ]
        finally:
            store.close()
        # `topics` says what waits, as the last run left it.
        listed = json.loads(topicfeeds("topics", "--json", "-c", str(config_path)).stdout)
        assert listed["warnings"] == [
            f"{config_path}: cdn: {len(noted)} URLs not yet purged; their pings wait for the next run",
            f"{config_path}: site.hubs: 3 pings wait for the next run",
        ]
        out = build(config_path)  # nothing changed since: only the telling is left
        assert out["status"] == 0 and out["written"] == []
        assert out["purge"]["purged"] == len(noted) and out["pings"] == {"sent": 3, "waiting": 0}
    assert sorted(r.target for r in cache.requests) == sorted(u.removeprefix(cache.url) for u in noted)
    assert {r.method for r in cache.requests} == {"PURGE"}
    assert "/" in {r.target for r in cache.requests}  # the index's folder serves index.html too


def test_a_removed_file_is_purged_too(tmp_path: Path) -> None:
    with peer(reply(200)) as cache:
        config_path = make_site(tmp_path, hub=None, cdn="{kind: http}", base_url=f"{cache.url}/")
        text = config_path.read_text(encoding="utf-8") + "delete: true\n"
        energy = "    match: [Energy]\n"
        config_path.write_text(text.replace(energy, energy + "  space:\n    match: [Space]\n"), "utf-8")
        assert build(config_path)["status"] == 0
        cache.requests.clear()
        config_path.write_text(text, encoding="utf-8")  # the space topic goes
        out = build(config_path)
        assert out["status"] == 0 and len(out["removed"]) == 4
    targets = {r.target for r in cache.requests}
    assert {f"/space.{s}" for s in ("atom", "rss", "json", "html")} <= targets
    assert {"/index.html", "/", "/topics.opml"} <= targets  # the site files that list topics


def test_a_cdn_setting_changes_no_fingerprint_and_its_problems_name_their_lines(tmp_path: Path) -> None:
    plain = load_config(make_site(tmp_path, hub=None, cdn=None))
    with_cdn = load_config(
        make_site(tmp_path, hub=None, cdn="{kind: http, endpoint: 'http://127.0.0.1:6081'}")
    )
    assert with_cdn.cdn is not None and fingerprint(plain) == fingerprint(with_cdn)
    broken = (tmp_path / "config.yaml").read_text(encoding="utf-8").split("cdn:")[0]
    (tmp_path / "config.yaml").write_text(broken + "cdn:\n  kind: cloudfront\n  zone: abc\n", "utf-8")
    out = build(tmp_path / "config.yaml")
    assert out["status"] == 2
    assert out["errors"] == [
        f"{tmp_path}/config.yaml:14: cdn.distribution: missing; a distribution's id, such as E2QWRUHAPOMQZL",
        f"{tmp_path}/config.yaml:16: cdn.zone: not a setting of kind cloudfront; its settings: kind, "
        "timeout, distribution, endpoint, per_invalidation",
    ]


def test_a_dry_run_purges_nothing_and_notes_nothing(tmp_path: Path) -> None:
    with peer(reply(200)) as cache, peer(reply(202)) as hub:
        config_path = make_site(tmp_path, hub=hub.url, cdn="{kind: http}", base_url=f"{cache.url}/")
        dry = build(config_path, None, "--dry-run")
        assert dry["status"] == 0 and "purge" not in dry
        assert cache.requests == [] and hub.requests == []
        out = build(config_path)  # the real run purges what it changed, all of it
        assert out["purge"]["purged"] > 0 and cache.requests
        cache.requests.clear()
        (tmp_path / "seeds" / "1.txt").write_text(story("Batteries, revised"), encoding="utf-8")
        again = build(config_path, None, "--dry-run")
        assert "purge" not in again and cache.requests == [] and len(hub.requests) == 3
    store, _ = StateStore.open(load_config(config_path).state_path)
    try:
        assert store.noted_purges() == {}  # the dry run's noting was rolled back with it
    finally:
        store.close()


def test_a_ping_noted_once_the_cdn_has_purged_waits_for_its_own_purge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with peer(reply(202)) as hub:
        config = load_config(make_site(tmp_path, hub=hub.url, cdn="{kind: http}"))
        early, late = (f"{config.site.base_url}energy.{suffix}" for suffix in ("atom", "rss"))
        to = config.site.hubs[0].url
        store, _ = StateStore.open(config.state_path)
        purged: list[str] = []

        class Purger:
            def purge(self, urls: Sequence[str], deadline: float, *, change: object = None) -> PurgeResult:
                purged.extend(urls)
                return PurgeResult(tuple(urls), (), True)

        noted_pings = store.noted_pings

        def a_run_commits_first() -> dict[str, dict[str, int]]:
            """A run that notes a change of its own (ping and purge at once) just as the
            hubs are about to be told, after the CDN was."""
            if purged and late not in purged and not store.noted_purges().get(late):
                store.add_pings(to, [late])
                store.add_purges([late], "a run meanwhile")
            return noted_pings()

        monkeypatch.setattr(store, "noted_pings", a_run_commits_first)
        try:
            store.add_pings(to, [early])
            store.add_purges([early], "a run")
            told = tell_hubs(config, store, Purger())
            assert (told.sent, told.waiting) == (1, 1)  # the late feed's old copy may be in the CDN
            assert store.noted_purges().keys() == {late} and store.pings() == {to: [late]}
        finally:
            store.close()
    assert [r.body for r in hub.requests] == [b"hub.mode=publish&hub.url=" + quote(early, safe="").encode()]
