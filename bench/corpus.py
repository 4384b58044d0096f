"""Generate a synthetic, deterministic corpus of record files and a config for benchmarks.

    python bench/corpus.py OUT_DIR --records 10000 --topics 50 [--seed 1]

The same arguments always give byte-identical files: only `random.Random(seed)` is used
and every date is measured back from a fixed reference time.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

REFERENCE = datetime(2026, 11, 28, tzinfo=timezone.utc)  # pass the same time to `--now`
SPAN_DAYS = 90
DUPLICATE_RATE = 0.01
UNPUBLISHED_RATE = 0.05
PROVIDER_COUNT = 200
RECORDS_DIR = "seeds"
OUTPUT_DIR = "feeds"
AUTO_ABOVE = 200  # more topics than this: `auto: true` makes them, none is configured

_WORD_TEXT = (
    "council market energy climate grid battery solar wind chip cloud data privacy court ruling "
    "startup funding model robot vision satellite launch rover vaccine hospital school teacher "
    "union strike budget tax tariff export port shipping rail airline airport fleet drone sensor "
    "network outage breach ransomware patch update software hardware platform app users regulator "
    "review report survey study trial pilot scheme plan target deadline record quarter profit loss "
    "shares investors board chief founder researchers engineers scientists residents drivers farmers "
    "river flood drought heatwave storm forecast emissions carbon hydrogen nuclear reactor licence "
    "café Zürich naïve São-Paulo Malmö R&D A/B Q&A 5G 50% 'quiet' \"open\" co-operation #1"
)
_VERB_TEXT = (
    "approves rejects delays expands cuts launches pauses tests unveils backs questions warns "
    "doubles halves wins loses opens closes sues hires replaces"
)
_WORDS = tuple(_WORD_TEXT.split())
_VERBS = tuple(_VERB_TEXT.split())
_CATEGORIES = ("news",) * 8 + ("analysis", "opinion")
_TYPES = ("article",) * 9 + ("video",)
_SIZES = ((320, 213), (370, 229), (640, 360), (800, 450), (1200, 630))


def q(text: str) -> str:
    """`text` as a YAML double-quoted scalar: JSON's string syntax is a subset of it."""
    return json.dumps(text, ensure_ascii=False)


def _providers() -> list[tuple[str, str]]:
    # A fixed list independent of the record seed, so added records share the providers.
    rng = random.Random(20261128)
    first = ("Daily", "Morning", "Evening", "Northern", "Southern", "Coastal", "Metro", "Civic", "Harbour")
    second = ("Ledger", "Courier", "Signal", "Gazette", "Wire", "Review", "Post", "Monitor", "Beacon")
    seen: dict[str, str] = {}
    while len(seen) < PROVIDER_COUNT:
        name = f"{rng.choice(first)} {rng.choice(second)}"
        if name in seen:
            name = f"{name} {len(seen)}"
        seen[name] = re.sub(r"[^a-z0-9]+", "", name.lower()) + ".example"
    return list(seen.items())


PROVIDERS = _providers()


def topic_names(count: int) -> list[str]:
    """The record topic names a corpus of `count` topics uses: "Topic 001", ..."""
    width = max(3, len(str(count)))
    return [f"Topic {i:0{width}d}" for i in range(1, count + 1)]


