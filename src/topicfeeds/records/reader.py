"""Read record files into `Record` values; every failure becomes a `RecordError`.

The jobs are in modules of their own: which files are records (sources/names.py), listing
them (sources/folder.py) and stat stamps (sources/stamps.py), the front
matter (frontmatter.py), YAML loading (yamlload.py), building the record (builder.py),
and the process pool (workers.py). This module reads a file's bytes and puts them
through the others.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR

from ..core.model import Record
from ..defaults import DEFAULT_MAX_BYTES, DEFAULT_PATTERNS
from ..errors import Problem, RecordError, display_path
from ..runtime.workers import iter_files
from ..sources.stamps import Stamp, stamp_of
from .builder import Builder
from .frontmatter import front_matter
from .values import kind_of, parse_datetime
from .yamlfast import load_simple
from .yamlload import DEFAULT_LOADER, LOADERS, compose_yaml, load_yaml

_Loader = DEFAULT_LOADER  # how YAML is read; the tests try every one of LOADERS
_PureLoader = LOADERS["pure"]
if "libyaml" in LOADERS:
    _CLoader = LOADERS["libyaml"]

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PATTERNS",
    "Outcome",
    "ReadResult",
    "Stamp",
    "Tracked",
    "collect",
    "display_path",
    "front_matter",
    "parse_datetime",
    "parse_record",
    "read_files",
    "read_record",
    "read_records",
    "read_tracked",
    "stamp_of",
]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a folder of record files gave."""

    records: tuple[Record, ...]  # the good ones, in file-name order
    errors: tuple[Problem, ...]  # one per rejected file
    warnings: tuple[Problem, ...]  # parts dropped from records that were kept
    files: int  # how many record files were looked at


def read_records(
    folder: Path,
    patterns: Sequence[str] = DEFAULT_PATTERNS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    jobs: int = 1,
) -> ReadResult:
    """Read every record file in `folder` that `patterns` take, as `build` reads them
    (see sources/names.py), with up to `jobs` processes; a bad file is reported, never
    fatal."""
    from ..sources.folder import FolderSource  # which reads records with this module

    names = FolderSource(folder, patterns).listed()
    work = functools.partial(_read_named, folder=folder, max_bytes=max_bytes)
    return collect(names, (t.outcome for t in iter_files(names, work, jobs)))


def _read_named(name: str, folder: Path, max_bytes: int) -> Tracked:
    """Record file `name` (its path below `folder`), keyed by its name, as a run keys it."""
    return read_tracked(folder / name, max_bytes, key=name)


Outcome = tuple["Record | None", tuple[Problem, ...]]
"""A record and the warnings about it, or None and the one error that rejected the file."""


@dataclass(frozen=True, slots=True)
class Tracked:
    """One file's outcome with the stamp and content hash of the bytes it came from."""

    path: Path | str
    stamp: Stamp | None  # None when the file could not be opened
    sha256: str | None  # None when the file was not read (missing, too large)
    outcome: Outcome


def collect(files: Sequence[Path | str], outcomes: Iterable[Outcome]) -> ReadResult:
    """Sort outcomes into records, errors and warnings."""
    records: list[Record] = []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for record, problems in outcomes:
        if record is None:
            errors.extend(problems)
        else:
            records.append(record)
            warnings.extend(problems)
    return ReadResult(tuple(records), tuple(errors), tuple(warnings), len(files))


def read_tracked(
    path: Path | str, max_bytes: int, shown: str | None = None, key: str | None = None
) -> Tracked:
    """Read and parse one file, noting its stamp and content hash; `shown` names it in
    messages (by default its path as the user would write it), `key` is the record's
    identity (by default the file's name)."""
    shown = display_path(Path(path)) if shown is None else shown
    stamp = None
    try:
        stamp, data = _read_file(path, max_bytes, shown)
        if len(data) > max_bytes:
            raise RecordError(shown, f"larger than the {max_bytes}-byte limit for a record")
    except OSError as exc:
        error = RecordError(shown, f"cannot read: {exc.strerror or exc}")
        return Tracked(path, stamp, None, (None, (error.problem,)))
    except RecordError as exc:
        return Tracked(path, stamp, None, (None, (exc.problem,)))
    digest = hashlib.sha256(data).hexdigest()
    try:
        record, warnings = parse_record(data, shown, key=key or Path(path).name)
    except RecordError as exc:
        return Tracked(path, stamp, digest, (None, (exc.problem,)))
    return Tracked(path, stamp, digest, (record, tuple(warnings)))


def _read_file(path: Path | str, max_bytes: int, shown: str) -> tuple[Stamp, bytes]:
    """The file's stamp and bytes, through the system calls alone: a file object costs
    twice as much as the reading (a cold build reads 100,000 files). A file larger
    than `max_bytes` is not read (RecordError)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if S_ISDIR(st.st_mode):  # refused at opening, as a file object would
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        stamp = stamp_of(st)
        if stamp.size > max_bytes:
            raise RecordError(shown, f"larger than the {max_bytes}-byte limit for a record")
        # Read what stat promised, and one byte more to notice a file still growing:
        # asking for max_bytes would allocate that much for every file.
        wanted = stamp.size + 1
        data = os.read(fd, wanted)
        while 0 < len(data) < wanted:  # a short read (not at the end of the file)
            more = os.read(fd, wanted - len(data))
            if not more:
                break
            data += more
        return stamp, data
    finally:
        os.close(fd)


def read_record(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Record, list[Problem]]:
    """One record file, and the warnings about parts of it that were dropped."""
    record, problems = read_tracked(path, max_bytes).outcome
    if record is None:
        raise RecordError(
            problems[0].path, problems[0].message, line=problems[0].line, field=problems[0].field
        )
    return record, list(problems)


def read_files(paths: Sequence[Path], max_bytes: int, jobs: int = 1) -> list[Tracked]:
    """Every file in `paths`, read and parsed, in order, with up to `jobs` processes."""
    return list(iter_files(paths, functools.partial(read_tracked, max_bytes=max_bytes), jobs))


def parse_record(data: bytes, shown: str, key: str | None = None) -> tuple[Record, list[Problem]]:
    """Parse the bytes of one record file; `shown` names it in messages, `key` (the
    file's name within the records folder; by default the last part of `shown`) is
    the record's identity."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise RecordError(shown, f"not UTF-8: byte 0x{bad} at offset {exc.start} cannot be decoded") from exc
    yaml_text = front_matter(text)
    if yaml_text is None:
        raise RecordError(
            shown,
            "no front matter: the file must start with a '---' line and the YAML must end with another",
            line=1,
        )
    key = shown.rsplit("/", 1)[-1] if key is None else key
    simple = load_simple(yaml_text)
    if simple is not None:
        # Lines are only needed for a warning or a rejection: the node tree waits until then.
        return Builder(shown, None, functools.partial(compose_yaml, yaml_text, _Loader)).record(simple, key)
    node, fields = load_yaml(yaml_text, shown, _Loader)
    if not isinstance(fields, dict):
        kind = "empty" if fields is None else f"a {kind_of(fields)}"
        raise RecordError(shown, f"front matter is {kind}, not a mapping of fields", line=2)
    return Builder(shown, node).record(fields, key)
