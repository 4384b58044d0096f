"""Records as JSON text: how parsed records cross a process boundary or wait in the
state store. JSON, not pickle, so a tampered state file cannot run code.

A record is kept in two parts: the light part (every field a topic chooses by, as
JSON text, read often) and the extra part (its images and related articles, as
zstd-compressed JSON, read only for the few records that reach a feed). Compressed,
the extra part takes about half its size, which keeps several rows to a page. The
light part leaves out what the store keeps in columns of its own (the file's name and
the entry id), and the link when it is the id, as it is for most records: a third of
its size.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

import orjson
import zstandard

from ..core.model import Entry, Image, Provider, Record, Related
from ..errors import Problem

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """Microseconds since the epoch: how times are stored."""
    return (value - _EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    """The time `micros` gave."""
    return _EPOCH + timedelta(microseconds=value)


def lossless(text: str) -> str | list[str]:
    """`text` in a form JSON and SQLite take: itself, or when it holds bytes that were
    not UTF-8 (a file name, as os.fsdecode gives it) a list holding those bytes in hex."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return [text.encode("utf-8", "surrogateescape").hex()]
    return text


def from_lossless(value: str | list[str]) -> str:
    """The text `lossless` was given."""
    return value if isinstance(value, str) else bytes.fromhex(value[0]).decode("utf-8", "surrogateescape")


def _provider(p: Provider | None) -> list[Any] | None:
    return None if p is None else [p.name, p.url]


def _image(i: Image | None) -> list[Any] | None:
    return None if i is None else [i.url, i.width, i.height, i.media_type]


def _fields(r: Record) -> list[Any]:
    return [lossless(r.key), r.id, r.title, r.link, r.excerpt, micros(r.published), micros(r.updated), r.type,
            r.category, r.quality, r.heat, r.is_published, _provider(r.provider), r.topics]  # fmt: skip


# One encoder for every record: json.dumps with options builds a new one per call.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_raw_decode = json.JSONDecoder().raw_decode


def _json_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON, as `_dumps` writes it up to the spelling of
    numbers (both read back as the same values).

    orjson writes a record's parts in a sixth of the time the json module takes, which
    a cold build spends on every record. It refuses what records may still hold: text
    with lone surrogates (a backslash escape in the YAML) and integers beyond 64 bits.
    Those go through the json module. It would write a float that is not finite as
    null, but records hold none: the builder drops such numbers."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _dumps(value).encode("utf-8", "surrogatepass")


def _light_text(value: list[Any]) -> str:
    """The light part's JSON as text (the store keeps it as text)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return _dumps(value)


def _loads_light(text: str) -> list[Any]:
    """The fields a light part's JSON text holds: orjson reads them in a third of the
    time; what it refuses (lone surrogates, see `_json_bytes`) the json module reads."""
    try:
        return orjson.loads(text)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:
        pass
    # json.loads less its Python layers (two whitespace matches and a wrapper), for
    # light texts, which are written without whitespace.
    fields, end = _raw_decode(text)
    if end != len(text):
        raise ValueError(f"light record: extra data after JSON at {end}: {text[end : end + 20]!r}")
    return fields  # type: ignore[no-any-return]


def _related(r: Record) -> list[Any]:
    return [
        [x.id, x.title, x.url, x.excerpt, None if x.published is None else micros(x.published),
         _provider(x.provider), x.quality, _image(x.image)]
        for x in r.related
    ]  # fmt: skip


class _Codecs(threading.local):
    """A zstd compressor and decompressor for each thread (neither may be shared), made
    once: making one costs three times what compressing a record does.

    zstd rather than zlib: on the extra part of a record (about 720 bytes) zstd's
    level 1 takes 6 us where zlib's level 1 takes 17 us, for 3% more bytes, and a
    cold build compresses every record."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=1)
        self.decompressor = zstandard.ZstdDecompressor()

    def compress(self, data: bytes) -> bytes:
        return self.compressor.compress(data)

    def decompress(self, data: bytes) -> bytes:
        return self.decompressor.decompress(data)


_CODECS = _Codecs()