class _Generator:
    """Builds record texts from one random stream."""

    def __init__(self, rng: random.Random, topics: Sequence[str]) -> None:
        self.rng = rng
        self.topics = list(topics)
        # Mildly skewed so some topics are busy and others sparse, as in real news.
        self.weights = [1 / (i + 1) ** 0.7 for i in range(len(topics))]

    def words(self, count: int, *, sentence: bool = False) -> str:
        text = " ".join(self.rng.choices(_WORDS, k=count))
        # str.capitalize would lowercase the rest: "R&D" must not become "R&d".
        return text[:1].upper() + text[1:] if sentence else text

    def title(self) -> str:
        rng = self.rng
        subject = self.words(rng.randint(1, 3), sentence=True)
        return f"{subject} {rng.choice(_VERBS)} {self.words(rng.randint(2, 6))}"

    def excerpt(self, low: int = 150, high: int = 250) -> str:
        target = self.rng.randint(low, high)
        parts: list[str] = []
        size = 0
        while size < target:
            sentence = self.words(self.rng.randint(6, 14), sentence=True) + "."
            parts.append(sentence)
            size += len(sentence) + 1
        text = " ".join(parts)[:target]
        return text.rsplit(" ", 1)[0].rstrip(".,") + "."

    def when(self, newest_days: float = SPAN_DAYS) -> datetime:
        return REFERENCE - timedelta(seconds=self.rng.randrange(60, int(newest_days * 86400)))

    def images(self, domain: str, key: str, most: int, indent: str) -> list[str]:
        count = self.rng.randint(0, most)
        if not count:
            return [f"{indent}images: []"]
        lines = [f"{indent}images:"]
        for n in range(count):
            width, height = self.rng.choice(_SIZES)
            lines += [
                f"{indent}  - url: {q(f'https://img.{domain}/{key}/{n}-{width}x{height}.jpg')}",
                f"{indent}    width: {width}",
                f"{indent}    height: {height}",
                f"{indent}    isCached: true",
            ]
        return lines

    def related(self, when: datetime) -> list[str]:
        rng = self.rng
        count = rng.randint(0, 3)
        if not count:
            return ["related: []"]
        lines = ["related:"]
        for _ in range(count):
            name, domain = rng.choice(PROVIDERS)
            key = f"{rng.getrandbits(40):010x}"
            stamp = when + timedelta(minutes=rng.randint(-2880, 2880))
            lines += [
                f"  - title: {q(self.title())}",
                f"    excerpt: {q(self.excerpt(80, 200))}",
                f"    publishedDateTime: {stamp:%Y-%m-%dT%H:%M:%SZ}",
                f"    webUrl: {q(f'https://www.{domain}/story/{key}')}",
                "    type: article",
                "    provider:",
                f"      name: {q(name)}",
                f"      domain: {domain}",
                f"    quality: {rng.randint(0, 100)}",
                *self.images(domain, key, 1, "    "),
            ]
        return lines

    def secured(self) -> str:
        rng = self.rng
        blob = base64.b64encode(rng.randbytes(rng.randint(150, 300))).decode("ascii")
        return f"{blob};{base64.b64encode(rng.randbytes(16)).decode('ascii')}"

    def record(
        self,
        index: int,
        *,
        title: str | None = None,
        urls: tuple[str, str] | None = None,
        topics: Sequence[str] | None = None,
        newest_days: float = SPAN_DAYS,
    ) -> tuple[str, str, tuple[str, str], list[str]]:
        """(file name, text, (originalUrl, webUrl), topics) of record number `index`."""
        rng = self.rng
        name, domain = rng.choice(PROVIDERS)
        title = title or self.title()
        if urls is None:
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
            original = f"https://www.{domain}/news/{index}/{slug}"
            urls = (original, original if rng.random() < 0.8 else f"https://m.{domain}/news/{index}")
        if topics is None:
            topics = list(dict.fromkeys(rng.choices(self.topics, self.weights, k=rng.randint(1, 3))))
        when = self.when(newest_days)
        lines = [
            "---",
            f"category: {rng.choice(_CATEGORIES)}",
            f"title: {q(title)}",
            f"excerpt: {q(self.excerpt())}",
            f"publishedDateTime: {when:%Y-%m-%dT%H:%M:%SZ}",
            f"originalUrl: {q(urls[0])}",
            f"webUrl: {q(urls[1])}",
            f"type: {rng.choice(_TYPES)}",
            f"quality: {rng.randint(0, 100)}",
            f"heat: {-1 if rng.random() < 0.6 else rng.randint(0, 1000)}",
            f"published: {'false' if rng.random() < UNPUBLISHED_RATE else 'true'}",
            "",
            "provider:",
            f"  name: {q(name)}",
            f"  domain: {domain}",
            "",
            "topics:",
            *(f"  - {q(t)}" for t in topics),
            "",
            *self.images(domain, str(index), 2, ""),
            "",
            *self.related(when),
            "",
            f"secured: {q(self.secured())}",
            "---",
            "",
        ]
        file_name = f"{index:07d}_{rng.getrandbits(64):016x}.txt"
        return file_name, "\n".join(lines), urls, list(topics)


