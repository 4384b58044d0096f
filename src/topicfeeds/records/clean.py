"""Make upstream text and URLs safe to publish: XML-clean text, absolute http(s) URIs."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import ftfy

# Terminal escape sequences (colours, cursor moves) that leak in from logs.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Characters XML 1.0 cannot carry, plus C1 controls and DEL, which it can but
# which no reader shows and validators flag.
_NOT_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")
_ADJACENT_NON_ASCII = re.compile("[^\x00-\x7f]{2}")
# A surrogate with no partner: nothing can display it (a pair is joined by ftfy).
_LONE_SURROGATE = re.compile("[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")


@cache
def _mojibake_only() -> ftfy.TextFixerConfig:
    """ftfy's settings for mojibake repair alone: leave quotes, widths, ligatures and
    normal form as written."""
    import ftfy

    return ftfy.TextFixerConfig(
        unescape_html=False,
        uncurl_quotes=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        fix_c1_controls=False,  # a stray C1 control is noise to drop, not a cp1252 character
        normalization=None,
        explain=False,
    )


def _fix_mojibake(value: str) -> str:
    # ftfy loads on the first text that may hold mojibake: loading it is a fifth of the
    # command's start-up, which most runs (nothing to parse, or no such text) never need.
    import ftfy

    return ftfy.fix_text(value, _mojibake_only())


def _plain(value: str) -> bool:
    """Whether `clean_text` leaves `value` as it is, but for its ends: every printable
    character is one XML carries and readers show, and mojibake needs two non-ASCII
    characters in a row. (clean_text and clean_line write this test out: a call per
    title, name and excerpt is a measurable part of building a record.)"""
    return value.isprintable() and (value.isascii() or not _ADJACENT_NON_ASCII.search(value))


def clean_text(value: str) -> str:
    """Repair mojibake, drop characters XML cannot carry, trim the ends."""
    if value.isprintable() and (value.isascii() or not _ADJACENT_NON_ASCII.search(value)):
        return value.strip()  # `_plain`, as most text is: nothing to repair or remove
    if "\x1b" in value:
        value = _ANSI.sub("", value)
    # Mojibake needs non-ASCII characters, and ftfy is the costly step.
    # Mojibake turns each non-ASCII character into two or more non-ASCII ones, so
    # text without two in a row has none; ftfy, the costly step, is spared there.
    if _ADJACENT_NON_ASCII.search(value):
        value = _fix_mojibake(_LONE_SURROGATE.sub("", value))
    return _NOT_XML.sub("", value).strip()


def clean_line(value: str) -> str:
    """`clean_text`, then fold every run of white space into one space (for titles, names)."""
    if (
        "  " not in value
        and value.isprintable()
        and (value.isascii() or not _ADJACENT_NON_ASCII.search(value))
    ):
        return value.strip()  # `_plain`, and the only white space printable text has is " "
    return _SPACES.sub(" ", clean_text(value))


_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"
# A URL that is already a clean absolute http(s) URI (lowercase scheme and host,
# no userinfo or port, only characters that stay as they are) is returned as is.
_PLAIN_URL = re.compile(
    r"https?://[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?"
    r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*"
    r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]+)?(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]+)?\Z"
)
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ocid)$", re.IGNORECASE)


def clean_url(value: object) -> str | None:
    """An absolute http(s) URL as an ASCII URI, or None when `value` is not one.

    IRIs become URIs (IDNA host, UTF-8 percent-encoding), so the same string is
    valid in Atom and in RSS, which needs ASCII.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    if _PLAIN_URL.match(value):
        return value
    return _clean_url_slow(value)


def _clean_url_slow(value: str) -> str | None:
    if not value or _NOT_XML.search(value) or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if not re.fullmatch(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]", ascii_host) and not (
        ":" in ascii_host and re.fullmatch(r"[0-9A-Fa-f:.]+", ascii_host)
    ):
        return None
    if ":" in ascii_host:
        ascii_host = f"[{ascii_host.strip('[]')}]"
    netloc = ascii_host.lower() + (f":{port}" if port is not None else "")
    if parts.username or parts.password:
        return None  # credentials in a published link are never intended
    path = quote(unicodedata.normalize("NFC", parts.path) or "/", safe=_SAFE_PATH)
    query = quote(parts.query, safe=_SAFE_QUERY)
    fragment = quote(parts.fragment, safe=_SAFE_QUERY)
    return urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))


# The userinfo's password of a URL (or of a string meant as one): whatever lies
# between the user name's colon and the last "@" before the path.
_PASSWORD = re.compile(r"\A((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)?([^/?#@:]*):([^/?#]*)@")


def redact_url(url: str) -> str:
    """`url` fit to print in a warning or a log: the password of its userinfo and the
    value of every query parameter replaced with `***` (a hub's URL often carries its
    publisher's token there). Only for showing; requests use the URL as it is. Works on
    text, not on a parsed URL, so that a value refused as a URL is shown redacted too."""
    shown = _PASSWORD.sub(r"\1\2:***@", url, count=1)
    head, mark, rest = shown.partition("?")
    if not mark:
        return shown
    query, hash_, fragment = rest.partition("#")
    items = (item.partition("=") for item in query.split("&"))
    query = "&".join(f"{name}=***" if sep else ("***" if name else "") for name, sep, _ in items)
    return f"{head}?{query}{hash_}{fragment}"


def canonical_url(url: str) -> str:
    """The identity of an article behind `url` (already cleaned): no fragment,
    default port or tracking parameters, so re-shared links map to one entry id."""
    if "?" not in url and "#" not in url and ":" not in url[8:].split("/", 1)[0]:
        return url  # nothing to drop: clean_url already lowercased scheme and host
    parts = urlsplit(url)
    netloc = parts.netloc
    if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    query = parts.query
    if query:
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING.match(k)]
        query = urlencode(pairs, safe=_SAFE_QUERY, quote_via=quote)
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, ""))


_IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


def image_media_type(url: str) -> str | None:
    """The media type an image URL's extension implies, or None when it implies none."""
    if "?" in url or "#" in url:
        url = url.partition("#")[0].partition("?")[0]
    name = url[url.rfind("/") + 1 :]
    stem, dot, extension = name.rpartition(".")
    # As posixpath.splitext, without its Python loop: a name that is only dots before
    # its last one (".jpg", "..png") has no extension.
    if not stem.strip("."):
        return None
    return _IMAGE_TYPES.get(dot + extension.lower())
