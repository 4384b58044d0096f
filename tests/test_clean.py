from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from topicfeeds.records import clean
from topicfeeds.records.clean import (
    _clean_url_slow,
    canonical_url,
    clean_line,
    clean_text,
    clean_url,
    image_media_type,
)


def test_mojibake_is_repaired() -> None:
    assert clean_text("the UK Information Commissionerâ€™s Office") == (
        "the UK Information Commissioner\u2019s Office"
    )


def test_clean_text_is_left_as_written() -> None:
    # curly quotes, fullwidth letters, a ligature, a combining accent, right-to-left text
    text = (
        "\u201cQuotes\u201d, \uff46\uff55\uff4c\uff4cwidth, \ufb01 ligature, e\u0301"
        " and \u05e2\u05d1\u05e8\u05d9\u05ea"
    )
    assert clean_text(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x00b\x0bc\x1fd", "abcd"),
        ("red \x1b[31malert\x1b[0m", "red alert"),
        ("bad surrogate \ud800 and \ufffe", "bad surrogate  and"),
        ("  trimmed\n", "trimmed"),
    ],
)
def test_characters_xml_cannot_carry_are_removed(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_c1_controls_never_survive() -> None:
    # ftfy reads them as the cp1252 characters they usually were; the rest are dropped.
    for raw in ("plain \x85\x9f", "café \x85 wait\x9f", "\x80\x81\x8d\x8f\x90"):
        assert not any("\x80" <= c <= "\x9f" for c in clean_text(raw))


def test_clean_line_folds_white_space() -> None:
    assert clean_line("  two\n  lines\tjoined ") == "two lines joined"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://Example.COM/a?b=1#c", "https://example.com/a?b=1#c"),
        ("http://example.com", "http://example.com/"),
        ("https://bücher.example/straße?q=ü", "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC"),
        ("https://example.com/already%20encoded", "https://example.com/already%20encoded"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("https://[2001:db8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
    ],
)
def test_urls_become_ascii_uris(raw: str, expected: str) -> None:
    assert clean_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "/relative/path",
        "//example.com/no-scheme",
        "ftp://example.com/file",
        "https://",
        "https://exa mple.com/",
        "https://example.com/a b",
        "https://user:pass@example.com/",
        "https://example.com:99999/",
        "not a url",
        "",
        None,
        42,
        ["https://example.com/"],
    ],
)
def test_anything_but_absolute_http_urls_is_refused(raw: object) -> None:
    assert clean_url(raw) is None


def test_canonical_url_drops_tracking_fragment_and_default_port() -> None:
    url = "https://example.com:443/a?id=7&utm_source=rss&utm_medium=feed&fbclid=x"
    assert canonical_url(url) == "https://example.com/a?id=7"
    assert canonical_url("https://example.com/a#comments") == "https://example.com/a"


@pytest.mark.parametrize(
    ("url", "media_type"),
    [
        ("https://x.example/a.JPG", "image/jpeg"),
        ("https://x.example/a.webp?w=300", "image/webp"),
        ("https://x.example/a.png#frag", "image/png"),
        ("https://x.example/image", None),
    ],
)
def test_image_media_type_follows_the_extension(url: str, media_type: str | None) -> None:
    assert image_media_type(url) == media_type


url_text = st.text(alphabet="hpst:/?#&=%.-_~@[]!$'()*+,;aAzZ09 é\t", max_size=40)


@settings(max_examples=500)
@given(st.one_of(url_text, st.builds(lambda rest: "https://a.example/" + rest, url_text)))
def test_the_fast_path_agrees_with_the_full_cleaning(value: str) -> None:
    assert clean_url(value) == _clean_url_slow(value.strip())


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=30))
@example("São Paulo — Malmö")
@example("Caf\u00c3\u00a9 \u00a0 x\u2028y")
def test_text_left_as_it_is_needs_nothing_removed_or_repaired(value: str) -> None:
    """The quick way out of clean_text and clean_line: printable text holds nothing XML
    refuses and no white space but " " (and without two non-ASCII characters in a row,
    ftfy is not asked, as before)."""
    if clean._plain(value):
        assert clean._NOT_XML.sub("", value) == value
        assert clean._SPACES.sub(" ", value) == value or "  " in value


def _media_type_by_splitext(url: str) -> str | None:
    """image_media_type as it was first written, with posixpath.splitext."""
    from posixpath import splitext

    path = url.split("#", 1)[0].split("?", 1)[0]
    return clean._IMAGE_TYPES.get(splitext(path.rsplit("/", 1)[-1])[1].lower())


@settings(max_examples=500)
@given(st.text(st.sampled_from(list("ab./?#.JPGjpegpnwbsvf-")), max_size=24))
@example("https://img.example/a/0-640x360.jpg")
@example("https://img.example/.jpg")
@example("https://img.example/..png")
@example("https://img.example/.a.GIF?x=1.png#y.bmp")
@example("https://img.example/a.b/c")
@example("https://img.example/a..JPEG")
def test_media_types_come_from_the_extension_as_splitext_finds_it(url: str) -> None:
    assert image_media_type(url) == _media_type_by_splitext(url)
