"""Reading access logs: each format's lines as hits, and files as servers leave them
(rotated, compressed, in folders, cut short)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from datetime import datetime, timezone
from pathlib import Path

import pytest

from topicfeeds.subscribers import FORMATS, Hit, survey
from topicfeeds.subscribers.logs import clf_time, target_path

from .conftest import make_config

UTC = timezone.utc
AT = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )"
CF_FIELDS = (
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
    "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
    "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte "
    "x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"
)
OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def parse(fmt: str, *lines: str) -> list[Hit | str | None]:
    parser = FORMATS[fmt].parser()
    return [parser(line) for line in lines]


def combined_line(
    agent: str = FEEDLY, request: str = "GET /feeds/ai.atom HTTP/1.1", status: str = "200"
) -> str:
    return f'203.0.113.9 - - [28/Nov/2026:10:00:00 +0000] "{request}" {status} 5120 "-" "{agent}"\n'


def cloudfront_line(agent: str, stem: str = "/feeds/ai.atom", status: str = "304", query: str = "-") -> str:
    values = [
        "2026-11-28", "10:00:00", "FRA56-P1", "412", "203.0.113.9", "GET", "d1.cloudfront.net", stem, status,
        "-", agent, query, "-", "Hit", "reqid==", "news.example", "https", "190", "0.001", "-", "TLSv1.3",
        "TLS_AES_128_GCM_SHA256", "Hit", "HTTP/2.0", "-", "-", "51234", "0.001", "Hit",
        "application/atom+xml", "-", "-", "-",
    ]  # fmt: skip
    return "\t".join(values) + "\n"


def s3_line(
    agent: str,
    key: str = "feeds/ai.atom",
    uri: str = "GET /feeds/ai.atom HTTP/1.1",
    op: str = "REST.GET.OBJECT",
) -> str:
    return (
        f"{OWNER} news-feeds [28/Nov/2026:10:00:00 +0000] 203.0.113.9 - 3E57427F3EXAMPLE {op} {key} "
        f'"{uri}" 304 - - 5120 7 - "-" "{agent}" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6U= SigV4 '
        "ECDHE-RSA-AES128-GCM-SHA256 - news-feeds.s3.us-west-1.amazonaws.com TLSv1.2 - -\n"
    )


# -- combined (nginx, Apache)


def test_a_combined_line_is_a_hit() -> None:
    assert parse("combined", combined_line()) == [
        Hit(AT, "203.0.113.9", "GET", "/feeds/ai.atom", 200, FEEDLY)
    ]


def test_combined_times_are_in_utc() -> None:  # fmt: skip
    line = combined_line().replace("+0000", "+0130")
    [hit] = parse("combined", line)
    assert isinstance(hit, Hit) and hit.time == datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
    assert clf_time("01/Jan/2027:00:30:00 -0100") == datetime(2027, 1, 1, 1, 30, tzinfo=UTC)
    for wrong in (
        "28/Nov/2026 10:00:00 +0000",
        "28/Nov/2026:24:00:00 +0000",
        "28/Nov/2026:10:00:0x +0000",
        "28/Now/2026:10:00:00 +0000",
        "31/Nov/2026:10:00:00 +0000",
        "28/Nov/2026:10:00:00 *0000",
    ):
        with pytest.raises(ValueError):
            clf_time(wrong)


def test_quotes_in_a_field_as_nginx_and_apache_escape_them() -> None:
    nginx = combined_line(agent=r"Reader \x22Quoted\x22/1.0")
    apache = combined_line(agent=r"Reader \"Quoted\"/1.0 \\ end\\")
    hits = parse("combined", nginx, apache)
    assert [h.agent for h in hits if isinstance(h, Hit)] == [
        'Reader "Quoted"/1.0',
        'Reader "Quoted"/1.0 \\ end\\',
    ]


def test_fields_after_the_agent_and_odd_request_lines() -> None:
    extra = combined_line().rstrip("\n") + ' 0.004 "198.51.100.7"\n'
    absolute = combined_line(request="GET https://news.example/feeds/ai.rss?utm_source=x HTTP/1.1")
    query = combined_line(request="HEAD /feeds/ai.json?x=1#top HTTP/1.0")
    garbage = combined_line(request=r"\x16\x03\x01\x00", status="400")
    no_status = combined_line(status="-")
    hits = parse("combined", extra, absolute, query, garbage, no_status)
    assert [(h.method, h.path, h.status) for h in hits if isinstance(h, Hit)] == [
        ("GET", "/feeds/ai.atom", 200),
        ("GET", "/feeds/ai.rss", 200),
        ("HEAD", "/feeds/ai.json", 200),
        ("", "", 400),
        ("GET", "/feeds/ai.atom", 0),
    ]


def test_lines_that_are_not_combined() -> None:
    results = parse(
        "combined",
        "\n",
        "a stray line\n",
        '203.0.113.9 - - [28/Nov/2026:10:00:00] "GET / HTTP/1.1" 200 1 "-" "x"\n',
    )
    assert results == [None, "not in the combined log format", "cannot read [28/Nov/2026:10:00:00] as a time"]


def test_a_request_target_is_a_path() -> None:
    assert target_path("/feeds/ai.atom") == "/feeds/ai.atom"
    assert target_path("/feeds/ai.atom?a=1") == "/feeds/ai.atom"
    assert target_path("http://news.example") == "/"
    assert target_path("https://news.example/x#y") == "/x"


# -- CloudFront


def test_a_cloudfront_line_is_decoded() -> None:
    agent = "Mozilla/5.0%20(compatible;%20inoreader.com;%20114%20subscribers)"
    hits = parse(
        "cloudfront", "#Version: 1.0\n", CF_FIELDS + "\n", cloudfront_line(agent, "/feeds/caf%25C3%25A9.atom")
    )
    assert hits == [
        None,
        None,
        Hit(AT, "203.0.113.9", "GET", "/feeds/caf%C3%A9.atom", 304,
            "Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)"),
    ]  # fmt: skip


def test_cloudfront_fields_are_found_by_name() -> None:
    header = "#Fields: cs(User-Agent) sc-status cs-uri-stem cs-method c-ip time date\n"
    line = "\t".join(
        ["newsboat/2.36", "200", "/feeds/ai.rss", "HEAD", "2001:db8::1", "23:59:59", "2026-11-27"]
    )
    [_, hit] = parse("cloudfront", header, line + "\n")
    when = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    assert hit == Hit(when, "2001:db8::1", "HEAD", "/feeds/ai.rss", 200, "newsboat/2.36")


def test_cloudfront_lines_without_their_header() -> None:
    line = cloudfront_line("newsboat/2.36")
    assert parse("cloudfront", line) == ["no #Fields: header before this line"]
    short = "#Fields: date time c-ip cs-method cs-uri-stem\n"
    assert parse("cloudfront", short, line)[1] == "the #Fields: header lacks sc-status, cs(User-Agent)"
    assert parse("cloudfront", CF_FIELDS, "2026-11-28\t10:00:00\tFRA\n")[1] == (
        "3 fields where the #Fields: header names at least 11"
    )


# -- S3 server access logs


def test_an_s3_line_is_the_object_fetched() -> None:
    virtual = s3_line("newsboat/2.36")
    path_style = s3_line("newsboat/2.36", uri="GET /news-feeds/feeds/ai.atom HTTP/1.1")
    no_key = s3_line(
        "S3Console/0.4", key="-", uri="GET /news-feeds?versioning HTTP/1.1", op="REST.GET.VERSIONING"
    )
    only_op = s3_line("newsboat/2.36", uri="-", op="WEBSITE.HEAD.OBJECT")
    hits = parse("s3", virtual, path_style, no_key, only_op)
    assert hits[0] == Hit(AT, "203.0.113.9", "GET", "/feeds/ai.atom", 304, "newsboat/2.36")
    assert [(h.method, h.path) for h in hits if isinstance(h, Hit)] == [
        ("GET", "/feeds/ai.atom"), ("GET", "/feeds/ai.atom"), ("GET", ""), ("HEAD", "/feeds/ai.atom"),
    ]  # fmt: skip


def test_an_s3_agent_with_a_quote_in_it() -> None:
    [hit] = parse("s3", s3_line('Reader "Quoted"/1.0'))
    assert isinstance(hit, Hit) and hit.agent == 'Reader "Quoted"/1.0'
    assert parse("s3", "a stray line\n") == ["not an S3 server access log line"]


def test_each_format_is_told_from_its_first_line() -> None:
    firsts = {
        "combined": combined_line(),
        "cloudfront": "#Version: 1.0\n",
        "s3": s3_line(FEEDLY),
    }
    for name, line in firsts.items():
        assert [f.name for f in FORMATS.values() if f.sniff(line)] == [name]


# -- files


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    make_config(tmp_path)
    return tmp_path / "config.yaml"


def energy_line(n: int, agent: str = FEEDLY) -> str:
    return combined_line(agent=agent, request=f"GET /feeds/energy.atom?n={n} HTTP/1.1")


def test_rotated_and_compressed_files_in_a_folder(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    logs = tmp_path / "logs"
    (logs / "old").mkdir(parents=True)
    (logs / "access.log").write_text(energy_line(1), encoding="utf-8")
    (logs / "access.log.1").write_text(energy_line(2), encoding="utf-8")
    (logs / "access.log.2.gz").write_bytes(gzip.compress(energy_line(3).encode()))
    (logs / "old" / "access.log.3.bz2").write_bytes(bz2.compress(energy_line(4).encode()))
    (logs / "old" / "access.log.4.xz").write_bytes(lzma.compress(energy_line(5).encode()))
    (logs / ".hidden.log").write_text("not read\n", encoding="utf-8")
    found = survey(config, [str(logs)])
    assert (found.files, found.counts.lines, found.counts.fetches, found.problems) == (5, 5, 5, ())


def test_a_file_cut_short_keeps_what_came_before(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    whole = gzip.compress("".join(energy_line(n) for n in range(2000)).encode())
    (tmp_path / "cut.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "access.log").write_text(energy_line(0), encoding="utf-8")
    found = survey(
        config, [str(tmp_path / "cut.gz"), str(tmp_path / "access.log"), str(tmp_path / "none.log")]
    )
    assert 0 < found.counts.lines < 2001 and found.files == 2
    assert [p.path for p in found.problems] == [str(tmp_path / "none.log"), str(tmp_path / "cut.gz")]
    assert "cannot read after line" in str(found.problems[1])
    assert str(found.problems[0]).endswith("cannot read: No such file or directory")


def test_unknown_files_and_unreadable_lines(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (tmp_path / "notes.txt").write_text("\nnot a log\n", encoding="utf-8")
    (tmp_path / "mixed.log").write_text(
        energy_line(1) + "junk\n" + energy_line(2) + "more junk\n", encoding="utf-8"
    )
    found = survey(config, [str(tmp_path / "notes.txt"), str(tmp_path / "mixed.log")])
    assert [str(p) for p in found.problems] == [
        f"{tmp_path / 'notes.txt'}:2: not an access log in a known format (cloudfront, s3, combined); "
        "name it with --format"
    ]
    assert [str(p) for p in found.warnings] == [
        f"{tmp_path / 'mixed.log'}:2: 2 lines left out: not in the combined log format (the first one here)"
    ]
    assert (found.counts.fetches, found.unreadable) == (2, 2)
    # Named, the format is not guessed: an S3 log read as combined is unreadable.
    (tmp_path / "s3.log").write_text(s3_line(FEEDLY), encoding="utf-8")
    assert survey(config, [str(tmp_path / "s3.log")], "combined").unreadable == 1


def test_a_line_too_long_to_hold_is_skipped(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    long = combined_line(agent="x" * 200_000)
    (tmp_path / "a.log").write_text(energy_line(1) + long + energy_line(2), encoding="utf-8")
    found = survey(config, [str(tmp_path / "a.log")])
    assert (found.counts.fetches, found.unreadable) == (2, 1)
    assert "longer than 64 KiB" in str(found.warnings[0])


def test_standard_input(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    found = survey(config, ["-"], stdin=io.BytesIO(gzip.compress(energy_line(1).encode())))
    assert (found.files, found.counts.fetches) == (1, 1)
    assert [str(p) for p in survey(config, ["-"]).problems] == ["-: there is no standard input to read"]
