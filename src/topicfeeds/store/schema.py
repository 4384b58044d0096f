"""The state's tables, the schema's version, and the numbered migrations that bring
an older state up to it.

`MIGRATIONS[n]` is the step from schema n to schema n + 1. A state of schema n gets
every step from n on, in order, in one transaction with the new version: a run killed
meanwhile leaves the state as it was. To change the tables: write them as they are to
be in the schema below, add the step from SCHEMA_VERSION to MIGRATIONS, and add one to
SCHEMA_VERSION. A step's script stays as released: where it makes tables from the text
below (`_ARCHIVE_SCHEMA`), a later change to those tables first copies that text into
the step.

The record tables are a cache of the records folder: a step that changes them drops
them and makes them as they are now (every later step finds them so), and with the
fingerprint and the noted listing gone the next run is a full one, which reads every
record again. The entries' history, the archives, the pings and the purges are kept.

SQLite's dialect. A second backend keeps the same tables in a schema of its own and
the same numbering, with its own script for each step it needs (one that starts at
SCHEMA_VERSION needs none of those below).
"""

from __future__ import annotations

import re
import sqlite3

SCHEMA_VERSION = 9

# The record tables' secondary indexes. A cold build drops them while it fills the
# tables and builds each once at the end (see records.py, `filling`).
RECORDS_INDEXES = {
    # Rejected files are reported on every run.
    "files_rejected": "CREATE INDEX files_rejected ON files(name) WHERE light IS NULL;",
    "files_by_id": "CREATE INDEX files_by_id ON files(id_hash);",
    "file_topics_by_topic": "CREATE INDEX file_topics_by_topic ON file_topics(topic);",
    "file_topics_by_name": "CREATE INDEX file_topics_by_name ON file_topics(name);",
}

# The tables' text is kept in every state file as it is written here, so it stays as
# released: `_key` is now names.key_of, `_id_hash` codec.id_hash.
_RECORDS_SCHEMA = """
CREATE TABLE files (
    name TEXT PRIMARY KEY,      -- file name in the records folder, as _key stores it
    id TEXT,                    -- the record's entry id; NULL if rejected
    id_hash INTEGER,            -- the id's first 8 digest bytes (see _id_hash): its index is
                                -- a ninth of one on the ids themselves
    size INTEGER, mtime_ns INTEGER, ino INTEGER, ctime_ns INTEGER,
    sha256 BLOB,                -- the content's 32-byte digest; NULL when the file could not be read
    racy INTEGER NOT NULL,      -- written so close to its reading that stat alone proves nothing
    light TEXT,                 -- JSON: the record without images, related articles, name and
                                -- id (codec.encode_light_and_extra); NULL if rejected
    extra BLOB,                 -- zstd-compressed JSON: its images and related articles; NULL if rejected
    problems TEXT NOT NULL      -- the error that rejected the file, or the warnings about it
);
CREATE TABLE file_topics (
    topic TEXT NOT NULL,        -- casefolded record topic
    spelling TEXT NOT NULL,     -- as the record writes it
    name TEXT NOT NULL REFERENCES files(name),
    rank INTEGER NOT NULL       -- its place among the record's topics, from 0
);
""" + "\n".join(RECORDS_INDEXES.values())

_WEBSUB_SCHEMA = """
CREATE TABLE pings (            -- WebSub publish notices not yet delivered
    hub TEXT NOT NULL, url TEXT NOT NULL,  -- the hub to tell, the feed URL that changed
    noted INTEGER NOT NULL DEFAULT 0,      -- which noting: a ping sent for an earlier one is not this one
    PRIMARY KEY (hub, url)
);
CREATE TABLE hubs (
    url TEXT PRIMARY KEY,
    not_before INTEGER NOT NULL -- microseconds since the epoch: the hub asked to wait (Retry-After)
);
"""

_ARCHIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive (  -- RFC 5005 archives: every entry an archived topic published
    feed TEXT NOT NULL, id TEXT NOT NULL,
    page INTEGER NOT NULL,      -- -1: selected in the subscription feed; 0: left it, in no page yet;
                                -- n: sealed in page n
    pos INTEGER NOT NULL,       -- its place in the feed (page -1), in the log (0) or in its page
    entry TEXT,                 -- JSON of the entry as last shown; NULL once sealed (the page keeps it)
    PRIMARY KEY (feed, id)
);
CREATE TABLE IF NOT EXISTS archive_pages (
    feed TEXT NOT NULL, page INTEGER NOT NULL,
    data BLOB,                  -- the page's bytes, as written once; NULL: found in the output,
                                -- not made by this state
    PRIMARY KEY (feed, page)
);
"""

_PURGES_SCHEMA = """
CREATE TABLE IF NOT EXISTS purges (  -- URLs of changed files the CDN is still to drop; their pings wait
    url TEXT PRIMARY KEY,
    noted INTEGER NOT NULL,     -- which noting: a purge made for an earlier one is not this one
    change TEXT NOT NULL        -- the run that noted it: a retry asks the CDN for the same purge
);
"""

_SCHEMA = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
    + _RECORDS_SCHEMA
    + """
