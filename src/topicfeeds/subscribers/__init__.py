"""Subscribers to each topic, counted from the web server's access logs: the numbers
aggregators and hubs report in their User-Agent, and the people whose own feed readers
fetch the feeds. `topicfeeds subscribers` is its command."""

from __future__ import annotations

from .agents import Agent, classify
from .count import Counts, FeedCounts, FeedDay, ServiceCount, Tally, TopicCounts, TopicDay
from .logs import Hit, LogFormat
from .paths import Feed, FeedPaths, feed_paths
from .scan import FORMATS, Survey, survey

__all__ = [
    "FORMATS",
    "Agent",
    "Counts",
    "Feed",
    "FeedCounts",
    "FeedDay",
    "FeedPaths",
    "Hit",
    "LogFormat",
    "ServiceCount",
    "Survey",
    "Tally",
    "TopicCounts",
    "TopicDay",
    "classify",
    "feed_paths",
    "survey",
]
