"""Building a Record from loaded fields: the quick ways through give exactly the values
the plain ways give."""

from __future__ import annotations

import math
import pickle
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from topicfeeds.core.model import Image, Record, Related
from topicfeeds.records import builder, reader, values

from .conftest import SEEDS


def _rebuilt(value: Any) -> Any:
    """`value` made again by its dataclass's own constructor, all the way down."""
    if isinstance(value, tuple):
        return tuple(_rebuilt(item) for item in value)
    if isinstance(value, (Record, Related, Image)):
        return type(value)(**{f.name: _rebuilt(getattr(value, f.name)) for f in fields(value)})
    return value


def _same_model_value(value: Any, other: Any) -> None:
    assert type(value) is type(other)
    assert value == other
    assert repr(value) == repr(other)
    assert hash(value) == hash(other)
    assert pickle.loads(pickle.dumps(value)) == other
    if isinstance(value, (Record, Related, Image)):
        for f in fields(value):
            _same_model_value(getattr(value, f.name), getattr(other, f.name))
    elif isinstance(value, tuple):
        for item, other_item in zip(value, other, strict=True):
            _same_model_value(item, other_item)


def test_values_built_quickly_are_the_models_own() -> None:
    """Records, related articles and images built here are the model's classes, equal
    and alike in every way to what their own constructors make."""
    checked = 0
    for path in sorted(SEEDS.glob("*.txt")):
        record, _ = reader.parse_record(path.read_bytes(), f"seeds/{path.name}")
        _same_model_value(record, _rebuilt(record))
        assert type(record) is Record
        assert all(type(r) is Related for r in record.related)
        assert all(type(i) is Image for i in record.images)
        checked += bool(record.related) and bool(record.images)
    assert checked  # the seeds hold related articles and images


def test_the_quick_classes_keep_the_models_slots() -> None:
    for quick, model in ((builder._RecordParts, Record), (builder._RelatedParts, Related),
                         (builder._ImageParts, Image)):  # fmt: skip
        assert quick.__slots__ == tuple(f.name for f in fields(model)) == model.__slots__  # type: ignore[attr-defined]


def _parse_datetime_as_first_written(value: object) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        return values.parse_datetime(value)  # text: unchanged
    try:
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


ZONES = [timezone.utc, timezone(timedelta(0)), timezone(timedelta(hours=2)), timezone(-timedelta(minutes=1))]


@given(
    st.one_of(
        st.datetimes(timezones=st.sampled_from(ZONES)),
        st.datetimes(),
        st.dates(),
    )
)  # fmt: skip
@example(datetime.min.replace(tzinfo=timezone(timedelta(hours=1))))
@example(datetime.max.replace(tzinfo=timezone.utc))
def test_dates_in_utc_are_taken_as_they_are(value: Any) -> None:
    expected = _parse_datetime_as_first_written(value)
    got = values.parse_datetime(value)
    assert got == expected
    assert repr(got) == repr(expected)
    if got is not None and expected is not None:
        assert got.tzinfo is expected.tzinfo


def _to_number_as_first_written(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


@given(st.one_of(st.integers(), st.integers(min_value=10**300, max_value=10**400), st.booleans(),
                 st.floats(), st.text(max_size=6)))  # fmt: skip
@example(10**309)
@example(-(10**309))
def test_numbers_are_read_as_before(value: Any) -> None:
    got = values.to_number(value)
    expected = _to_number_as_first_written(value)
    assert repr(got) == repr(expected)
