"""The object storage client: made once from the settings, its errors put in words.

Credentials are found the client library's usual way (environment variables, the
shared credentials file, an instance's role); this program never reads, stores or
prints them.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote_plus
from xml.etree import ElementTree

import boto3
import botocore.config
import botocore.exceptions
import botocore.session
import botocore.utils

from .config import BucketUrl, S3Settings
from .errors import OutputError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Errors that say the storage, not one object, is out of reach: what follows would fail too.
UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
)


_clients: dict[S3Settings, S3Client] = {}
_clients_lock = threading.Lock()


def client(settings: S3Settings) -> S3Client:
    """The client for `settings`, made once a process (the records bucket and the output
    bucket share it): standard retries with backoff, bounded waits."""
    with _clients_lock:
        made = _clients.get(settings)
        if made is None:
            made = _clients[settings] = _client(settings)
        return made


def _client(settings: S3Settings) -> S3Client:
    config = botocore.config.Config(
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        s3={"addressing_style": settings.addressing},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=max(10, settings.parallel),
        # The Content-MD5 each upload carries is the checksum the server verifies.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    core = botocore.session.get_session()
    # The client parses every listed object's date with dateutil, which costs more than
    # all the rest of a listing: two thirds of a run over 10,000 unchanged records.
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_timestamp)
    session = boto3.session.Session(botocore_session=core)
    made: S3Client = session.client(
        "s3", endpoint_url=settings.endpoint, region_name=settings.region or "us-east-1", config=config
    )
    made.meta.events.register("before-parse.s3.ListObjectsV2", _lean_listing)
    return made


def _timestamp(value: str) -> datetime:
    """A date as the storage writes it: ISO 8601 in listings (fast), else any form."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        parsed: datetime = botocore.utils.parse_timestamp(value)
        return parsed


class Listed(NamedTuple):
    """One listed object, as much of it as a run compares."""

    name: str  # the key; below the prefix, as `listed` gives it
    size: int
    etag: int  # the leading bits of its ETag, see etag_number
    modified_ns: int  # last modified, in nanoseconds since the epoch (to the microsecond)


_LEAN = "TopicfeedsListed"  # where _lean_listing puts a page's objects
Row = tuple[str, int, int, int]  # a Listed's fields, the name still whole
# An object as S3 and the storages that follow it write it: Key, LastModified and ETag
# first, then simple elements (checksums), then Size. A page whose objects this does not
# all match is read with ElementTree instead.
_OBJECT = re.compile(
    rb"<Contents>\s*<Key>([^<]*)</Key>\s*<LastModified>([^<]*)</LastModified>\s*<ETag>([^<]*)</ETag>"
    rb"(?:\s*<([A-Za-z]+)>[^<]*</\4>)*?\s*<Size>([0-9]+)</Size>"
)


def _lean_listing(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """Read a listing page's objects into small tuples before the client parses it.

    The client's own parser makes a dictionary of every field of every object, through
    its generic model: at 10,000 objects it cost a second, more than everything else a
    run with nothing changed does besides waiting for the storage. Here the objects are
    read with one regular expression (ElementTree for a page it does not fit) and taken
    out of the body the client then parses, which keeps the continuation token and the
    rest for the paginator."""
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes):
        return
    first = body.find(b"<Contents>")
    if first < 0:
        return
    # The client asks for url-encoded keys (so that any key fits in XML) and would decode them.
    encoded = b"<EncodingType>url</EncodingType>" in body
    matched = _OBJECT.findall(body)
    if len(matched) == body.count(b"<Contents>"):
        found = _rows(matched, encoded)
    else:
        try:
            found = _rows_of_tree(ElementTree.fromstring(body), encoded)
        except ElementTree.ParseError:
            return  # the client's parser says what is wrong
    last = body.rfind(b"</Contents>") + len(b"</Contents>")
    customized_response_dict[_LEAN] = found
    # The objects are one run of <Contents> elements in a ListBucketResult.
    response_dict["body"] = body[:first] + body[last:]


