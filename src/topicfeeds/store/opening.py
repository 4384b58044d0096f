"""The state config.yaml names, opened: SQLite's file beside the config (the default), or
a schema in PostgreSQL (`state: postgresql://…`), or one kept in memory for one run. A
run holds the run's lock while it has the state open for writing: a lock file beside
SQLite's (runtime/lock.py), an advisory lock on the run's own session in PostgreSQL's.
Whichever it is, the run gets a `Store` and does not know which."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config, DatabaseState
from ..errors import Problem
from ..runtime.lock import exclusive
from .protocol import Store

if TYPE_CHECKING:
    from .postgres.standby import Leadership


def lock_file(state: Path) -> Path:
    """The file whose lock a run holds, beside SQLite's state file."""
    return state.with_name(state.name + ".lock")


def state_name(config: Config) -> str:
    """The state as messages name it: its file, or its database's URL (without a
    password) and schema."""
    if config.state_db is not None:
        return str(config.state_db)
    return str(config.state_path) if config.state_path is not None else "state in memory"


Place = Path | DatabaseState | None
"""Where a state is: a SQLite file, a schema in PostgreSQL, or nowhere (in memory)."""


def place_of(config: Config) -> Place:
    """Where config.yaml keeps the state."""
    return config.state_db if config.state_db is not None else config.state_path


@contextlib.contextmanager
def open_store(
    config: Config, *, wait: float = 0.0, look: bool = False
) -> Iterator[tuple[Store, list[Problem]]]:
    """The state, opened (made, or brought up to date) under the run's lock for the
    block, with warnings about it (a SQLite file that was moved aside). The store stays
    open after the block (the hubs are told from it once the lock is let go): the
    caller closes it. Raises LockedError when another run holds the lock for longer
    than `wait` seconds, StateError when the state cannot be used. With `look` (a dry
    run, `explain`), a state that does not exist yet is not made: the run's is kept in
    memory, and no lock is taken."""
    with open_place(place_of(config), wait=wait, look=look) as opened:
        yield opened


@contextlib.contextmanager
def open_place(
    where: Place, *, wait: float = 0.0, look: bool = False
) -> Iterator[tuple[Store, list[Problem]]]:
    """`open_store` for the state at `where`."""
    from . import StateStore  # this module is part of the package's own loading

    if isinstance(where, DatabaseState):
        from .postgres import PostgresStore

        store = PostgresStore.connect(where)
        try:
            absent = look and not store.exists()
            if not absent:
                store.lock(wait)
                notes = store.ready(look=look)
        except BaseException:
            store.close()
            raise
        if absent:
            store.close()
            yield StateStore.open(None)
            return
        try:
            yield store, notes
        finally:
            store.unlock()  # a store closed by the caller let go of it already
        return
    path = where
    if look and path is not None and not path.exists():
        path = None  # a dry run leaves no state file behind, nor a lock file
    with exclusive(lock_file(path), wait) if path is not None else contextlib.nullcontext():
        yield StateStore.open(path, wait=wait, look=look)


def attach_store(config: Config, *, read_only: bool = False) -> Store:
    """Another connection to the state as it is, beside a run that may hold the lock:
    for telling the hubs, and with `read_only` for looking. Raises sqlite3.Error
    (a file) or StateError (a database) when it cannot be opened."""
    from . import StateStore

    if config.state_db is not None:
        from .postgres import PostgresStore

        return PostgresStore.attach(config.state_db, read_only=read_only)
    if config.state_path is None:
        raise ValueError("a state kept in memory is the run's own")
    return StateStore.attach(config.state_path, read_only=read_only)


def state_exists(config: Config) -> bool:
    """Whether a build has made the state (its file, or its tables). Raises StateError
    when a database cannot be asked."""
    if config.state_db is not None:
        from .postgres import PostgresStore

        with contextlib.closing(PostgresStore.connect(config.state_db, "look")) as store:
            return store.exists()
    return config.state_path is not None and config.state_path.exists()


def standby(config: Config) -> Leadership | None:
    """For `watch`: the hold that makes one watch of several on one state the one that
    publishes (see postgres/standby.py); None for a state in a file, whose watches share
    one machine and simply take turns at the run's lock."""
    if config.state_db is None:
        return None
    from .postgres.standby import Leadership

    return Leadership(config.state_db)
