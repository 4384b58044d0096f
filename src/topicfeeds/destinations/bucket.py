"""A bucket in S3-compatible object storage as the destination.

One listing a run tells what is there (size and ETag per object); an object is
uploaded only when it is missing or its ETag is not the MD5 of the new bytes, so a
run with nothing changed makes no PUT, and an object someone else replaced is put
back. A PUT is whole or absent; each carries Content-MD5, which the server checks
against what it received. An object is deleted only when a run is asked to remove
a file this program published (see removals.py): subscribers never meet a 404 otherwise.
"""

from __future__ import annotations

import base64
import posixpath

from .. import s3
from ..config import DEFAULT_CACHE_CONTROL, BucketUrl, FileKind, S3Settings
from ..errors import PublishError, RemoveError
from ..formats.spec import file_types
from . import OutputStamp


def media_type(name: str) -> str:
    """The media type an object named `name` is served with: its format's (or site
    file's), as registered in formats/spec.py."""
    known = file_types().get(posixpath.splitext(name)[1])
    base = "application/octet-stream" if known is None else known.media_type
    return f"{base}; charset=utf-8" if base.startswith("text/") else base


def cache_control(name: str, settings: S3Settings) -> str:
    """The Cache-Control an object named `name` is served with: that of its format's
    (or site file's) kind, as registered in formats/spec.py."""
    known = file_types().get(posixpath.splitext(name)[1])
    kind: FileKind = "feeds" if known is None else known.kind
    return dict(settings.cache_control).get(kind, DEFAULT_CACHE_CONTROL[kind])


class BucketDestination:
    """Objects under `url`'s prefix, one per output file."""

    def __init__(self, url: BucketUrl, settings: S3Settings) -> None:
        self.url = url
        self.settings = settings
        self.client = s3.client(settings)
        self._listed: dict[str, OutputStamp] | None = None
        self._unreachable: str | None = None  # why the storage stopped answering, once it did
        self._resend = False  # upload even what the bucket holds: its metadata changed (see resend)

    def check(self) -> None:
        """List the prefix: this is where wrong credentials or a missing bucket show,
        before anything is written (OutputError)."""
        self._listing()

    def _listing(self) -> dict[str, OutputStamp]:
        if self._listed is None:
            self._listed = {item.name: (item.size, item.etag) for item in s3.listed(self.client, self.url)}
        return self._listed

    def holds(self, name: str, data: bytes) -> bool:
        """Whether the object's ETag is the MD5 of `data`."""
        return self._listing().get(name) == (len(data), s3.md5_number(data)[1])

    def put(self, name: str, data: bytes) -> tuple[bool, OutputStamp]:
        """Upload `data` unless the object already holds it (and nothing is to be resent)."""
        digest, number = s3.md5_number(data)
        stamp = (len(data), number)
        listed = self._listing()
        if listed.get(name) == stamp and not self._resend:
            return False, stamp
        if self._unreachable is not None:
            raise PublishError(self.location(name), f"not uploaded: {self._unreachable}")
        try:
            self.client.put_object(
                Bucket=self.url.bucket,
                Key=self.url.prefix + name,
                Body=data,
                ContentType=media_type(name),
                CacheControl=cache_control(name, self.settings),
                ContentMD5=base64.b64encode(bytes.fromhex(digest)).decode("ascii"),
            )
        except s3.CLIENT_ERRORS as exc:
            why = s3.reason(exc)
            if isinstance(exc, s3.UNREACHABLE):
                self._unreachable = why  # the files after this one would wait as long, in vain
            raise PublishError(self.location(name), f"not uploaded: {why}") from exc
        listed[name] = stamp
        return True, stamp

    def stamp(self, name: str) -> OutputStamp | None:
        """(size, leading bits of the ETag) from this run's listing."""
        return self._listing().get(name)

    def read(self, name: str) -> bytes | None:
        """The object's bytes: one GET request, for an object this run's listing holds."""
        if name not in self._listing():
            return None
        try:
            answer = self.client.get_object(Bucket=self.url.bucket, Key=self.url.prefix + name)
            return answer["Body"].read()
        except s3.CLIENT_ERRORS as exc:
            raise OSError(f"not downloaded: {s3.reason(exc)}") from exc

    def withdraw(self, name: str) -> bool:
        """Delete the object: one DELETE request."""
        if self._unreachable is not None:
            raise RemoveError(self.location(name), self._unreachable)
        try:
            self.client.delete_object(Bucket=self.url.bucket, Key=self.url.prefix + name)
        except s3.CLIENT_ERRORS as exc:
            why = s3.reason(exc)
            if isinstance(exc, s3.UNREACHABLE):
                self._unreachable = why
            raise RemoveError(self.location(name), why) from exc
        return self._listing().pop(name, None) is not None

    def tidy(self) -> None:
        """A PUT leaves nothing half-written behind."""

    def resend(self) -> bool:
        """Upload every file from now on: an object's ETag shows its bytes, not its
        Cache-Control, which a PUT is the only way to change."""
        self._resend = True
        return True

    def location(self, name: str) -> str:
        """The object's address."""
        return f"{self.url}{name}"