def _write(path: Path, text: str) -> None:
    # newline="\n" keeps the bytes identical on every platform.
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _config_text(topics: Sequence[str]) -> str:
    if len(topics) > AUTO_ABOVE:
        # As newsrooms with a feed per tag run: every record topic makes its own feed.
        return "\n".join([*_SITE_LINES, "auto: true", f"auto_max_topics: {len(topics)}"]) + "\n"
    lines = [*_SITE_LINES, "auto: false", "topics:"]
    for name in topics:
        lines += [f"  {name.lower().replace(' ', '-')}:", f"    title: {q(name)}", f"    match: [{q(name)}]"]
    return "\n".join(lines) + "\n"


_SITE_LINES = [
    "site:",
    '  title: "Bench Daily"',
    '  link: "https://bench.example/"',
    '  base_url: "https://bench.example/feeds/"',
    "records: seeds",
    "output: feeds",
    "defaults:",
    "  limit: 50",
    "  published: only",
]


def _record_files(out_dir: Path) -> list[Path]:
    return sorted((out_dir / RECORDS_DIR).glob("[0-9]*_*.txt"))


def write_corpus(out_dir: Path, records: int, topics: int, seed: int = 1) -> Path:
    """Write `records` record files and a config with `topics` topics; return the config path.
    Earlier generated records in `out_dir` are replaced, so the folder matches the arguments."""
    seeds = out_dir / RECORDS_DIR
    seeds.mkdir(parents=True, exist_ok=True)
    (out_dir / OUTPUT_DIR).mkdir(exist_ok=True)
    for old in _record_files(out_dir):
        old.unlink()
    names = topic_names(topics)
    gen = _Generator(random.Random(seed), names)
    made: list[tuple[str, tuple[str, str], list[str]]] = []
    for index in range(records):
        if made and gen.rng.random() < DUPLICATE_RATE:
            # The same article filed twice, as aggregators do: same URLs, retouched title.
            title, urls, its_topics = gen.rng.choice(made)
            title = f"{title} (updated)"
            file_name, text, _, _ = gen.record(index, title=title, urls=urls, topics=its_topics)
        else:
            title = gen.title()
            file_name, text, urls, its_topics = gen.record(index, title=title)
            made.append((title, urls, its_topics))
        _write(seeds / file_name, text)
    config = out_dir / "config.yaml"
    _write(config, _config_text(names))
    return config


def _corpus_topics(out_dir: Path) -> list[str]:
    data = yaml.safe_load((out_dir / "config.yaml").read_text(encoding="utf-8"))
    if data.get("auto"):
        return topic_names(int(data["auto_max_topics"]))
    return [name for topic in data["topics"].values() for name in topic["match"]]


_TITLE = re.compile(r"^title: .*$", re.M)
_EXCERPT = re.compile(r"^excerpt: .*$", re.M)


def edit_records(out_dir: Path, count: int, seed: int) -> list[Path]:
    """Give `count` existing records a new title and excerpt, keeping their URLs and file names."""
    files = _record_files(out_dir)
    gen = _Generator(random.Random(seed), _corpus_topics(out_dir))
    chosen = sorted(gen.rng.sample(files, min(count, len(files))))
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        # Only top-level keys start a line, so related articles' titles are left alone.
        text = _TITLE.sub(lambda _m: f"title: {q(gen.title())}", text, count=1)
        text = _EXCERPT.sub(lambda _m: f"excerpt: {q(gen.excerpt())}", text, count=1)
        # Written beside it and renamed over it: a corpus copied with `cp -al` shares its
        # files with the original, which an edit in place would change too.
        fresh = path.with_name(f".{path.name}.new")
        _write(fresh, text)
        fresh.replace(path)
    return chosen


def add_records(out_dir: Path, count: int, seed: int) -> list[Path]:
    """Add `count` records about new articles, dated within the last two days as fresh news is."""
    files = _record_files(out_dir)
    start = int(files[-1].name.split("_", 1)[0]) + 1 if files else 0
    gen = _Generator(random.Random(seed), _corpus_topics(out_dir))
    added = []
    for index in range(start, start + count):
        # URLs embed the record number, so they cannot collide with existing ones.
        file_name, text, _, _ = gen.record(index, newest_days=2)
        path = out_dir / RECORDS_DIR / file_name
        _write(path, text)
        added.append(path)
    return added


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Write a synthetic record corpus and its config.yaml.")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    config = write_corpus(args.out_dir, args.records, args.topics, args.seed)
    print(f"{args.records} records, {args.topics} topics: {config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
