"""Every status a command ends with, and what each means."""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_REJECTED = 1  # some records were rejected; feeds were written from the rest
EXIT_CONFIG = 2  # configuration or usage error, unusable folders: nothing was written
EXIT_LOCKED = 3  # another run holds the lock, or another process the state; this one did nothing
EXIT_WRITE = 4  # a feed file, or the state, could not be written; the old one is intact
EXIT_REMOVALS = 5  # most records are gone (nothing was changed), or more files to remove than max_deletes
EXIT_PIPE = 141  # standard output was closed (128 + SIGPIPE, as a shell reports it)

# Every status a command ends with, and what it means: `--help` and the reference
# (docs/reference/exit-status.md, made by topicfeeds.reference) are both made from it.
EXIT_STATUSES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "every record read, every file written or already up to date"),
    (
        EXIT_REJECTED,
        "some records were rejected, each named on standard error; the feeds were written from the "
        "rest (explain: a record named could not be read)",
    ),
    (
        EXIT_CONFIG,
        "configuration or usage error, or an unusable records or output folder (serve: a port it cannot "
        "listen on; topics: no build has finished yet); nothing was written",
    ),
    (
        EXIT_LOCKED,
        "another run holds the lock (or --wait ran out), or another process kept a write open on the "
        "state file for longer than the run waits; this run did nothing",
    ),
    (
        EXIT_WRITE,
        "a file could not be written, uploaded or removed, each named (the previous file is intact and "
        "the next run tries again); or the state file could not be used, and was left as it was",
    ),
    (
        EXIT_REMOVALS,
        "most of the records the feeds were built from are gone: nothing was changed (--allow-removals "
        "confirms); or more files to remove than max_deletes: none was removed, the rest was published "
        "(a higher --max-deletes confirms)",
    ),
    (
        128 + signal.SIGINT,
        "interrupted (SIGINT, ^C): temporary files removed, state rolled back, parse workers ended, "
        "lock released (watch and serve end with 0)",
    ),
    (EXIT_PIPE, "standard output was closed (a pipe whose reader went away); the command stopped quietly"),
    (128 + signal.SIGTERM, "terminated (SIGTERM): as for 130"),
)
