"""The object storage client: made once from the settings, its errors put in words.

Credentials are found the client library's usual way (environment variables, the
shared credentials file, an instance's role); this program never reads, stores or
prints them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.session
import botocore.utils

from .config import BucketUrl, S3Settings
from .errors import OutputError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectTypeDef

# Errors that say the storage, not one object, is out of reach: what follows would fail too.
UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
)


def client(settings: S3Settings) -> S3Client:
    """A client for `settings`: standard retries with backoff, bounded waits."""
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
    return made


def _timestamp(value: str) -> datetime:
    """A date as the storage writes it: ISO 8601 in listings (fast), else any form."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        parsed: datetime = botocore.utils.parse_timestamp(value)
        return parsed


def listed(client: S3Client, url: BucketUrl) -> Iterator[tuple[str, ObjectTypeDef]]:
    """(name below the prefix, listing item) of every object under `url`'s prefix, one
    LIST request per 1,000 objects; a refusal raises OutputError."""
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=url.bucket, Prefix=url.prefix):
            for item in page.get("Contents", ()):
                yield item["Key"][len(url.prefix) :], item
    except CLIENT_ERRORS as exc:
        raise refused(url, exc) from exc


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
