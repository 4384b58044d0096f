"""What a record's single values are read as: dates, numbers, sizes, true or false, and
how a value is shown in a warning. Pure; the builder calls these once per field (hot)."""

from __future__ import annotations

import email.utils
import math
from datetime import date, datetime, timezone

import dateutil.parser

# How a quoted true or false is written in records (YAML 1.1 spellings and 1/0).
TRUTHY = {"true", "yes", "on", "1"}
FALSY = {"false", "no", "off", "0"}


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from a YAML timestamp, ISO 8601 or RFC 2822
    text; a value without a zone is taken as UTC. None when it is not a date."""
    if type(value) is datetime and value.tzinfo is timezone.utc:
        return value  # most dates: what astimezone below would return, the same object
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = dateutil.parser.isoparse(text)
            except (ValueError, OverflowError):
                try:
                    parsed = email.utils.parsedate_to_datetime(text)
                except (TypeError, ValueError, IndexError, OverflowError):
                    return None
    else:
        return None
    try:
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def to_number(value: object) -> float | None:
    """A finite number from an int, a float or a text holding one; None otherwise (a
    bool is not a number here)."""
    if type(value) is int:
        try:
            return float(value)  # finite whenever it is not too large for a float
        except OverflowError:
            return None
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # "high", or an integer no float can hold
        return None
    return number if math.isfinite(number) else None


def to_size(value: object) -> int | None:
    """An image's width or height: a whole number from 0 to 1,000,000; None otherwise."""
    number = to_number(value)
    if number is None or number < 0 or number != int(number) or number > 1_000_000:
        return None
    return int(number)


def show(value: object) -> str:
    """`value` as a warning quotes it: text in quotes, at most 60 characters."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: object) -> str:
    """What a warning calls a value that is not what was expected."""
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "scalar"
