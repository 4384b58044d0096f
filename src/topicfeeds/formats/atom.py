"""Atom 1.0: `<slug>.atom`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..config import Site, Topic
from ..core.model import Entry
from .feedgen import render_atom


def render(
    site: Site,
    topic: Topic,
    entries: Sequence[Entry],
    version: str,
    updated: datetime | None = None,
    prev_archive: str | None = None,
) -> dict[str, bytes]:
    """The topic's Atom feed; `prev_archive` links its newest archive page (RFC 5005)."""
    return {f"{topic.slug}.atom": render_atom(site, topic, entries, version, updated, prev_archive)}