def _rows(matched: list[tuple[bytes, ...]], encoded: bool) -> list[Row]:
    rows = []
    times: dict[bytes, int] = {}  # objects put in the same second share their time
    for key, modified, etag, _, size in matched:
        name = key.decode("utf-8", "replace")
        if encoded:
            if b"%" in key or b"+" in key:
                name = unquote_plus(name)
        elif b"&" in key:
            name = html.unescape(name)
        when = times.get(modified)
        if when is None:
            when = times[modified] = _nanoseconds(modified.decode("ascii", "replace"))
        if len(etag) == 34 and etag[0] == 34:  # "<32 hex digits>", as most storages write it
            try:
                bits = int(etag[1:16], 16)
            except ValueError:
                bits = -1
        else:
            bits = etag_number(html.unescape(etag.decode("ascii", "replace")))
        rows.append((name, int(size), bits, when))
    return rows


def _rows_of_tree(root: ElementTree.Element, encoded: bool) -> list[Row]:
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    key, size, etag, modified = f"{ns}Key", f"{ns}Size", f"{ns}ETag", f"{ns}LastModified"
    rows = []
    for item in root.iterfind(f"{ns}Contents"):
        name = item.findtext(key) or ""
        rows.append(
            (
                unquote_plus(name) if encoded else name,
                int(item.findtext(size) or 0),
                etag_number(item.findtext(etag) or ""),
                _nanoseconds(item.findtext(modified) or ""),
            )
        )
    return rows


def _nanoseconds(text: str) -> int:
    try:
        when = _timestamp(text)
    except (ValueError, TypeError):
        return 0
    return int(when.timestamp() * 1_000_000) * 1000


def listed(client: S3Client, url: BucketUrl) -> Iterator[Listed]:
    """Every object under `url`'s prefix, named below it: one LIST request per 1,000
    objects; a refusal raises OutputError."""
    start = len(url.prefix)
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=url.bucket, Prefix=url.prefix):
            rows: list[Row] | None = page.get(_LEAN)  # type: ignore[assignment]
            if rows is None:  # a page _lean_listing could not read
                rows = [
                    (item["Key"], item["Size"], etag_number(item["ETag"]), _nanoseconds_of(item))
                    for item in page.get("Contents", ())
                ]
            for name, size, etag, when in rows:
                yield Listed(name[start:], size, etag, when)
    except CLIENT_ERRORS as exc:
        raise refused(url, exc) from exc


def _nanoseconds_of(item: Any) -> int:
    return int(item["LastModified"].timestamp() * 1_000_000) * 1000


def reason(exc: Exception) -> str:
    """What went wrong, in one line, without anything secret in it."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error: Any = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code") or status or "error"
        message = str(error.get("Message") or "").strip()
        return f"{code}{f' (HTTP {status})' if status and str(status) != str(code) else ''}" + (
            f": {message}" if message else ""
        )
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return (
            "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE with a shared credentials file, or run with an instance role"
        )
    if isinstance(exc, UNREACHABLE):
        return f"storage unreachable: {exc}"
    return str(exc) or type(exc).__name__


def refused(url: BucketUrl, exc: Exception) -> OutputError:
    """The error that stops a run before it writes anything, for a listing that failed."""
    return OutputError(f"{url}: cannot list the bucket: {reason(exc)}")


def etag_number(etag: str) -> int:
    """The leading 60 bits of an ETag that is an MD5 (a single-part upload's), as a
    number the state store keeps; -1 for any other ETag, which then never matches."""
    text = etag.strip('"')
    if len(text) != 32:
        return -1
    try:
        return int(text[:15], 16)
    except ValueError:
        return -1


def md5_number(data: bytes) -> tuple[str, int]:
    """The MD5 of `data` (hex) and the number `etag_number` gives for it."""
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    return digest, int(digest[:15], 16)


CLIENT_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
