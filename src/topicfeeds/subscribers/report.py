"""What the counts look like: a table for a terminal, JSON for monitoring, and a page
with a chart per topic that a browser shows without a network (inline SVG, no script)."""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import PublishError
from .count import Counts, FeedDay, TopicCounts, TopicDay, share
from .scan import Survey

if TYPE_CHECKING:
    import jinja2

SPARKS = "▁▂▃▄▅▆▇█"
ASCII_SPARKS = "_.-=+*#@"


# -- the table


def table(counts: Counts, *, daily: bool = False, sparks: str = SPARKS) -> str:
    """The counts as a table: per topic its last day and trend, and each feed beneath;
    with `daily`, a row for every day."""
    if not counts.days:
        return "No requests in the logs.\n"
    first, last = counts.days[0], counts.days[-1]
    span = f"{_days(len(counts.days))}, {first} to {last}" if first != last else f"1 day, {first}"
    heading = (
        f"Subscribers per topic and feed, day by day ({span}, UTC)"
        if daily
        else f"Subscribers per topic and feed on {last}, the last day of the logs ({span}, UTC)"
    )
    head = ["topic / feed", *(["day"] if daily else []), "subscribers", "aggregators", "hubs", "readers",
            "304"]  # fmt: skip
    if not daily:
        head += ["change", "trend"]
    rows: list[list[str]] = [head]
    for topic in (t for t in counts.topics if t.fetched):
        lines: list[tuple[str, Sequence[TopicDay | FeedDay], bool]] = [(topic.topic, topic.days, True)]
        lines += [(f"  {f.feed.name}", f.days, False) for f in topic.feeds if f.fetched]
        for name, days, is_topic in lines:
            for day in days if daily else days[-1:]:
                row = [name, *([str(day.day)] if daily else []), *_numbers(day)]
                if not daily:
                    row += [f"{topic.change:+d}", _sparkline(topic, sparks)] if is_topic else ["", ""]
                rows.append(row)
    body = _aligned(rows, left={0, 1} if daily else {0, len(head) - 1})
    footer = f"{counts.lines} requests read, {counts.fetches} of them fetches of a feed."
    idle = [t.topic for t in counts.topics if not t.fetched]
    if idle:
        footer += f"\nNobody fetched the feeds of {', '.join(sorted(idle))}."
    return f"{heading}\n\n{body}\n{footer}\n"


