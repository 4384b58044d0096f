from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from topicfeeds.errors import RecordError
from topicfeeds.records import reader
from topicfeeds.records.reader import parse_datetime, parse_record, read_record, read_records
from topicfeeds.runtime import workers

from .conftest import SEEDS, record_fields, record_text, write_record

UTC = timezone.utc
LOADERS = [reader._PureLoader] + ([reader._CLoader] if hasattr(reader, "_CLoader") else [])


@pytest.fixture(autouse=True, params=LOADERS, ids=lambda loader: loader.__name__)
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reader test runs with libyaml's parser and with the pure-Python one."""
    monkeypatch.setattr(reader, "_Loader", request.param)


def parse(text: str | bytes, name: str = "seeds/x.txt"):  # type: ignore[no-untyped-def]
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_record(data, name)


def test_the_newsroom_seed_reads_completely() -> None:
    record, warnings = read_record(SEEDS / "000_d61a9c0cd27bc914.txt")
    assert warnings == []
    assert record.title == "Schools suspend use of facial recognition after backlash"
    assert record.id == "https://www.computing.co.uk/news/4039273/schools-suspend-facial-recognition-backlash"
    assert record.link == record.id
    assert record.published == datetime(2021, 10, 27, 6, 41, tzinfo=UTC)
    assert record.updated == record.published
    assert (record.type, record.category, record.quality, record.heat) == ("article", "news", 39, -1)
    assert record.is_published is False
    assert record.provider is not None
    assert (record.provider.name, record.provider.url) == ("Computing", "https://computing.co.uk/")
    assert record.topics == ("Computer Vision", "AI")
    assert [(i.width, i.height, i.media_type) for i in record.images] == [(370, 229, "image/jpeg")]
    (related,) = record.related
    assert related.title == "Facial recognition in schools: here are the risks to children"
    assert related.published == datetime(2021, 10, 27, 19, 4, tzinfo=UTC)
    assert related.provider is not None and related.provider.name == "The Conversation"
    assert related.quality == 59
    assert related.image is not None and related.image.width == 320


def test_mojibake_in_the_seed_is_repaired() -> None:
    record, _ = read_record(SEEDS / "000_d61a9c0cd27bc914.txt")
    excerpt = record.related[0].excerpt
    assert "Commissioner\u2019s Office" in excerpt
    assert "â€" not in excerpt


def test_secured_never_leaves_the_reader() -> None:
    record, _ = read_record(SEEDS / "000_d61a9c0cd27bc914.txt")
    assert "aA4llqvq4dUJG97o" not in repr(record)


