"""What every backend's store writes once over its own methods: the last feed of a
topic, the digests its files were made of, and the pings as the hubs' thread lists them."""

from __future__ import annotations

import json

from ..core.incremental import LastFeed
from .feeds import SortKey


class Common:
    """Written once over each backend's parts (see store/__init__.py)."""

    def meta(self, key: str) -> str | None:
        """A stored setting, or None (the backend's own)."""
        raise NotImplementedError

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting (the backend's own)."""
        raise NotImplementedError

    def last_published(self, slug: str) -> tuple[frozenset[str], SortKey | None] | None:
        """What topic `slug`'s last build published (the backend's own)."""
        raise NotImplementedError

    def noted_pings(self) -> dict[str, dict[str, int]]:
        """The feed URLs each hub is still to be told about (the backend's own)."""
        raise NotImplementedError

    def last_feed(self, slug: str) -> LastFeed | None:
        """What topic `slug`'s last build published, or None when it must be built anew."""
        published = self.last_published(slug)
        return None if published is None else LastFeed(*published)

    def rendered(self) -> dict[str, str]:
        """For each topic whose files are as its last build wrote them, the digest of
        what they were made of (formats.topic_digest)."""
        text = self.meta("rendered")
        return {} if not text else {str(k): str(v) for k, v in json.loads(text).items()}

    def set_rendered(self, digests: dict[str, str]) -> None:
        """Note the digest each topic's files were made of (see `rendered`)."""
        self.set_meta("rendered", json.dumps(digests, sort_keys=True, separators=(",", ":")))

    def pings(self) -> dict[str, list[str]]:
        """The feed URLs each hub is still to be told about."""
        return {hub: list(urls) for hub, urls in self.noted_pings().items()}
