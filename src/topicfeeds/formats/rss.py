"""RSS 2.0: `<slug>.rss`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..config import Site, Topic
from ..core.model import Entry
from .feedgen import render_rss


def render(
    site: Site, topic: Topic, entries: Sequence[Entry], version: str, updated: datetime | None = None
) -> dict[str, bytes]:
    """The topic's RSS feed."""
    return {f"{topic.slug}.rss": render_rss(site, topic, entries, version, updated)}
