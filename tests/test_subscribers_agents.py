"""Telling fetchers apart by their User-Agent: aggregators and hubs with the count they
report, direct readers, browsers and bots."""

from __future__ import annotations

import pytest

from topicfeeds.subscribers import agents
from topicfeeds.subscribers.agents import Agent, classify

NEWSBLUR = (
    "NewsBlur Feed Fetcher - 27 subscribers - http://www.newsblur.com/site/6104540/daily-tech-brief "
    "(Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36)"
)


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )",
         Agent("aggregator", "Feedly", 462)),
        ("Feedbin feed-id:1697787 - 102 subscribers", Agent("aggregator", "Feedbin", 102, "1697787")),
        (NEWSBLUR, Agent("aggregator", "NewsBlur", 27, "6104540")),
        ("Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)", Agent("aggregator", "Inoreader", 114)),
        ("Mozilla/5.0 (compatible; theoldreader.com; 1 subscribers; feed-id=0f3c9a1b2d)",
         Agent("aggregator", "The Old Reader", 1, "0f3c9a1b2d")),
        ("Netvibes (http://www.netvibes.com/; 5 subscribers; feedId: 5404723)",
         Agent("aggregator", "Netvibes", 5, "5404723")),
        ("Superfeedr bot/2.0 http://superfeedr.com - Make your feeds realtime: get in touch - "
         "feed-id:46271263 - 12 subscribers", Agent("hub", "Superfeedr", 12, "46271263")),
        ("Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 4 subscribers; "
         "feed-id=12499587138938146489)", Agent("hub", "Google hub", 4, "12499587138938146489")),
        # An aggregator the table does not know still counts, named by its product.
        ("Zhuaxia.com 1 Subscribers", Agent("aggregator", "Zhuaxia.com", 1)),
        ("AideRSS/1.0 (aiderss.com); 2 subscribers", Agent("aggregator", "AideRSS", 2)),
        ("Mozilla/5.0 (compatible; NewReader.example; 31 subscribers)",
         Agent("aggregator", "NewReader.example", 31)),
        # A known service fetching without a count (Feedly previewing a feed, say).
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)",
         Agent("aggregator", "Feedly")),
        # Direct readers, one person each.
        ("newsboat/2.36.0 (Linux x86_64)", Agent("reader", "newsboat")),
        ("NetNewsWire (RSS Reader; https://netnewswire.com/)", Agent("reader", "NetNewsWire")),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0",
         Agent("reader", "Thunderbird")),
        ("Mozilla/5.0 (compatible; Miniflux/2.1.0; +https://miniflux.app)", Agent("reader", "Miniflux")),
        ("FreshRSS/1.23.1 (Linux; https://freshrss.org)", Agent("reader", "FreshRSS")),
        # Browsers.
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
         "Safari/537.36", Agent("browser", "Safari")),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
         Agent("browser", "Firefox")),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.1 Mobile/15E148 Safari/604.1", Agent("browser", "Safari")),
        # Bots, tools and the CDN's own fetches from the bucket.
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
         Agent("bot", "Googlebot")),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", Agent("bot", "bingbot")),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
         Agent("bot", "GPTBot")),
        ("curl/8.5.0", Agent("bot", "curl")),
        ("python-requests/2.31.0", Agent("bot", "python-requests")),
        ("Amazon CloudFront", Agent("bot", "Amazon")),
        ("", Agent("bot", "")),
        ("-", Agent("bot", "-")),
    ],
)  # fmt: skip
def test_each_fetcher_is_told_apart(agent: str, expected: Agent) -> None:
    assert classify(agent) == expected


def test_the_table_of_services_takes_a_new_line(monkeypatch: pytest.MonkeyPatch) -> None:
    fetcher = "Lettura/3.1 (+https://lettura.example/fetcher; 12 readers)"
    assert classify(fetcher).kind == "reader"
    extended = (
        *agents.SERVICES,
        agents.service("Lettura", "aggregator", r"\blettura/", feed_id=r"fetcher/(\d+)"),
    )
    monkeypatch.setattr(agents, "SERVICES", extended)
    classify.cache_clear()
    try:
        assert classify(fetcher) == Agent("aggregator", "Lettura")
        assert classify("Lettura/3.1 (+https://lettura.example/fetcher/77; 9 subscribers)") == Agent(
            "aggregator", "Lettura", 9, "77"
        )
    finally:
        classify.cache_clear()
