"""Which requested paths are a topic's feeds: `<slug>.atom`, `.rss` or `.json` straight
under the folder the site is served from (the path of `site.base_url`, or the prefix of
an `s3://` output, which is what a bucket's log names). Automatic topics are not in the
configuration, so any slug with a feed's suffix there counts, named after its stem;
archive pages (`climate.archive-1.atom`) and other names that are not slugs do not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ..config import Config, Format, is_slug
from ..formats.common import FEED_FORMATS, SUFFIXES

_FORMAT_OF: dict[str, Format] = {SUFFIXES[f]: f for f in FEED_FORMATS}
_CACHE_SIZE = 100_000  # distinct paths remembered; a scanner's junk paths must not grow it unbounded


class Feed(NamedTuple):
    """One feed file of a topic. A named tuple: it is part of a key looked up for every
    fetch in the logs, and a tuple's hash is computed in C."""

    topic: str  # the topic's slug
    format: Format  # atom, rss or json

    @property
    def name(self) -> str:
        """The feed's file name: `ai.atom`."""
        return f"{self.topic}{SUFFIXES[self.format]}"


class FeedPaths:
    """Tells a feed's path from any other; remembers its answers, as a log asks about
    the same few paths millions of times."""

    def __init__(self, prefixes: Iterable[str], configured: Mapping[str, tuple[Format, ...]]) -> None:
        self.prefixes = tuple(sorted(set(prefixes), key=len, reverse=True))  # each ends with "/"
        self.configured = dict(configured)  # slug: its feed formats, in the configuration's order
        self._known: dict[str, Feed | None] = {}

    def feed(self, path: str) -> Feed | None:
        """The feed at `path` (as requested, percent-encoded, without a query), if any."""
        try:
            return self._known[path]
        except KeyError:
            pass
        if len(self._known) >= _CACHE_SIZE:
            self._known.clear()
        found = self._known[path] = self._find(unquote(path) if "%" in path else path)
        return found

    def _find(self, path: str) -> Feed | None:
        for prefix in self.prefixes:
            if path.startswith(prefix):
                stem, dot, suffix = path[len(prefix) :].rpartition(".")
                fmt = _FORMAT_OF.get(dot + suffix)
                if fmt is not None and is_slug(stem):
                    return Feed(stem, fmt)
        return None


def feed_paths(config: Config) -> FeedPaths:
    """The feeds' paths of the site `config` describes."""
    prefixes = [urlsplit(config.site.base_url).path or "/"]
    if config.output_url is not None:
        prefixes.append("/" + config.output_url.prefix)
    configured = {t.slug: tuple(f for f in t.rules.formats if f in FEED_FORMATS) for t in config.topics}
    return FeedPaths(prefixes, configured)
