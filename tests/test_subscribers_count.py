"""Counting subscribers from hits: the rules, on values in memory."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from topicfeeds.subscribers import Feed, FeedPaths, Hit, ServiceCount, Tally, feed_paths

from .conftest import BASE_CONFIG, make_config

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)
FEEDBIN = "Feedbin feed-id:{id} - {n} subscribers"
FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; )"
NEWSBOAT = "newsboat/2.36.0 (Linux x86_64)"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
PATHS = FeedPaths(["/feeds/"], {"energy": ("atom", "rss", "json"), "quiet": ("atom",)})


def hit(
    hours: float, path: str, agent: str, address: str = "203.0.113.1", status: int = 200, method: str = "GET"
) -> Hit:
    return Hit(DAY + timedelta(hours=hours), address, method, path, status, agent)


def tally(*hits: Hit) -> Tally:
    counting = Tally(PATHS)
    for h in hits:
        counting.add(h)
    return counting


def test_a_days_fetches_count_the_latest_number_once_per_feed_id() -> None:
    counts = tally(
        hit(1, "/feeds/energy.atom", FEEDBIN.format(id=1, n=100)),
        hit(2, "/feeds/energy.atom", FEEDBIN.format(id=1, n=102)),
        hit(3, "/feeds/energy.atom", FEEDBIN.format(id=2, n=7)),
        # Logs are not always in order (CloudFront's are not): the latest is by time.
        hit(0.5, "/feeds/energy.atom", FEEDBIN.format(id=1, n=90)),
        hit(4, "/feeds/energy.atom", FEEDLY.format(n=460)),
        hit(5, "/feeds/energy.atom", FEEDLY.format(n=462)),
        hit(6, "/feeds/energy.atom", FEEDLY.format(n=461), address="203.0.113.99"),
    ).counts()
    [energy] = [t for t in counts.topics if t.topic == "energy"]
    [day] = energy.feeds[0].days
    assert day.services == (
        ServiceCount("aggregator", "Feedly", 461, 0),
        ServiceCount("aggregator", "Feedbin", 109, 2),
    )
    assert (day.aggregators, day.hubs, day.readers, day.subscribers) == (570, 0, 0, 570)


def test_a_service_without_a_count_counts_once_unless_it_gave_one() -> None:
    plain = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)"
    counts = tally(
        hit(1, "/feeds/energy.atom", plain),
        hit(2, "/feeds/energy.atom", plain),
        hit(1, "/feeds/energy.rss", FEEDLY.format(n=5)),
        hit(2, "/feeds/energy.rss", plain),  # later, but says nothing: the 5 stands
    ).counts()
    [energy] = [t for t in counts.topics if t.topic == "energy"]
    assert [f.days[0].aggregators for f in energy.feeds] == [1, 5, 0]


def test_direct_readers_are_distinct_addresses_and_agents() -> None:
    counts = tally(
        hit(1, "/feeds/energy.atom", NEWSBOAT),
        hit(2, "/feeds/energy.atom", NEWSBOAT, status=304),
        hit(3, "/feeds/energy.atom", NEWSBOAT, address="198.51.100.2"),
        hit(3, "/feeds/energy.atom", "NetNewsWire (RSS Reader; https://netnewswire.com/)"),
        hit(4, "/feeds/energy.atom", CHROME),  # a browser
        hit(
            4,
            "/feeds/energy.atom",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ),
        hit(5, "/feeds/energy.atom", "curl/8.5.0"),
        hit(5, "/feeds/energy.rss", NEWSBOAT),  # the same reader, another feed of the topic
    ).counts()
    [energy] = [t for t in counts.topics if t.topic == "energy"]
    atom, rss, _ = energy.feeds
    assert (atom.days[0].readers, rss.days[0].readers, energy.days[0].readers) == (3, 1, 4)
    assert (atom.days[0].requests, atom.days[0].not_modified) == (7, 1)


def test_only_answered_fetches_of_feeds_count() -> None:
    counts = tally(
        hit(1, "/feeds/energy.atom", NEWSBOAT, status=404),
        hit(1, "/feeds/energy.atom", NEWSBOAT, status=301),
        hit(1, "/feeds/energy.atom", NEWSBOAT, method="POST"),
        hit(1, "/feeds/energy.html", NEWSBOAT),
        hit(1, "/feeds/energy.archive-1.atom", NEWSBOAT),
        hit(1, "/elsewhere/energy.atom", NEWSBOAT),
        hit(1, "/feeds/sub/energy.atom", NEWSBOAT),
        hit(1, "/feeds/energy.atom", NEWSBOAT, method="HEAD", status=206),
    ).counts()
    assert (counts.lines, counts.fetches) == (8, 1)


def test_topics_add_up_their_feeds_day_by_day() -> None:
    counts = tally(
        hit(1, "/feeds/energy.atom", FEEDLY.format(n=10)),
        hit(1, "/feeds/energy.rss", FEEDBIN.format(id=3, n=4)),
        hit(1, "/feeds/energy.json", NEWSBOAT),
        hit(25, "/feeds/energy.atom", FEEDLY.format(n=12)),
        hit(26, "/feeds/energy.atom", "Superfeedr bot/2.0 http://superfeedr.com - feed-id:9 - 3 subscribers"),
        hit(49, "/index.html", CHROME),  # a day in the logs with no fetch of a feed
        # An automatic topic: not in the configuration, a slug with a feed's suffix.
        hit(30, "/feeds/tesla.json", NEWSBOAT),
    ).counts()
    assert counts.days == (date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29))
    assert [t.topic for t in counts.topics] == ["energy", "quiet", "tesla"]
    energy, quiet, tesla = counts.topics
    assert [(d.aggregators, d.hubs, d.readers, d.subscribers) for d in energy.days] == [
        (14, 0, 1, 15),
        (12, 3, 0, 15),
        (0, 0, 0, 0),
    ]
    assert energy.change == -15 and energy.configured and energy.fetched
    assert [f.feed.name for f in energy.feeds] == ["energy.atom", "energy.rss", "energy.json"]
    assert (quiet.configured, quiet.fetched, [f.feed.name for f in quiet.feeds]) == (
        True,
        False,
        ["quiet.atom"],
    )
    assert (tesla.configured, [d.readers for d in tesla.days]) == (False, [0, 1, 0])


def test_topics_are_ordered_by_their_last_day() -> None:
    counts = tally(
        hit(1, "/feeds/aaa.atom", FEEDLY.format(n=1)),
        hit(1, "/feeds/zzz.atom", FEEDLY.format(n=50)),
        hit(1, "/feeds/mmm.atom", FEEDLY.format(n=50)),
    ).counts()
    assert [t.topic for t in counts.topics] == ["mmm", "zzz", "aaa", "energy", "quiet"]


def test_feed_paths_come_from_the_configuration(tmp_path: Path) -> None:
    text = BASE_CONFIG.replace("https://news.example/feeds/", "https://news.example/")
    text = text.replace("output: feeds", "output: s3://news-bucket/site/feeds/")
    text += "    formats: [atom, html]\n"
    config = make_config(tmp_path, text)
    paths = feed_paths(config)
    assert paths.prefixes == ("/site/feeds/", "/")
    assert paths.configured == {"energy": ("atom",)}
    assert paths.feed("/energy.atom") == Feed("energy", "atom")
    assert paths.feed("/site/feeds/energy.rss") == Feed("energy", "rss")
    assert paths.feed("/site/feeds/%65nergy.json") == Feed("energy", "json")  # percent-encoded
    assert paths.feed("/site/feeds/Energy.json") is None  # not a slug
    assert paths.feed("/site/feeds/energy.html") is None
