"""The two stylesheets: one for the pages, one that makes Atom and RSS files readable
in a browser (see spec.FEED_STYLESHEET)."""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def stylesheet(name: str) -> bytes:
    """The bytes of the shipped stylesheet `name` ("style.css" or "feed.css")."""
    return resources.files("topicfeeds.formats").joinpath("templates").joinpath(name).read_bytes()