def _numbers(day: TopicDay | FeedDay) -> list[str]:
    share_304 = share(day.not_modified, day.requests)
    return [
        str(day.subscribers),
        str(day.aggregators),
        str(day.hubs),
        str(day.readers),
        "-" if share_304 is None else f"{share_304:.0%}",
    ]


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _sparkline(topic: TopicCounts, sparks: str) -> str:
    """The days' subscribers from the lowest to the highest (a flat line when they
    never moved): the change column says by how much."""
    values = [d.subscribers for d in topic.days]
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    if low == high:
        return sparks[len(sparks) // 2] * len(values)
    return "".join(sparks[round((v - low) * (len(sparks) - 1) / (high - low))] for v in values)


def _aligned(rows: list[list[str]], left: set[int]) -> str:
    """Columns padded to their widths: those in `left` to the left, numbers to the right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


# -- JSON


def to_json(survey: Survey, titles: Mapping[str, str]) -> dict[str, Any]:
    """The whole survey for monitoring: every topic, feed and day."""
    counts = survey.counts
    return {
        "days": [str(d) for d in counts.days],
        "logs": {
            "files": survey.files,
            "requests": counts.lines,
            "fetches": counts.fetches,
            "unreadable_lines": survey.unreadable,
        },
        "topics": [
            {
                "topic": t.topic,
                "title": titles.get(t.topic, t.topic),
                "configured": t.configured,
                "subscribers": t.latest.subscribers if t.latest else 0,
                "change": t.change,
                "days": [_topic_day(d) for d in t.days],
                "feeds": [
                    {"feed": f.feed.name, "format": f.feed.format, "days": [_feed_day(d) for d in f.days]}
                    for f in t.feeds
                ],
            }
            for t in counts.topics
        ],
        "problems": [str(p) for p in survey.problems],
        "warnings": [str(p) for p in survey.warnings],
    }


def json_text(survey: Survey, titles: Mapping[str, str]) -> str:
    """`to_json` as indented text. By orjson: the json module does not use its C encoder
    when asked to indent, and a month of a hundred feeds takes it seconds."""
    return orjson.dumps(to_json(survey, titles), option=orjson.OPT_INDENT_2).decode("utf-8")


def _topic_day(day: TopicDay) -> dict[str, Any]:
    return {
        "day": str(day.day),
        "subscribers": day.subscribers,
        "aggregators": day.aggregators,
        "hubs": day.hubs,
        "readers": day.readers,
        "requests": day.requests,
        "not_modified": day.not_modified,
        "not_modified_share": _rounded(share(day.not_modified, day.requests)),
    }


def _feed_day(day: FeedDay) -> dict[str, Any]:
    return {
        **_topic_day(
            TopicDay(day.day, day.aggregators, day.hubs, day.readers, day.requests, day.not_modified)
        ),
        "services": [
            {"kind": s.kind, "name": s.name, "subscribers": s.subscribers, "feed_ids": s.feed_ids}
            for s in day.services
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# -- the page

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 30  # margins around the plot, for the axes' labels
PARTS = ("aggregators", "hubs", "readers")  # stacked from the bottom up


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a day's bar."""

    part: str  # aggregators, hubs or readers
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's subscribers, stacked."""

    x: float
    width: float
    segments: tuple[Segment, ...]
    title: str  # shown on hover: the day and its numbers


@dataclass(frozen=True, slots=True)
class Label:
    """A value on an axis, where it goes."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A topic's subscribers over the days, as bars in an SVG drawing."""

    width: int
    height: int
    left: int
    top: int
    bottom: int  # y of the days' axis
    right: int  # x of the plot's right edge
    bars: tuple[Bar, ...]
    ticks: tuple[Label, ...]  # subscribers, up the left side
    days: tuple[Label, ...]  # some days, along the bottom
    summary: str  # the chart in words, for screen readers


def nice_top(value: int) -> tuple[int, int]:
    """A round top for an axis reaching `value`, and the step between its ticks
    (at most five of them): 705 gives (800, 200)."""
    if value <= 0:
        return 1, 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if math.ceil(value / (step * factor)) <= 4:
                size = step * factor
                return math.ceil(value / size) * size, size
        step *= 10


def chart(topic: TopicCounts) -> Chart:
    """`topic`'s chart."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, step = nice_top(max((d.subscribers for d in topic.days), default=0))
    band = plot_w / max(len(topic.days), 1)
    width = max(band * 0.7, 1.0)
    bars = []
    for i, day in enumerate(topic.days):
        y = float(TOP + plot_h)
        segments = []
        for part in PARTS:
            value = getattr(day, part)
            if value:
                height = value / top * plot_h
                y -= height
                segments.append(Segment(part, round(y, 2), round(height, 2)))
        title = (
            f"{_human(day.day)}: {day.subscribers} subscribers "
            f"({day.aggregators} by aggregators, {day.hubs} by hubs, {day.readers} direct readers)"
        )
        bars.append(
            Bar(round(LEFT + i * band + (band - width) / 2, 2), round(width, 2), tuple(segments), title)
        )
    ticks = tuple(Label(round(TOP + plot_h - v / top * plot_h, 2), str(v)) for v in range(0, top + 1, step))
    every = max(1, math.ceil(len(topic.days) / 6))
    shown = [i for i in range(len(topic.days)) if i % every == 0]
    days = tuple(Label(round(LEFT + (i + 0.5) * band, 2), _human(topic.days[i].day)) for i in shown)
    first, latest = (topic.days[0], topic.days[-1]) if topic.days else (None, None)
    summary = (
        f"Subscribers to {topic.topic} per day, from {first.subscribers} on {_human(first.day)} "
        f"to {latest.subscribers} on {_human(latest.day)}"
        if first is not None and latest is not None
        else f"No days in the logs for {topic.topic}"
    )
    return Chart(WIDTH, HEIGHT, LEFT, TOP, TOP + plot_h, LEFT + plot_w, tuple(bars), ticks, days, summary)


def _human(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def html(survey: Survey, titles: Mapping[str, str], version: str) -> str:
    """The page: a section per topic with its chart, its feeds and the services that
    report its subscribers on the last day."""
    counts = survey.counts
    topics = [(t, chart(t)) for t in counts.topics if t.fetched]
    idle = sorted(t.topic for t in counts.topics if not t.fetched)
    return (
        _environment()
        .get_template("subscribers.html")
        .render(
            counts=counts,
            survey=survey,
            topics=topics,
            idle=idle,
            titles=titles,
            parts=PARTS,
            version=version,
            first=_human(counts.days[0]) if counts.days else None,
            last=_human(counts.days[-1]) if counts.days else None,
            share=share,
        )
    )


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("topicfeeds.subscribers", "templates"),
        autoescape=True,  # agents' names come from anyone who sends a request: text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def sparks_for(encoding: str | None) -> str:
    """The trend's characters: block elements where the output can show them."""
    try:
        SPARKS.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_SPARKS
    return SPARKS


def write_page(path: Path, page: str) -> None:
    """Write `page` to `path` whole: a reader never sees half a page, and a failed
    write leaves the old one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(page, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise PublishError(path, exc.strerror or str(exc)) from exc
