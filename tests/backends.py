"""The state's two backends for the tests: SQLite's file (the default) and a schema in a
real PostgreSQL (pgserver.py). Tests of what the state keeps take the `backend` fixture
and run once for each; a missing PostgreSQL fails them under CI=true, as any missing
component does, and skips them elsewhere."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest

from topicfeeds.config import Config, DatabaseState
from topicfeeds.store import StateStore, Store
from topicfeeds.store.postgres import PostgresStore

from .pgserver import PgServer, new_schema, server_programs

BACKENDS = ("sqlite", "postgresql")


def required_programs() -> Path:
    """The server's programs; without them the test fails under CI=true (CI installs
    them) and is skipped elsewhere."""
    programs = server_programs()
    if programs is None or shutil.which("setpriv") is None:
        message = "PostgreSQL is not installed (Debian: apt-get install -y postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return programs


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of this test process's own (each xdist worker has one)."""
    server = PgServer(required_programs())
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True)
class Backend:
    """Where a test's state is kept, and how the test reaches it."""

    name: str  # "sqlite" or "postgresql"
    server: PgServer | None = None
    schema: str | None = None

    @property
    def lines(self) -> str:
        """What config.yaml says of the state (nothing: SQLite's file, beside it)."""
        if self.server is None:
            return ""
        return f"state: {self.server.url()}\nstate_schema: {self.schema}\n"

    def text(self, config_text: str) -> str:
        """`config_text` with its state kept here."""
        return config_text + self.lines

    @property
    def db(self) -> DatabaseState:
        """The PostgreSQL state."""
        assert self.server is not None and self.schema is not None
        return DatabaseState(self.server.url(), self.schema)

    def store(self, folder: Path) -> Store:
        """A state of the test's own, opened as a run opens it (the lock aside)."""
        if self.server is None:
            return StateStore.open(folder / "state.sqlite")[0]
        store = PostgresStore.connect(self.db)
        store.ready()
        return store

    def forget(self, config: Config) -> None:
        """Lose the state, as a fresh disk or a DROP SCHEMA does."""
        if self.server is None:
            assert config.state_path is not None
            config.state_path.unlink()
        else:
            self.server.psql(f"DROP SCHEMA {self.schema} CASCADE")

    def indexes(self) -> list[str]:
        """The names of the secondary indexes a PostgreSQL state's tables have."""
        assert self.server is not None
        with psycopg.connect(self.server.url(), autocommit=True) as db:
            rows = db.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname NOT LIKE '%%pkey'",
                (self.schema,),
            )
            return sorted(name for (name,) in rows)

    def count(self, table: str) -> int:
        """The rows of `table` a reader sees (committed ones); 0 before the table is made."""
        assert self.server is not None
        with psycopg.connect(self.server.url(), autocommit=True) as db:
            made = db.execute("SELECT to_regclass(%s)", (f"{self.schema}.{table}",)).fetchone()
            if made is None or made[0] is None:
                return 0
            row = db.execute(f"SELECT COUNT(*) FROM {self.schema}.{table}").fetchone()
            return 0 if row is None else int(row[0])


def stateless(config: Config, output: Path | None = None) -> Config:
    """`config` with a state in memory: a cold build, as a fresh disk gives, into `output`."""
    return replace(config, state_path=None, state_db=None, output_dir=output or config.output_dir)


# For a test of what only SQLite's file has (its damage, its upgrades, its lock file),
# among tests that take `backend`.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in turn, a state of the test's own."""
    if request.param == "sqlite":
        return Backend("sqlite")
    return Backend("postgresql", request.getfixturevalue("pg_server"), new_schema())


@pytest.fixture
def postgresql(pg_server: PgServer) -> Backend:
    """A state of the test's own in PostgreSQL."""
    return Backend("postgresql", pg_server, new_schema())
