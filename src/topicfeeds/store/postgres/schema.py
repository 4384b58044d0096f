"""The state's tables in PostgreSQL, in a schema of their own, with the same schema
version and the same numbering of migrations as SQLite's (store/schema.py).

The tables are SQLite's, column for column and in the same order (`state copy` moves
rows between the two as they are), in PostgreSQL's types: BIGINT for SQLite's integers
(stamps in nanoseconds, digests of 64 bits), BYTEA for its blobs. Every text column
compares and sorts by code point (COLLATE "C"): the store reads ranges of names in the
order sources/chunks.py sorts them, and picks one spelling of a topic with MIN, as
SQLite's binary collation does, whatever the database's own collation.

`MIGRATIONS[n]` is the step from schema n to n + 1, as in SQLite's; PostgreSQL states
began at schema 8, so the steps start there. A later schema adds its step to both. A state
of a schema this version has no way from (a newer one, written by a later version) is
refused, and nothing in it is changed: tables are never dropped or moved aside here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from .connection import Database as Session

# As store/schema.py's RECORDS_INDEXES: a cold build drops them while it fills the
# tables and builds each once at the end.
RECORDS_INDEXES = {
    "files_rejected": "CREATE INDEX IF NOT EXISTS files_rejected ON files (name) WHERE light IS NULL",
    "files_by_id": "CREATE INDEX IF NOT EXISTS files_by_id ON files (id_hash)",
    "file_topics_by_topic": "CREATE INDEX IF NOT EXISTS file_topics_by_topic ON file_topics (topic)",
    "file_topics_by_name": "CREATE INDEX IF NOT EXISTS file_topics_by_name ON file_topics (name)",
}

_TEXT = 'TEXT COLLATE "C"'
TABLES_DDL = f"""
CREATE TABLE meta (key {_TEXT} PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    name {_TEXT} PRIMARY KEY, id {_TEXT}, id_hash BIGINT,
    size BIGINT, mtime_ns BIGINT, ino BIGINT, ctime_ns BIGINT,
    sha256 BYTEA, racy SMALLINT NOT NULL, light TEXT, extra BYTEA, problems TEXT NOT NULL
);
CREATE TABLE file_topics (
    topic {_TEXT} NOT NULL, spelling {_TEXT} NOT NULL, name {_TEXT} NOT NULL, rank INTEGER NOT NULL
);
CREATE TABLE entries (
    feed {_TEXT} NOT NULL, id {_TEXT} NOT NULL, hash TEXT NOT NULL,
    first_seen BIGINT NOT NULL, changed BIGINT,
    PRIMARY KEY (feed, id)
);
CREATE TABLE topics (slug {_TEXT} PRIMARY KEY, valid_until BIGINT, floor TEXT);
CREATE TABLE outputs (file {_TEXT} PRIMARY KEY, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL);
CREATE TABLE pings (
    hub {_TEXT} NOT NULL, url {_TEXT} NOT NULL, noted BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (hub, url)
);
CREATE TABLE hubs (url {_TEXT} PRIMARY KEY, not_before BIGINT NOT NULL);
CREATE TABLE archive (
    feed {_TEXT} NOT NULL, id {_TEXT} NOT NULL, page INTEGER NOT NULL, pos INTEGER NOT NULL, entry TEXT,
    PRIMARY KEY (feed, id)
);
CREATE TABLE archive_pages (
    feed {_TEXT} NOT NULL, page INTEGER NOT NULL, data BYTEA, PRIMARY KEY (feed, page)
);
"""
# Schema 9: the CDN purges that pings wait for (store/schema.py's _PURGES_SCHEMA).
_PURGES_DDL = f"""
CREATE TABLE purges (url {_TEXT} PRIMARY KEY, noted BIGINT NOT NULL, change TEXT NOT NULL);
"""
TABLES_DDL += _PURGES_DDL
TABLES = tuple(re.findall(r"CREATE TABLE (\w+)", TABLES_DDL))

# The steps from each older schema, as SQLite's: 8 → 9 makes the purges' table.
MIGRATIONS: dict[int, str] = {8: _PURGES_DDL}
FIRST_VERSION = SCHEMA_VERSION - len(MIGRATIONS)  # the schema PostgreSQL states began at


def steps_from(version: str) -> list[str] | None:
    """The scripts that bring a state of schema `version` up to SCHEMA_VERSION, in
    order; None when there is no way from there (a newer schema, or an unknown one)."""
    if version == str(SCHEMA_VERSION):
        return []
    start = next((n for n in MIGRATIONS if str(n) == version), None)
    if start is None:
        return None
    return [MIGRATIONS[n] for n in range(start, SCHEMA_VERSION)]


def ready(db: Session, name: str, *, make: bool = True) -> str | None:
    """Make the state's schema `name` and its tables where there are none (with `make`),
    or bring an older state up to date; return why the state cannot be used, or None."""
    found = db.execute(
        "SELECT (SELECT array_agg(tablename::text) FROM pg_tables WHERE schemaname = %s), "
        "(SELECT array_agg(indexname::text) FROM pg_indexes WHERE schemaname = %s)",
        (name, name),
    ).fetchone()
    tables = set(found[0] or ()) if found else set()
    indexes = set(found[1] or ()) if found else set()
    if not tables:
        if not make:
            return "no build has made this state yet"
        _make(db, name)
        return None
    if "meta" not in tables:
        return f"schema {name} holds tables that are not a topicfeeds state; give state_schema another name"
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    version = None if row is None else str(row[0])
    steps = None if version is None else steps_from(version)
    if steps is None:
        newer = version is not None and version.isdigit() and int(version) > SCHEMA_VERSION
        why = "a later version of topicfeeds wrote it: upgrade this one" if newer else "no way to upgrade it"
        return f"state of schema {version}, not {SCHEMA_VERSION} ({why}); nothing was changed"
    if steps:
        _in_one_transaction(db, [*steps, _noting_version()])
        return ready(db, name, make=make)  # as the steps left it
    missing = [t for t in TABLES if t not in tables]
    if missing:
        return f"state damaged: no table {', '.join(missing)}; nothing was changed"
    unmade = [statement for index, statement in RECORDS_INDEXES.items() if index not in indexes]
    if unmade:  # a cold build killed while filling left them out
        db.execute("; ".join(unmade))
    return None


def _make(db: Session, name: str) -> None:
    # At once: a run killed meanwhile leaves no schema with half the tables.
    _in_one_transaction(
        db, [f"CREATE SCHEMA IF NOT EXISTS {name}", TABLES_DDL, *RECORDS_INDEXES.values(), _noting_version()]
    )


def _noting_version() -> str:
    return (
        f"INSERT INTO meta (key, value) VALUES ('schema', '{SCHEMA_VERSION}') "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )


def _in_one_transaction(db: Session, scripts: list[str]) -> None:
    db.execute("BEGIN")
    try:
        for script in scripts:
            db.execute(script)
        db.execute("COMMIT")
    except BaseException:
        if not db.closed:
            db.execute("ROLLBACK")
        raise
