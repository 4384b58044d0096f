"""Record files in a bucket: the listing's size, ETag and last-modified time are the
stamp, so a run with nothing changed makes listing requests only; new and changed
objects are fetched a bounded number at a time. A bucket tells of no change itself:
`watch` lists it every few seconds (`Polled`), and runs when the listing changed."""

from __future__ import annotations

import concurrent.futures
import hashlib
import time
from collections.abc import Callable, Collection, Iterator, Sequence

from .. import s3
from ..config import BucketUrl, S3Settings
from ..core.model import Record
from ..errors import Problem, RecordError, TopicfeedsError
from ..records.reader import Tracked, parse_record
from ..records.rows import Row, row_of
from . import Changes, Flag, Heard, Known, Listening
from .listed import listed_changes
from .names import RecordNames
from .stamps import Listing, Stamp


class BucketSource:
    """Objects under `url`'s prefix whose names (below the prefix) match the patterns."""

    def __init__(self, url: BucketUrl, settings: S3Settings, patterns: Sequence[str]) -> None:
        self.url = url
        self.settings = settings
        self.names = RecordNames.of(patterns, anywhere=True)  # every key below the prefix is listed
        self.where = str(url)
        self.client = s3.client(settings)
        self._stamps: dict[str, Stamp] = {}  # this run's listing

    def check(self) -> None:
        """Listing is the check: wrong credentials or a missing bucket show there."""

    def changes(self, known: Known, named: Collection[str] | None = None) -> Changes:
        """The listing compared with what the state knows: a bucket is listed whole,
        whatever was named."""
        return listed_changes(known, self.scan(), time.time_ns())

    def scan(self) -> Listing:
        """One LIST request per 1,000 objects, which gives the stamps too."""
        matches = self.names
        listing: dict[str, Stamp] = {}
        for name, size, etag, when in s3.listed(self.client, self.url):
            if not name or name.endswith("/") or not matches(name):
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

    def digests(self, names: Sequence[str], max_bytes: int, jobs: int) -> Iterator[tuple[str, Stamp, str]]:
        """`settings.parallel` GET requests at a time; not parsed."""
        with concurrent.futures.ThreadPoolExecutor(self.settings.parallel) as pool:
            for found in pool.map(lambda name: self._digest(name, max_bytes), names):
                if found is not None:
                    yield found

    def _digest(self, name: str, max_bytes: int) -> tuple[str, Stamp, str] | None:
        """The object's listed stamp and the digest of its bytes; None when it cannot be
        fetched or is too large (it is then read in full, to say why)."""
        stamp = self._stamps.get(name)
        if stamp is None or stamp.size > max_bytes:
            return None
        try:
            data = self._get(name, max_bytes)
        except s3.CLIENT_ERRORS:
            return None
        return None if len(data) > max_bytes else (name, stamp, hashlib.sha256(data).hexdigest())

    def watcher(self, listening: Listening) -> Polled:
        """The listing, every `listening.every` seconds."""
        return Polled(self.scan, listening.every)

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


class Polled:
    """Told of changes by a listing every `every` seconds, compared with the last one."""

    def __init__(self, scan: Callable[[], Listing], every: float) -> None:
        self.scan = scan
        self.every = every
        self.last = self._digest()  # before the watch's first run: what comes during it is noticed
        self.at = time.monotonic()

    def wait(self, timeout: float, stop: Flag) -> Heard | None:
        """Whether the listing changed, at the next listing within `timeout` seconds;
        None when none changed by then."""
        deadline = time.monotonic() + timeout
        while True:
            due = self.at + self.every
            if not _sleep_until(min(due, deadline), stop):
                return Heard()
            if due > deadline:
                return None
            now, self.at = self._digest(), time.monotonic()
            if now is not None and now != self.last:
                self.last = now
                return Heard(whole=True)

    def _digest(self) -> str | None:
        """The listing's digest; None when it cannot be listed (the next run says why)."""
        try:
            return self.scan().digest()
        except TopicfeedsError:
            return None

    def close(self) -> None:
        """Nothing to let go."""


def _sleep_until(when: float, stop: Flag) -> bool:
    """Sleep until monotonic time `when`; False when `stop` was set meanwhile."""
    while not stop.is_set():
        left = when - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, 0.1))
    return False
