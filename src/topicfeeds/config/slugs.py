"""Slugs: the file name stems of topics, checked for configured ones and made for
automatic ones from their names alone."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection

from ..core.archive import is_archive

_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {f"{d}{n}" for d in ("com", "lpt") for n in range(10)}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 64
# The files a site has beside its topics' (formats/spec.py's SITE_FILES); a test holds
# them to those modules. No topic's file may take one's name.
SITE_FILES = ("index.html", "topics.opml", "style.css", "feed.css")
# Symbols spelt out in slugs: "C++" and "C#" would otherwise both come to "c".
_SPELT = {"+": " plus ", "#": " sharp ", "&": " and ", "@": " at ", "%": " percent ", "$": " dollar "}
# An automatic topic's name that its slug spells exactly: lowercase ASCII words between
# single spaces or hyphens. "energy policy" and "energy-policy" are one topic (topic_key).
_PLAIN = re.compile(r"[a-z0-9]+(?:[ -][a-z0-9]+)*")
DIGEST = 8  # hex digits of the name's digest in the slug of a name its slug cannot spell
# Slugs that end as a digest does: a name whose slug would end so is given a digest too,
# so no name's slug is another's.
_DIGEST_LIKE = re.compile(rf".+-[0-9a-f]{{{DIGEST}}}|topic-[0-9a-f]{{10}}")


def is_slug(value: str) -> bool:
    """Whether `value` is usable as a feed's file name stem."""
    return len(value) <= MAX_SLUG and _SLUG.fullmatch(value) is not None and value not in _WINDOWS_DEVICES


def site_file_taken(slug: str) -> str | None:
    """The site file (or archive page) one of topic `slug`'s files would be, or None."""
    from ..formats.spec import specs  # asked when used: the formats import config

    for spec in specs():
        name = f"{slug}{spec.suffix}"
        if name in SITE_FILES or is_archive(name):
            return name
    return None


def _spelt(name: str) -> str:
    """`name` as slug text: symbols spelt out, letters folded to ASCII, lowercase, every
    other run of characters one hyphen; "" when nothing is left."""
    text = "".join(_SPELT.get(c, c) for c in name)
    ascii_name = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def slugify(name: str) -> str:
    """A lowercase ASCII slug for `name`; never empty, never a path, a device name or
    a site file's name. What a configured topic's key is told to be instead."""
    slug = _spelt(name)[:MAX_SLUG].strip("-")
    if not slug:
        # Non-Latin names keep a stable, distinct slug.
        return "topic-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    if slug in _WINDOWS_DEVICES or site_file_taken(slug):
        return f"{slug}-topic"
    return slug


def topic_key(name: str) -> str:
    """Which automatic topic record topic `name` belongs to: its casefolded name, where a
    hyphen between two words of a plain name counts as a space. "COVID-19" and "Covid 19"
    are spellings of one topic, as "AI" and "ai" are."""
    key = name.casefold()
    return key.replace("-", " ") if _PLAIN.fullmatch(key) else key


def topic_slug(name: str, taken: Collection[str] = ()) -> str:
    """The slug of the automatic topic `name`: made from its casefolded name alone (and
    `taken`, the configured topics' slugs), never from which other topics there are, so
    a slug never passes from one topic to another. A name of lowercase ASCII words
    between single spaces or hyphens is spelt exactly ("climate change" and
    "climate-change": "climate-change", one topic by `topic_key`); any
    other name, and one whose exact slug is a device, a site file, a configured topic's
    or looks like a digest, is spelt as well as it can be, then a digest of the name
    follows ("C++": "c-plus-plus-" and 8 hex digits); a name with nothing to spell is
    "topic-" and 10 hex digits. Distinct names get distinct slugs, as long as digests
    differ."""
    key = topic_key(name)
    if len(key) <= MAX_SLUG and _PLAIN.fullmatch(key):
        slug = key.replace(" ", "-")
        clash = slug in _WINDOWS_DEVICES or site_file_taken(slug) or slug in taken
        if not clash and not _DIGEST_LIKE.fullmatch(slug):
            return slug
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    base = _spelt(key)[: MAX_SLUG - DIGEST - 1].strip("-")
    if not base:
        return "topic-" + digest[:10]
    return f"{base}-{digest[:DIGEST]}"
