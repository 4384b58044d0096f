"""Record files in a bucket: the listing's size, ETag and last-modified time are the
stamp, so a run with nothing changed makes listing requests only; new and changed
objects are fetched a bounded number at a time."""

from __future__ import annotations

import concurrent.futures
import hashlib
from collections.abc import Iterator, Sequence

from .. import s3
from ..config import BucketUrl, S3Settings
from ..core.model import Record
from ..errors import Problem, RecordError
from ..records.reader import Tracked, parse_record
from ..records.rows import Row, row_of
from .stamps import Listing, Stamp, name_matcher


class BucketSource:
    """Objects under `url`'s prefix whose names (below the prefix) match the patterns."""

    def __init__(self, url: BucketUrl, settings: S3Settings, patterns: Sequence[str]) -> None:
        self.url = url
        self.settings = settings
        self.patterns = tuple(patterns)
        self.where = str(url)
        self.client = s3.client(settings)
        self._stamps: dict[str, Stamp] = {}  # this run's listing

    def check(self) -> None:
        """Listing is the check: wrong credentials or a missing bucket show there."""

    def scan(self, stamps: bool = True) -> Listing:
        """One LIST request per 1,000 objects, which gives the stamps too."""
        matches = name_matcher(self.patterns)
        listing: dict[str, Stamp] = {}
        for name, size, etag, when in s3.listed(self.client, self.url):
            if not name or name.endswith("/") or not matches(name.rsplit("/", 1)[-1]):
                continue
            listing[name] = Stamp(size, when, etag, when)
        self._stamps = listing
        return Listing.of(listing)

    def rows(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[Row]:
        """`settings.parallel` GET requests at a time."""
        with concurrent.futures.ThreadPoolExecutor(self.settings.parallel) as pool:
            yield from pool.map(lambda name: self._row(name, max_bytes), names)

    def _row(self, name: str, max_bytes: int) -> Row:
        # The listing's stamp: should the object change between listing and fetching,
        # the next listing differs and it is fetched again.
        stamp = self._stamps.get(name)
        try:
            if stamp is not None and stamp.size > max_bytes:
                raise RecordError(name, f"larger than the {max_bytes}-byte limit for a record")
            try:
                data = self._get(name, max_bytes)
            except s3.CLIENT_ERRORS as exc:
                # No stamp, as for a file that could not be opened: the next run tries again.
                problem = RecordError(name, f"cannot read: {s3.reason(exc)}").problem
                return row_of(Tracked(name, None, None, (None, (problem,))), name)
            if len(data) > max_bytes:
                raise RecordError(name, f"larger than the {max_bytes}-byte limit for a record")
        except RecordError as exc:
            return row_of(Tracked(name, stamp, None, (None, (exc.problem,))), name)
        digest = hashlib.sha256(data).hexdigest()
        try:
            record, warnings = parse_record(data, name, key=name)
        except RecordError as exc:
            return row_of(Tracked(name, stamp, digest, (None, (exc.problem,))), name)
        return row_of(Tracked(name, stamp, digest, (record, tuple(warnings))), name)

    def _get(self, name: str, max_bytes: int) -> bytes:
        """The object's bytes, up to one past `max_bytes`: one GET request."""
        got = self.client.get_object(Bucket=self.url.bucket, Key=self.url.prefix + name)
        data: bytes = got["Body"].read(max_bytes + 1)
        return data

    def named(self, text: str) -> str | None:
        """The name below the prefix of an object's s3:// address; RecordError for an
        address elsewhere."""
        if not text.startswith("s3://"):
            return None
        if not text.startswith(self.where) or text == self.where:
            raise RecordError(text, f"not an object under the records address {self.where}")
        return text[len(self.where) :]

    def read(self, name: str, max_bytes: int) -> tuple[Record, list[Problem]]:
        """Fetch and parse one record object."""
        shown = self.shown(name)
        try:
            data = self._get(name, max_bytes)
        except s3.CLIENT_ERRORS as exc:
            raise RecordError(shown, f"cannot read: {s3.reason(exc)}") from exc
        if len(data) > max_bytes:
            raise RecordError(shown, f"larger than the {max_bytes}-byte limit for a record")
        return parse_record(data, shown, key=name)

    def shown(self, name: str) -> str:
        """The object's address."""
        return f"{self.url}{name}"

    def subfolders(self) -> list[str]:
        """Not looked for: a bucket's names may hold "/" anyway."""
        return []
