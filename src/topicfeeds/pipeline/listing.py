"""What a run remembers of each topic for the site-level files (the index and the
OPML list): its entry count and newest date, kept in the state store so that a run
rebuilding one topic can list the others without rebuilding them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from ..config import Site
from ..formats import TopicListing

Counts = dict[str, tuple[int, datetime | None]]
"""slug: (entries, when the newest entry was published)."""


def encode_counts(counts: Counts) -> str:
    """The counts as text for the state store."""
    return json.dumps({slug: [n, when and when.isoformat()] for slug, (n, when) in sorted(counts.items())})


def decode_counts(text: str | None) -> Counts:
    """The counts a run stored; empty when there are none or they cannot be read."""
    try:
        raw = json.loads(text) if text else {}
        return {
            slug: (int(n), datetime.fromisoformat(when) if when else None) for slug, (n, when) in raw.items()
        }
    except (ValueError, TypeError, AttributeError):
        return {}  # every topic is then rebuilt, which writes them again


def site_digest(site: Site, listings: Sequence[TopicListing], version: str) -> str:
    """A digest of everything the site-level files are made from."""
    return hashlib.sha256(repr((version, site, tuple(listings))).encode("utf-8")).hexdigest()
