"""Reading the logs: files and folders of them, rotated and compressed (gzip, bzip2,
xz) or not, or standard input; each file's format told from its first line. Lines are
handed to the tally one at a time as they are read, so memory does not grow with the
logs, and a file that breaks off (a truncated archive) keeps what came before."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from ..config import Config
from ..errors import Problem
from . import cloudfront, combined, s3access
from .count import Counts, Tally
from .logs import Hit, LogFormat
from .paths import feed_paths

# Told apart in this order: a CloudFront header is unmistakable, and an S3 line would
# otherwise pass for a combined one with odd fields.
FORMATS: dict[str, LogFormat] = {f.name: f for f in (cloudfront.FORMAT, s3access.FORMAT, combined.FORMAT)}
STDIN = "-"
MAX_LINE = 64 * 1024  # a longer "line" is no log line; it is skipped rather than held
_PROGRESS_EVERY = 1 << 16  # lines

Progress = Callable[[str, int, int], None]  # (stage, done, total), as the build reports it
PROGRESS_STAGE = "reading logs (MB)"


@dataclass(frozen=True, slots=True)
class Survey:
    """What the logs say, and what could not be read of them."""

    counts: Counts
    files: int  # log files read, whole or in part
    unreadable: int  # lines in none of the formats, left out
    problems: tuple[Problem, ...]  # files, or their ends, that could not be read: not counted
    warnings: tuple[Problem, ...]  # per file, its lines that could not be read


def survey(
    config: Config,
    logs: Sequence[str],
    log_format: str | None = None,
    progress: Progress | None = None,
    stdin: BinaryIO | None = None,
) -> Survey:
    """Count the subscribers of `config`'s topics in the access logs `logs` (files,
    folders of them, or "-" for `stdin`), each in `log_format` or the one it looks like."""
    tally = Tally(feed_paths(config))
    problems: list[Problem] = []
    warnings: list[Problem] = []
    files = list(_expand(logs, problems))
    total = sum(size for _, size in files)
    done = 0
    read = 0
    unreadable = 0
    for shown, size in files:
        file = _LogFile(shown, tally, None if log_format is None else FORMATS[log_format])
        if progress is not None and shown != STDIN:
            file.progress = _Progress(progress, done, total)
        try:
            if shown != STDIN:
                with Path(shown).open("rb") as raw:
                    file.read(raw)
            elif stdin is not None:
                file.read(stdin)
            else:
                problems.append(Problem(shown, None, None, "there is no standard input to read"))
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            reason = (
                exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            )
            after = f" after line {file.lines}" if file.lines else ""
            problems.append(Problem(shown, None, None, f"cannot read{after}: {reason}"))
        if file.problem is not None:
            problems.append(file.problem)
        if file.unreadable:
            warnings.append(
                Problem(shown, file.first_unreadable, None,
                        f"{_lines(file.unreadable)} left out: {file.reason} (the first one here)")
            )  # fmt: skip
        read += file.lines > 0
        unreadable += file.unreadable
        done += size
        if file.progress is not None:
            file.progress(size)
    return Survey(tally.counts(), read, unreadable, tuple(problems), tuple(warnings))


@dataclass(frozen=True, slots=True)
class _Progress:
    """Reports how far into the logs a file's position is, in MiB of the files' sizes."""

    report: Progress
    before: int  # bytes of the files read before this one
    total: int  # bytes of every file

    def __call__(self, at: int) -> None:
        # Rounded up, so that a bar shows for less than a MiB too.
        self.report(PROGRESS_STAGE, (self.before + at) >> 20, -(-self.total >> 20))


def _lines(n: int) -> str:
    return "1 line" if n == 1 else f"{n} lines"


def _expand(logs: Sequence[str], problems: list[Problem]) -> Iterator[tuple[str, int]]:
    """Each log file named, as shown, with its size; a folder's files in name order
    (not its dot-files); a name that is not there is a problem."""
    for name in logs:
        if name == STDIN:
            yield name, 0
            continue
        path = Path(name)
        try:
            if path.is_dir():
                for root, dirs, names in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for child in sorted(n for n in names if not n.startswith(".")):
                        where = Path(root, child)
                        if where.is_file():
                            yield str(where), where.stat().st_size
            else:
                yield name, path.stat().st_size
        except OSError as exc:
            problems.append(Problem(name, None, None, f"cannot read: {exc.strerror or exc}"))


def _decompressed(raw: BinaryIO) -> IO[bytes]:
    """`raw`'s bytes, decompressed when they are gzip, bzip2 or xz (as rotated logs are)."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, raw))
    head = buffered.peek(6)[:6]
    # The compressed files are binary files in all but the type checker's stubs.
    if head.startswith(b"\x1f\x8b"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
    if head.startswith(b"BZh"):
        return cast(IO[bytes], bz2.BZ2File(buffered))
    if head.startswith(b"\xfd7zXZ\x00"):
        return cast(IO[bytes], lzma.LZMAFile(buffered))
    return buffered


class _LogFile:
    """One log file's lines, handed to the tally."""

    def __init__(self, shown: str, tally: Tally, log_format: LogFormat | None) -> None:
        self.shown = shown
        self.tally = tally
        self.format = log_format
        self.lines = 0
        self.unreadable = 0
        self.first_unreadable: int | None = None
        self.reason = ""
        self.problem: Problem | None = None
        self.progress: _Progress | None = None

    def read(self, raw: BinaryIO) -> None:
        """Count the lines of `raw`, an open log file (left open: it is the caller's)."""
        stream = _decompressed(raw)
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
        try:
            self._lines(text, raw)
        finally:
            text.detach()
            if stream is not raw:
                stream.close()

    def _lines(self, text: io.TextIOWrapper, raw: BinaryIO) -> None:
        report = self.progress
        parse = None
        add = self.tally.add
        readline = text.readline
        while line := readline(MAX_LINE):
            self.lines += 1
            if parse is None:
                if not line.strip():
                    continue
                log_format = self.format or next((f for f in FORMATS.values() if f.sniff(line)), None)
                if log_format is None:
                    self.problem = Problem(
                        self.shown, self.lines, None,
                        f"not an access log in a known format ({', '.join(FORMATS)}); name it with --format",
                    )  # fmt: skip
                    return
                parse = log_format.parser()
            if len(line) >= MAX_LINE and not line.endswith("\n"):
                self._skip_rest(text)
                self._unreadable(f"longer than {MAX_LINE // 1024} KiB")
                continue
            parsed = parse(line)
            if isinstance(parsed, Hit):
                add(parsed)
            elif parsed is not None:
                self._unreadable(parsed)
            if report is not None and not self.lines % _PROGRESS_EVERY:
                report(raw.tell())

    def _skip_rest(self, text: io.TextIOWrapper) -> None:
        while True:
            rest = text.readline(MAX_LINE)
            if not rest or rest.endswith("\n"):
                return

    def _unreadable(self, reason: str) -> None:
        self.unreadable += 1
        if self.first_unreadable is None:
            self.first_unreadable, self.reason = self.lines, reason
