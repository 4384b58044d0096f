"""A record's loaded fields to a `Record`: cleaned, checked, with a warning (and its
line) for every part dropped, or a `RecordError` for what a feed entry cannot lack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import yaml

from ..core.model import Image, Provider, Record, Related
from ..errors import Problem, RecordError, dotted
from .clean import canonical_url, clean_line, clean_text, clean_url, image_media_type
from .values import FALSY, TRUTHY, kind_of, parse_datetime, show, to_number, to_size
from .yamlload import CACHE_LIMIT


class Builder:
    """Turns the loaded mapping of one file into a Record, collecting warnings."""

    def __init__(
        self, shown: str, node: yaml.Node | None, compose: Callable[[], yaml.Node | None] | None = None
    ) -> None:
        """`node` is the tree the fields were read from; or, when they were read without
        one, `compose` makes it, the first time a line is asked for."""
        self.shown = shown
        self.node = node
        self.compose = compose
        self.warnings: list[Problem] = []

    # -- locating and reporting

    def line(self, path: Sequence[str | int]) -> int | None:
        """The file line of the value at `path`, or of its nearest ancestor."""
        if self.compose is not None:
            self.node, self.compose = self.compose(), None
        node = self.node
        found = None
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                node = next((v for k, v in node.value if k.value == step), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                node = node.value[step] if step < len(node.value) else None
            else:
                node = None
            if node is None:
                break
            found = node
        return None if found is None else found.start_mark.line + 2

    def fail(self, path: Sequence[str | int], message: str) -> RecordError:
        return RecordError(self.shown, message, line=self.line(path), field=dotted(path))

    def warn(self, path: Sequence[str | int], message: str) -> None:
        self.warnings.append(Problem(self.shown, self.line(path), dotted(path), message))

    # -- the record

    def record(self, f: dict[Any, Any], key: str) -> tuple[Record, list[Problem]]:
        title = self.text(f, "title", line=True)
        if not title:
            raise self.fail(("title",), "missing or empty; a feed entry needs a title")
        web = self.url(f, "webUrl")
        # Records often give the same text for both: the same URL, with nothing to warn about.
        same = web is not None and f.get("originalUrl") == f.get("webUrl")
        original = web if same else self.url(f, "originalUrl")
        link = web or original
        if link is None:
            key = "webUrl" if "webUrl" in f or "originalUrl" not in f else "originalUrl"
            value = f.get(key)
            reason = "missing" if value is None else f"{show(value)} is not an absolute http(s) URL"
            raise self.fail((key,), f"{reason}; a feed entry needs a link")
        published = self.date(f, "publishedDateTime", required=True)
        if published is None:
            raise self.fail(("publishedDateTime",), "missing; a feed entry needs a date")
        updated = self.date(f, "updatedDateTime") or published
        record = _RecordParts(
            key=key,
            id=canonical_url(original or link),
            title=title,
            link=link,
            excerpt=self.text(f, "excerpt"),
            published=published,
            updated=max(updated, published),
            type=self.text(f, "type", line=True) or None,
            category=self.text(f, "category", line=True) or None,
            quality=self.number(f, "quality"),
            heat=self.number(f, "heat"),
            is_published=self.flag(f, ("published",), default=True),
            provider=self.provider(f.get("provider")),
            topics=self.topics(f.get("topics"), ("topics",)),
            images=self.images(f.get("images"), ("images",)),
            related=self.related(f.get("related"), ("related",)),
        ).frozen()
        return record, self.warnings

    # -- fields
    #
    # A field is named by its mapping and its key there, and the path of the mapping
    # (`at`): the path of the field is only built for a warning, which few fields get.

    def text(self, f: dict[Any, Any], key: str, at: tuple[str | int, ...] = (), *, line: bool = False) -> str:
        value = f.get(key)
        if type(value) is not str:  # most values are text: one test for them
            if value is None:
                return ""
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.warn((*at, key), f"expected text, got a {kind_of(value)}; ignored")
                return ""
            value = str(value)
        return clean_line(value) if line else clean_text(value)

    def url(self, f: dict[Any, Any], key: str, at: tuple[str | int, ...] = ()) -> str | None:
        """An optional URL: a warning when it is there but unusable."""
        value = f.get(key)
        if value is None:
            return None
        url = clean_url(value)
        if url is None:
            self.warn((*at, key), f"{show(value)} is not an absolute http(s) URL; ignored")
        return url

    def date(
        self, f: dict[Any, Any], key: str, at: tuple[str | int, ...] = (), *, required: bool = False
    ) -> datetime | None:
        value = f.get(key)
        if value is None:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            if required:
                raise self.fail((*at, key), f"cannot read {show(value)} as a date")
            self.warn((*at, key), f"cannot read {show(value)} as a date; ignored")
        return parsed

    def number(self, f: dict[Any, Any], key: str, at: tuple[str | int, ...] = ()) -> float | None:
        value = f.get(key)
        if value is None:
            return None
        number = to_number(value)
        if number is None:
            self.warn((*at, key), f"{show(value)} is not a number; ignored")
        return number

    def flag(self, f: dict[Any, Any], path: tuple[str | int, ...], *, default: bool) -> bool:
        value = f.get(path[-1])
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUTHY | FALSY:
            return value.strip().lower() in TRUTHY
        self.warn(path, f"{show(value)} is not true or false; taken as {str(default).lower()}")
        return default

    def provider(self, value: Any, at: tuple[str | int, ...] = ()) -> Provider | None:
        """The provider field of the mapping at `at`."""
        if type(value) is dict:
            # Records name the same few providers again and again: one built without a
            # warning is the same for the same name and domain texts, wherever it is.
            name, domain = known = (value.get("name"), value.get("domain"))
            if (type(name) is str or name is None) and (type(domain) is str or domain is None):
                provider = _PROVIDERS.get(known)
                if provider is not None:
                    return provider
                warned = len(self.warnings)
                provider = self._provider(value, (*at, "provider"))
                if provider is not None and len(self.warnings) == warned:
                    if len(_PROVIDERS) >= CACHE_LIMIT:
                        _PROVIDERS.clear()  # as yamlload's caches: small, emptied when full
                    _PROVIDERS[known] = provider
                return provider
        return self._provider(value, (*at, "provider"))

    def _provider(self, value: Any, path: tuple[str | int, ...]) -> Provider | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            self.warn(path, f"expected a mapping with name and domain, got a {kind_of(value)}; ignored")
            return None
        name = self.text(value, "name", path, line=True)
        domain = value.get("domain")
        url = None
        if domain is not None:
            domain_text = str(domain).strip().strip("/")
            url = clean_url(domain_text if "://" in domain_text else f"https://{domain_text}/")
            if url is None:
                self.warn((*path, "domain"), f"{show(domain)} is not a domain name; ignored")
        if not name:
            name = (domain and url and str(domain).strip()) or ""
        return Provider(clean_line(name), url) if name else None

    def topics(self, value: Any, path: tuple[str | int, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            self.warn(path, f"expected a list of names, got a {kind_of(value)}; ignored")
            return ()
        topics: list[str] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            if type(item) is not str:
                if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                    self.warn((*path, i), f"expected a name, got a {kind_of(item)}; ignored")
                    continue
                item = str(item)
            name = clean_line(item)
            folded = name.casefold()
            if name and folded not in seen:
                seen.add(folded)
                topics.append(name)
        return tuple(topics)

    def images(self, value: Any, path: tuple[str | int, ...]) -> tuple[Image, ...]:
        images: list[Image] = []
        urls: set[str] = set()
        for i, item in enumerate(value if type(value) is list else self.items(value, path)):
            image = self.image(item, path, i)
            if image is not None and image.url not in urls:
                urls.add(image.url)
                images.append(image)
        return tuple(images)

    def image(self, item: Any, at: tuple[str | int, ...], i: int) -> Image | None:
        """Item `i` of the list of images at `at`."""
        if type(item) is not dict:
            if isinstance(item, str):
                item = {"url": item}
            elif not isinstance(item, dict):
                self.warn(
                    (*at, i), f"expected a mapping with url, width and height, got a {kind_of(item)}; dropped"
                )
                return None
        url = clean_url(item.get("url"))
        if url is None:
            self.warn(
                (*at, i, "url"), f"{show(item.get('url'))} is not an absolute http(s) URL; image dropped"
            )
            return None
        width = item.get("width")
        height = item.get("height")
        # Most sizes: what to_size's float round trip would give.
        if type(width) is not int or not 0 <= width <= 1_000_000:
            width = to_size(width)
        if type(height) is not int or not 0 <= height <= 1_000_000:
            height = to_size(height)
        return _ImageParts(url, width, height, image_media_type(url)).frozen()

    def related(self, value: Any, path: tuple[str | int, ...]) -> tuple[Related, ...]:
        related: list[Related] = []
        ids: set[str] = set()
        for i, item in enumerate(self.items(value, path)):
            at: tuple[str | int, ...] = (*path, i)
            if not isinstance(item, dict):
                self.warn(at, f"expected a mapping, got a {kind_of(item)}; dropped")
                continue
            title = self.text(item, "title", at, line=True)
            key = "webUrl" if "webUrl" in item or "url" not in item else "url"
            url = clean_url(item.get(key))
            if url is None:
                self.warn(
                    (*at, key),
                    f"{show(item.get(key))} is not an absolute http(s) URL; related article dropped",
                )
                continue
            if not title:
                self.warn((*at, "title"), "missing; related article dropped")
                continue
            image = None
            images = item.get("images")
            if images is not None:
                images_at = (*at, "images")
                for j, raw in enumerate(images if type(images) is list else self.items(images, images_at)):
                    image = self.image(raw, images_at, j)
                    if image is not None:
                        break
            related_id = canonical_url(url)
            if related_id in ids:
                continue
            ids.add(related_id)
            related.append(
                _RelatedParts(
                    id=related_id,
                    title=title,
                    url=url,
                    excerpt=self.text(item, "excerpt", at),
                    published=self.date(item, "publishedDateTime", at),
                    provider=self.provider(item.get("provider"), at),
                    quality=self.number(item, "quality", at),
                    image=image,
                ).frozen()
            )
        return tuple(related)

    def items(self, value: Any, path: tuple[str | int, ...]) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, dict):
            return [value]
        if not isinstance(value, list):
            self.warn(path, f"expected a list, got a {kind_of(value)}; ignored")
            return []
        return value


# The model's values are frozen dataclasses, whose __init__ sets each field through
# object.__setattr__: five times the cost of a plain attribute store, for every record,
# related article and image. These classes have the same slots in the same order and
# plain stores; `frozen` then makes the object the model's class, which Python allows
# between classes of the same layout (and refuses, loudly, should the two ever differ).
# The object is then one the model's own constructor would have made, equal and alike
# in every way (tests check it).


class _RecordParts:
    __slots__ = tuple(field.name for field in fields(Record))

    def __init__(
        self, *, key: str, id: str, title: str, link: str, excerpt: str, published: datetime,
        updated: datetime, type: str | None, category: str | None, quality: float | None,
        heat: float | None, is_published: bool, provider: Provider | None, topics: tuple[str, ...],
        images: tuple[Image, ...], related: tuple[Related, ...],
    ) -> None:  # fmt: skip
        self.key = key
        self.id = id
        self.title = title
        self.link = link
        self.excerpt = excerpt
        self.published = published
        self.updated = updated
        self.type = type
        self.category = category
        self.quality = quality
        self.heat = heat
        self.is_published = is_published
        self.provider = provider
        self.topics = topics
        self.images = images
        self.related = related

    def frozen(self) -> Record:
        self.__class__ = Record  # type: ignore[assignment]
        return self  # type: ignore[return-value]


class _RelatedParts:
    __slots__ = tuple(field.name for field in fields(Related))

    def __init__(
        self, *, id: str, title: str, url: str, excerpt: str, published: datetime | None,
        provider: Provider | None, quality: float | None, image: Image | None,
    ) -> None:  # fmt: skip
        self.id = id
        self.title = title
        self.url = url
        self.excerpt = excerpt
        self.published = published
        self.provider = provider
        self.quality = quality
        self.image = image

    def frozen(self) -> Related:
        self.__class__ = Related  # type: ignore[assignment]
        return self  # type: ignore[return-value]


class _ImageParts:
    __slots__ = tuple(field.name for field in fields(Image))

    def __init__(self, url: str, width: int | None, height: int | None, media_type: str | None) -> None:
        self.url = url
        self.width = width
        self.height = height
        self.media_type = media_type

    def frozen(self) -> Image:
        self.__class__ = Image  # type: ignore[assignment]
        return self  # type: ignore[return-value]


# Providers built from (name, domain) texts; every Provider is immutable.
_PROVIDERS: dict[tuple[Any, Any], Provider] = {}