CREATE TABLE entries (
    feed TEXT NOT NULL, id TEXT NOT NULL,
    hash TEXT NOT NULL,         -- of what subscribers see of the entry
    first_seen INTEGER NOT NULL, changed INTEGER,  -- microseconds since the epoch
    PRIMARY KEY (feed, id)
);
CREATE TABLE topics (
    slug TEXT PRIMARY KEY,
    valid_until INTEGER,        -- when max_age_days next changes what the topic selects
    floor TEXT                  -- JSON: the sort key of the last entry of a full feed; NULL if not full
);
CREATE TABLE outputs (
    file TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
"""
    + _WEBSUB_SCHEMA
    + _ARCHIVE_SCHEMA
    + _PURGES_SCHEMA
)
TABLES = frozenset(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", _SCHEMA))

_NEW_RECORDS = f"""DROP TABLE file_topics; DROP TABLE files; {_RECORDS_SCHEMA}
DELETE FROM meta WHERE key IN ('fingerprint', 'listing', 'chunks');"""

MIGRATIONS = {
    # 3 → 4: WebSub pings not yet delivered, and hubs' Retry-After.
    3: """
CREATE TABLE pings (hub TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (hub, url));
CREATE TABLE hubs (url TEXT PRIMARY KEY, not_before INTEGER NOT NULL);
""",
    # 4 → 5: the archives; when a ping was noted; a record's images and related
    # articles kept compressed, apart from the rest.
    4: _ARCHIVE_SCHEMA + "ALTER TABLE pings ADD COLUMN noted INTEGER NOT NULL DEFAULT 0;" + _NEW_RECORDS,
    # 5 → 6: the light part without what columns hold; ids indexed by a short digest.
    5: _NEW_RECORDS,
    # 6 → 7: the extra part compressed with zstd rather than zlib.
    6: _NEW_RECORDS,
    # 7 → 8: a name that starts with "/" (a bucket key's, below its prefix) stored behind
    # another "/", where schema 7 kept it as it is and then read it as hex. Only the rows
    # whose names start with "/" (such a name, or a hex one) go, and with the noted
    # listing gone the next run reads those again.
    7: """DELETE FROM file_topics WHERE substr(name, 1, 1) = '/';
DELETE FROM files WHERE substr(name, 1, 1) = '/';
DELETE FROM meta WHERE key IN ('listing', 'chunks');""",
    # 8 → 9: the CDN purges that pings wait for.
    8: _PURGES_SCHEMA,
}


def steps_from(version: str) -> list[str] | None:
    """The scripts that bring a state of schema `version` (as the meta table holds it)
    up to SCHEMA_VERSION, in order; None when there is no way from there."""
    if version == str(SCHEMA_VERSION):
        return []
    start = next((n for n in MIGRATIONS if str(n) == version), None)
    if start is None:
        return None
    return [MIGRATIONS[n] for n in range(start, SCHEMA_VERSION)]


def ready(db: sqlite3.Connection) -> str | None:
    """Make a new file a state, or bring an older schema up to date; return why the
    file cannot be used as a state, or None."""
    tables = _tables(db)
    if not tables:  # a new file (or one that holds nothing)
        make(db)
        return None
    version = _version(db) if "meta" in tables else None
    if version is None:
        return "not a topicfeeds state file"
    steps = steps_from(version)
    if steps is None:
        return f"state of schema {version}, not {SCHEMA_VERSION}"
    _log_ahead(db)  # only now: a file that is no state is moved aside as it was
    if steps:
        new = f"INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', '{SCHEMA_VERSION}');"
        db.executescript("BEGIN; " + "\n".join(steps) + f"\n{new} COMMIT;")
    missing = TABLES.difference(_tables(db))
    if missing:
        return f"state file damaged (no table {', '.join(sorted(missing))})"
    index_records(db)  # a cold build killed while filling left them out
    return None


def make(db: sqlite3.Connection) -> None:
    """Make the tables of schema SCHEMA_VERSION in a file that holds none."""
    _log_ahead(db)
    # At once: a run killed meanwhile leaves no file with half the tables.
    db.executescript(
        f"BEGIN; {_SCHEMA} INSERT INTO meta (key, value) VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;"
    )


def index_records(db: sqlite3.Connection) -> None:
    """Build the record tables' secondary indexes that are missing (only reading
    when none is: another process may be writing)."""
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    present = {name for (name,) in rows}
    for name, statement in RECORDS_INDEXES.items():
        if name not in present:
            db.execute(statement)


def _log_ahead(db: sqlite3.Connection) -> None:
    # The write-ahead log lets a killed run leave the last committed state intact.
    db.execute("PRAGMA journal_mode=WAL")


def _tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [r[0] for r in rows]


def _version(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", ("schema",)).fetchone()
    return None if row is None else str(row[0])
