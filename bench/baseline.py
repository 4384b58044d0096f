"""The script one would write without topicfeeds: read every record, group by topic,
write the newest entries of each topic with feedgen. A yardstick for the benchmarks.

    python bench/baseline.py CONFIG [--out DIR]
"""

from __future__ import annotations

import argparse
import heapq
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from feedgen.feed import FeedGenerator

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def front_matter(text: str) -> dict[str, Any] | None:
    """The YAML mapping between the first two `---` lines, or None when there is none."""
    parts = text.split("---\n", 2)
    if len(parts) < 3 or parts[0].strip():
        return None
    data = yaml.load(parts[1], Loader=Loader)
    return data if isinstance(data, dict) else None


def as_datetime(value: Any) -> datetime | None:
    """YAML already turns unquoted ISO timestamps into datetimes; quoted ones need parsing."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def load_records(folder: Path, published_only: bool) -> list[dict[str, Any]]:
    """Every usable record in `folder`, with `publishedDateTime` as an aware datetime."""
    records = []
    for path in sorted(folder.glob("*.txt")):
        data = front_matter(path.read_text(encoding="utf-8"))
        if data is None or not data.get("title") or (published_only and data.get("published") is False):
            continue
        when = as_datetime(data.get("publishedDateTime"))
        if when is None or not (data.get("webUrl") or data.get("originalUrl")):
            continue
        data["publishedDateTime"] = when
        records.append(data)
    return records


def write_feeds(
    site: dict[str, Any], slug: str, title: str, entries: list[dict[str, Any]], out: Path
) -> None:
    """Write `<slug>.atom` and `<slug>.rss` holding `entries`, newest first."""
    base = site["base_url"].rstrip("/") + "/"
    fg = FeedGenerator()
    fg.id(f"{base}{slug}.atom")
    fg.title(title)
    fg.description(title)
    # feedgen's RSS <link> takes the last link given, so the site link goes last.
    fg.link(href=f"{base}{slug}.atom", rel="self")
    fg.link(href=site["link"], rel="alternate")
    if site.get("language"):
        fg.language(site["language"])
    fg.updated(entries[0]["publishedDateTime"] if entries else datetime.now(timezone.utc))
    for record in entries:
        link = record.get("webUrl") or record["originalUrl"]
        fe = fg.add_entry(order="append")  # feedgen prepends by default
        fe.id(record.get("originalUrl") or link)
        fe.title(str(record["title"]))
        fe.link(href=link)
        fe.published(record["publishedDateTime"])
        fe.updated(record["publishedDateTime"])
        if record.get("excerpt"):
            fe.summary(str(record["excerpt"]))
        provider = record.get("provider")
        if isinstance(provider, dict) and provider.get("name"):
            fe.author(name=str(provider["name"]))
    fg.atom_file(str(out / f"{slug}.atom"))
    fg.rss_file(str(out / f"{slug}.rss"))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Write per-topic feeds the plain way, with feedgen.")
    parser.add_argument("config", type=Path, metavar="CONFIG")
    parser.add_argument("--out", type=Path, help="output folder (default: baseline-feeds next to CONFIG)")
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    root = args.config.parent
    out = args.out or root / "baseline-feeds"
    out.mkdir(parents=True, exist_ok=True)
    defaults = config.get("defaults") or {}
    limit = int(defaults.get("limit", 50))
    records = load_records(root / config.get("records", "seeds"), defaults.get("published", "only") == "only")

    topics: dict[str, dict[str, Any]] = config["topics"]
    slugs_for: dict[str, list[str]] = {}
    for slug, topic in topics.items():
        for name in topic.get("match") or [topic.get("title", slug)]:
            slugs_for.setdefault(str(name).casefold(), []).append(slug)
    grouped: dict[str, list[dict[str, Any]]] = {slug: [] for slug in topics}
    for record in records:
        # A set, so a record naming two topics of one feed lands in it once.
        slugs = {s for name in record.get("topics") or [] for s in slugs_for.get(str(name).casefold(), [])}
        for slug in slugs:
            grouped[slug].append(record)

    for slug, topic in topics.items():
        newest = heapq.nlargest(limit, grouped[slug], key=lambda r: r["publishedDateTime"])
        write_feeds(config["site"], slug, topic.get("title", slug), newest, out)
    print(f"baseline: {len(topics)} topics, {2 * len(topics)} feeds; {len(records)} records in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