def test_bom_and_crlf_are_fine() -> None:
    text = record_text(record_fields()).replace("\n", "\r\n")
    record, _ = parse(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert record.title == "Grid batteries smooth out the evening peak"


def test_body_after_front_matter_is_ignored() -> None:
    record, _ = parse(record_text(record_fields()) + "\n# Markdown body\n---\nmore: yes\n")
    assert record.title.startswith("Grid batteries")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T08:00:00Z", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00+02:00", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("2026-11-20T08:00:00", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("2026-11-20 08:00", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("20261120T080000Z", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("Fri, 20 Nov 2026 03:00:00 -0500", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        ("20 Nov 2026 08:00:00 GMT", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
    ],
)
def test_dates_in_iso_and_rfc2822_forms(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("value", ["yesterday", "2026-13-40", "", 20261120, 1.5, True, None, ["2026-11-20"]])
def test_non_dates_are_refused(value: object) -> None:
    assert parse_datetime(value) is None


def test_yaml_timestamps_keep_their_zone() -> None:
    text = record_text(record_fields()).replace(
        "publishedDateTime: '2026-11-20T08:00:00Z'", "publishedDateTime: 2026-11-20T09:00:00+01:00"
    )
    record, _ = parse(text)
    assert record.published == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_unreadable_date_names_file_line_and_field() -> None:
    text = "---\ntitle: A\nwebUrl: https://a.example/x\npublishedDateTime: yesterday\n---\n"
    with pytest.raises(RecordError) as caught:
        parse(text, "seeds/x.txt")
    assert str(caught.value) == "seeds/x.txt:4: publishedDateTime: cannot read 'yesterday' as a date"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ...}, "title: missing or empty"),
        ({"title": "  "}, "title: missing or empty"),
        ({"webUrl": ..., "originalUrl": ...}, "webUrl: missing; a feed entry needs a link"),
        ({"webUrl": "javascript:alert(1)", "originalUrl": ...}, "webUrl: 'javascript:alert(1)' is not"),
        ({"publishedDateTime": ...}, "publishedDateTime: missing"),
    ],
)
def test_records_without_what_an_entry_needs_are_rejected(fields: dict[str, object], message: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse(record_text(record_fields(**fields)))
    assert message in str(caught.value)
    assert str(caught.value).startswith("seeds/x.txt")


def test_original_url_stands_in_for_a_bad_web_url() -> None:
    record, warnings = parse(record_text(record_fields(webUrl="/relative")))
    assert record.link == "https://www.gridwatch.example/news/batteries-evening-peak"
    assert [str(w) for w in warnings] == [
        "seeds/x.txt:7: webUrl: '/relative' is not an absolute http(s) URL; ignored"
    ]


def test_entry_id_is_the_canonical_original_url() -> None:
    record, _ = parse(
        record_text(
            record_fields(
                originalUrl="https://WWW.gridwatch.example/a?utm_source=rss&utm_medium=feed",
                webUrl="https://www.gridwatch.example/a",
            )
        )
    )
    assert record.id == "https://www.gridwatch.example/a"
    assert record.link == "https://www.gridwatch.example/a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "seeds/x.txt:1: no front matter"),
        ("title: no fences\n", "seeds/x.txt:1: no front matter"),
        ("---\ntitle: never closed\n", "seeds/x.txt:1: no front matter"),
        ("---\n---\n", "seeds/x.txt:2: front matter is empty"),
        ("---\n- a\n- b\n---\n", "seeds/x.txt:2: front matter is a list"),
        ("---\njust text\n---\n", "seeds/x.txt:2: front matter is a scalar"),
        ("---\ntitle: [unclosed\n---\n", "seeds/x.txt:3: invalid YAML"),
        ("---\ntitle: a\ntitle: b\n---\n", "seeds/x.txt:3: title: duplicate key"),
        ("---\ntitle: a\nwhen: 2026-02-30\n---\n", "seeds/x.txt:3: invalid YAML: cannot read '2026-02-30'"),
        ("---\na: &x [1]\nb: *x\n---\n", "seeds/x.txt:2: invalid YAML: anchors and aliases are not allowed"),
        ("---\na: !!python/name:os.system\n---\n", "seeds/x.txt:2: invalid YAML: "),
    ],
)
def test_broken_files_are_rejected_with_a_line(text: str, message: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse(text)
    assert str(caught.value).startswith(message)


def test_bad_parts_are_dropped_with_warnings_not_the_record() -> None:
    fields = record_fields(
        images=[
            {"url": "javascript:alert(1)", "width": 1, "height": 1},
            {"url": "https://media.example/ok.png", "width": "640", "height": "wide"},
            "not an image mapping at all but a string",
        ],
        related=[
            {"title": "No link"},
            {"title": "Fine", "webUrl": "https://other.example/fine"},
            {"webUrl": "https://other.example/untitled"},
            42,
        ],
        quality="high",
        topics="Energy",
    )
    record, warnings = parse(record_text(fields))
    assert [i.url for i in record.images] == ["https://media.example/ok.png"]
    assert (record.images[0].width, record.images[0].height) == (640, None)
    assert [r.title for r in record.related] == ["Fine"]
    assert record.quality is None
    assert record.topics == ("Energy",)
    fields_warned = [w.field for w in warnings]
    assert fields_warned == [
        "quality",
        "images[0].url",
        "images[2].url",
        "related[0].webUrl",
        "related[2].title",
        "related[3]",
    ]
    assert all(w.line is not None for w in warnings)


def test_numbers_flags_and_topics_are_coerced() -> None:
    fields = record_fields(quality="71", heat=3.5, published="no", topics=["AI", "ai", 2026, "", None])
    record, warnings = parse(record_text(fields))
    assert (record.quality, record.heat, record.is_published) == (71.0, 3.5, False)
    assert record.topics == ("AI", "2026")
    assert [w.field for w in warnings] == ["topics[4]"]


def test_an_updated_time_moves_updated_only_forward() -> None:
    later, _ = parse(record_text(record_fields(updatedDateTime="2026-11-21T08:00:00Z")))
    assert later.updated == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    earlier, _ = parse(record_text(record_fields(updatedDateTime="2020-01-01T00:00:00Z")))
    assert earlier.updated == earlier.published


def test_a_self_reference_or_repeat_in_related_is_kept_once() -> None:
    same = {"title": "Twice", "webUrl": "https://other.example/twice"}
    record, _ = parse(record_text(record_fields(related=[same, dict(same, title="Again")])))
    assert [r.title for r in record.related] == ["Twice"]


def test_read_records_reports_bad_files_and_keeps_good_ones(tmp_path: Path) -> None:
    write_record(tmp_path, "b.txt")
    write_record(tmp_path, "a.md", webUrl="https://www.gridwatch.example/other", originalUrl=...)
    (tmp_path / "c.txt").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("junk", encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()
    result = read_records(tmp_path)
    assert result.files == 3
    assert [r.key for r in result.records] == ["a.md", "b.txt"]
    assert len(result.errors) == 1
    assert result.errors[0].path.endswith("c.txt")


def test_read_records_reads_the_records_a_build_reads_in_subfolders_too(tmp_path: Path) -> None:
    """One definition of which files are records: `**/*.txt` reaches into subfolders
    for `read_records` as for `build`, hidden folders aside."""
    import topicfeeds

    from .conftest import BASE_CONFIG, make_config

    config = make_config(tmp_path, BASE_CONFIG + "patterns: ['**/*.txt']\n")
    seeds = tmp_path / "seeds"
    write_record(seeds, "a.txt")
    (seeds / "2026" / "11").mkdir(parents=True)
    write_record(seeds / "2026" / "11", "b.txt", webUrl="https://www.gridwatch.example/b", originalUrl=...)
    (seeds / ".drafts").mkdir()
    write_record(seeds / ".drafts", "c.txt", webUrl="https://www.gridwatch.example/c", originalUrl=...)
    result = topicfeeds.read_records(seeds, config.patterns)
    assert [r.key for r in result.records] == ["2026/11/b.txt", "a.txt"]
    assert topicfeeds.build(config).records == result.files == 2


def test_latin1_file_is_rejected_with_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(record_text(record_fields(title="Café")).encode("latin-1", "replace"))
    with pytest.raises(RecordError, match=r"not UTF-8: byte 0xe9 at offset \d+"):
        read_record(path)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write_record(tmp_path, "big.txt", excerpt="x" * 5000)
    with pytest.raises(RecordError, match="larger than the 1000-byte limit"):
        read_record(path, max_bytes=1000)


def test_parallel_reading_gives_what_serial_reading_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 20)
    monkeypatch.setattr(workers, "CHUNK_FILES", 4)  # chunks for three workers
    for n in range(45):
        write_record(tmp_path, f"{n:05}.txt", webUrl=f"https://n.example/{n}", originalUrl=..., quality=n)
    (tmp_path / "00003.txt").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    (tmp_path / "00040.txt").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    paths = sorted(tmp_path.iterdir())
    serial = reader.read_files(paths, 1 << 20, jobs=1)
    parallel = reader.read_files(paths, 1 << 20, jobs=3)
    assert parallel == serial
    assert [n for n, t in enumerate(parallel) if t.outcome[0] is None] == [3, 40]
    assert all(t.stamp is not None and t.stamp.size > 0 for t in parallel)
    assert parallel[3].sha256 is not None


def test_a_provider_met_again_gives_the_same_provider_and_the_same_warnings() -> None:
    """Providers are remembered between records only when they were built without a warning."""
    good = record_fields(provider={"name": "Wire Desk", "domain": "wiredesk.example"})
    bad = record_fields(provider={"name": "Wire Desk", "domain": "wire desk"})
    for _ in range(2):
        record, warnings = parse(record_text(good))
        assert record.provider is not None
        assert (record.provider.name, record.provider.url, warnings) == (
            "Wire Desk",
            "https://wiredesk.example/",
            [],
        )
        record, warnings = parse(record_text(bad))
        assert record.provider is not None and record.provider.url is None
        assert [(w.field, w.line) for w in warnings] == [("provider.domain", 14)]
