"""Who fetched a feed, told from the User-Agent alone: an aggregator or a hub reporting
how many people it fetches for, a person's own feed reader, a browser, or a bot.

Pure: the same text always gets the same answer. The services that report subscribers
are a table (`SERVICES`), checked in order; add a line there for a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

Kind = Literal["aggregator", "hub", "reader", "browser", "bot"]
KINDS: tuple[Kind, ...] = get_args(Kind)
ServiceKind = Literal["aggregator", "hub"]


@dataclass(frozen=True, slots=True)
class Agent:
    """What a User-Agent says about the fetcher."""

    kind: Kind
    name: str  # the service's name (aggregators, hubs) or the product token ("" when there is none)
    subscribers: int | None = None  # the count an aggregator or hub reports; None when it gives none
    feed_id: str | None = None  # the service's own id of the feed, when it gives one


@dataclass(frozen=True, slots=True)
class Service:
    """An aggregator or hub that fetches feeds for many people."""

    name: str  # as the report shows it
    kind: ServiceKind
    pattern: re.Pattern[str]  # found anywhere in the User-Agent
    feed_id: re.Pattern[str] | None = None  # its own way of naming the feed, when not `feed-id`


def service(name: str, kind: ServiceKind, pattern: str, feed_id: str | None = None) -> Service:
    """A line of the table: `pattern` is found anywhere in the agent, in any case;
    `feed_id` has the id in its first group."""
    return Service(
        name, kind, re.compile(pattern, re.IGNORECASE), None if feed_id is None else re.compile(feed_id)
    )


# Checked in order, before anything else: several of them also look like a bot
# ("Superfeedr bot") or a browser (NewsBlur appends a Chrome User-Agent).
SERVICES: tuple[Service, ...] = (
    service("Feedly", "aggregator", r"\bfeedly"),
    service("Inoreader", "aggregator", r"\binoreader\b"),
    service("Feedbin", "aggregator", r"\bfeedbin\b"),
    service("NewsBlur", "aggregator", r"\bnewsblur\b", feed_id=r"/site/(\d+)"),
    service("The Old Reader", "aggregator", r"\btheoldreader\b"),
    service("BazQux", "aggregator", r"\bbazqux\b"),
    service("Feedspot", "aggregator", r"\bfeedspot\b"),
    service("Netvibes", "aggregator", r"\bnetvibes\b"),
    service("Bloglovin", "aggregator", r"\bbloglovin\b"),
    service("NewsGator", "aggregator", r"\bnewsgator"),
    service("Feeder", "aggregator", r"\bfeeder\.co\b"),
    service("Overcast", "aggregator", r"\bovercast/"),
    service("Superfeedr", "hub", r"\bsuperfeedr\b"),
    # Google's WebSub hub fetches as Feedfetcher-Google, as Google Reader did.
    service("Google hub", "hub", r"\bfeedfetcher-google\b|appid: s~pubsubhubbub"),
    service("WebSub hub", "hub", r"\b(?:websub|pubsubhubbub)\b"),
)

_SUBSCRIBERS = re.compile(r"(\d+)\s+subscribers?\b", re.IGNORECASE)
_FEED_ID = re.compile(r"\bfeed-?id\s*[:=]\s*([\w.-]+)", re.IGNORECASE)
_PRODUCT = re.compile(r"[^\s/;()]+")
_LAST_PRODUCT = re.compile(r"([A-Za-z][\w.-]*)/[\w.]+\s*$")
# A compatible-style agent names itself in its parentheses: "Mozilla/5.0 (compatible; X/1.0)".
_COMPATIBLE = re.compile(r"[(;]\s*compatible;\s*([^;)\s/]+)", re.IGNORECASE)
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|scraper|headless|facebookexternalhit|lighthouse"
    r"|monitor|uptime|pingdom|statuscake|validator|preview|amazon cloudfront"
    r"|^(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|java"
    r"|libwww-perl|apache-httpclient|node-fetch|axios|guzzlehttp|ruby|php)\b",
    re.IGNORECASE,
)
# A browser: a Mozilla/5.0 agent naming a browser engine's product. Feed readers built on
# Gecko name themselves instead (Thunderbird), and are left to the default: a reader.
_BROWSER = re.compile(r"^Mozilla/5\.0 \(.*\b(?:Chrome|Chromium|Firefox|Safari|Edg|OPR|Trident|MSIE)\b")


def product(agent: str) -> str:
    """The name an agent gives itself: its first product token; for one that starts
    "Mozilla/", the name in its parentheses (compatible-style) or its last product
    ("... Gecko/20100101 Thunderbird/115.5.0")."""
    if agent.startswith("Mozilla/"):
        compatible = _COMPATIBLE.search(agent)
        last = _LAST_PRODUCT.search(agent)
        if compatible is not None:
            return compatible.group(1)
        if last is not None:
            return last.group(1)
    found = _PRODUCT.search(agent)
    return found.group(0) if found is not None else ""


@lru_cache(maxsize=8192)
def classify(agent: str) -> Agent:
    """What `agent` (a User-Agent header, as logged) says about the fetcher."""
    agent = agent.strip()
    count = _SUBSCRIBERS.search(agent)
    subscribers = int(count.group(1)) if count is not None else None
    for service in SERVICES:
        if service.pattern.search(agent):
            return Agent(service.kind, service.name, subscribers, _feed_id(agent, service.feed_id))
    if subscribers is not None:
        # An aggregator this table does not know yet still counts, under its own name.
        return Agent("aggregator", product(agent) or "unknown", subscribers, _feed_id(agent, None))
    if not agent or agent == "-" or _BOT.search(agent):
        return Agent("bot", product(agent))
    if _BROWSER.search(agent):
        return Agent("browser", product(agent))
    return Agent("reader", product(agent))


def _feed_id(agent: str, own: re.Pattern[str] | None) -> str | None:
    found = (own.search(agent) if own is not None else None) or _FEED_ID.search(agent)
    return found.group(1) if found is not None else None