def id_hash(entry_id: str) -> int:
    """A short digest of an entry id, for the store's index of ids: the rows it finds
    are checked against the id itself."""
    digest = hashlib.sha256(entry_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Light(NamedTuple):
    """A record's light part as the store keeps it: the file's key and the entry id
    from their columns, and the JSON text of the rest (see `encode_light_and_extra`)."""

    key: str
    id: str
    text: str


def encode_light_and_extra(r: Record) -> tuple[str, bytes]:
    """`r` without its images and related articles (all a topic needs to choose), its
    file's key and its id (the store keeps those apart: see `Light`), and the images
    and related articles alone, compressed."""
    extra = _json_bytes([[_image(i) for i in r.images], _related(r)])
    # The link, when it is the id, is left out (null): a link is never null.
    fields = _fields(r)[2:]
    if r.link == r.id:
        fields[1] = None
    return _light_text(fields), _CODECS.compress(extra)


def decode_light(light: Light) -> Record:
    """The record, without images and related articles, that `encode_light_and_extra`
    stored as `light`."""
    return _light_record(light, _loads_light(light.text))


def _light_record(light: Light, fields: list[Any]) -> Record:
    (title, link, excerpt, published, updated, type_, category, quality, heat, is_published, provider,
     topics) = fields  # fmt: skip
    return Record(
        key=light.key,
        id=light.id,
        title=title,
        link=light.id if link is None else link,
        excerpt=excerpt,
        published=from_micros(published),
        updated=from_micros(updated),
        type=type_,
        category=category,
        quality=quality,
        heat=heat,
        is_published=is_published,
        provider=_to_provider(provider),
        topics=tuple(topics),
        images=(),
        related=(),
    )


class LightCandidate:
    """A light record read only as far as ranking it needs (a `core.shortlist.Candidate`):
    its JSON text parsed, its `Record` made only when asked for. Most records a
    shortlist is offered never are."""

    __slots__ = ("_fields", "_light", "_record", "heat", "id", "published_micros", "quality", "topics")

    def __init__(self, light: Light) -> None:
        self._light = light
        self._fields = fields = _loads_light(light.text)
        self._record: Record | None = None
        self.id = light.id
        self.published_micros: int = fields[3]
        self.quality: float | None = fields[7]
        self.heat: float | None = fields[8]
        self.topics: list[str] = fields[11]  # as the record writes them

    def record(self) -> Record:
        """The record `decode_light` gives."""
        if self._record is None:
            self._record = _light_record(self._light, self._fields)
        return self._record


def with_extra(light: Record, extra: bytes) -> Record:
    """The whole record: its light part and the extra part `encode_light_and_extra` gave."""
    images, related = json.loads(_CODECS.decompress(extra).decode("utf-8", "surrogatepass"))
    return replace(light, images=_to_images(images), related=_to_related(related))


def _to_provider(v: list[Any] | None) -> Provider | None:
    return None if v is None else Provider(v[0], v[1])


def _to_image(v: list[Any] | None) -> Image | None:
    return None if v is None else Image(v[0], v[1], v[2], v[3])


def _to_images(images: list[Any]) -> tuple[Image, ...]:
    return tuple(Image(i[0], i[1], i[2], i[3]) for i in images)


def _to_related(related: list[Any]) -> tuple[Related, ...]:
    return tuple(_related_of(x) for x in related)


def encode_entry(e: Entry) -> str:
    """An entry as shown in a feed, as compact JSON text (an archive keeps it so)."""
    related = [
        [x.id, x.title, x.url, x.excerpt, None if x.published is None else micros(x.published),
         _provider(x.provider), x.quality, _image(x.image)]
        for x in e.related
    ]  # fmt: skip
    return _dumps([e.id, e.title, e.link, e.excerpt, micros(e.published), micros(e.updated),
                   _provider(e.provider), e.quality, e.heat, e.topics, [_image(i) for i in e.images],
                   related, e.via, e.via_title])  # fmt: skip


def _related_of(x: list[Any]) -> Related:
    published = None if x[4] is None else from_micros(x[4])
    return Related(x[0], x[1], x[2], x[3], published, _to_provider(x[5]), x[6], _to_image(x[7]))


def decode_entry(text: str) -> Entry:
    """The entry `encode_entry` wrote."""
    (id_, title, link, excerpt, published, updated, provider, quality, heat, topics, images, related, via,
     via_title) = json.loads(text)  # fmt: skip
    return Entry(
        id=id_,
        title=title,
        link=link,
        excerpt=excerpt,
        published=from_micros(published),
        updated=from_micros(updated),
        provider=_to_provider(provider),
        quality=quality,
        heat=heat,
        topics=tuple(topics),
        images=_to_images(images),
        related=_to_related(related),
        via=via,
        via_title=via_title,
    )


def encode_problems(problems: list[Problem]) -> str:
    """Warnings or errors as JSON text."""
    return json.dumps([[lossless(p.path), p.line, p.field, p.message] for p in problems], ensure_ascii=False)


def decode_problems(text: str) -> list[Problem]:
    """The problems `encode_problems` wrote."""
    return [Problem(from_lossless(path), *rest) for path, *rest in json.loads(text)]
