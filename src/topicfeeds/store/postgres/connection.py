"""The state's connection to PostgreSQL: libpq's URL and environment, the session's
settings, the run's lock, and every error of the server or the network turned into the
errors a run reports. PostgreSQL's counterpart of connection.py and faults.py.

Nothing here is damage: a server gone, a connection lost, a schema this version cannot
read are all StateError (exit status 4), and the state is left as it was, since the
next run, once the cause is gone, can use it again. A lock another session holds for
longer than the statement waits (the hubs' thread beside a run) is StateBusy.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ...config import DatabaseState
from ...errors import LockedError, Problem, StateBusy, StateError, TopicfeedsError
from . import schema

if TYPE_CHECKING:
    import psycopg

NOUN = "state"  # as errors name it: not a file
# Where the URL and libpq's environment say nothing: a server that does not answer is
# given up on after connect_timeout, and one that vanished mid-run (no FIN ever comes)
# after the keepalives, rather than when the kernel gives up two hours later.
_DEFAULTS = {"connect_timeout": ("10", "PGCONNECT_TIMEOUT"), "keepalives_idle": ("10", None),
             "keepalives_interval": ("5", None), "keepalives_count": ("3", None)}  # fmt: skip
# The same from the server's side, for every session: one whose client's machine
# vanished is ended after about 25 s, and the locks it held go with it (see standby.py).
# On a unix socket the server ignores them. Set with the search path in one round trip.
_SESSION = (
    "SELECT set_config('tcp_keepalives_idle', '10', false), "
    "set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false), "
    "set_config('tcp_user_timeout', '25000', false), "
    "set_config('search_path', %s, false), current_setting('server_encoding')"
)
_POLL_SECONDS = 0.1  # how often a run waiting for the lock asks again

S = TypeVar("S", bound="Connection")


def lock_key(db: DatabaseState, purpose: str) -> int:
    """The advisory lock of `purpose` ("run", "watch") on state `db`: from its schema, so
    that publications sharing a database keep apart (advisory locks are per database)."""
    digest = hashlib.sha256(f"topicfeeds {purpose}: {db.schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def connect(db: DatabaseState, purpose: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A session on `db`'s server, its search path on the state's schema (made or not),
    for `purpose` (shown in pg_stat_activity). Raises StateError when it cannot be made."""
    try:
        import psycopg
    except ImportError as exc:
        raise TopicfeedsError(
            f"state: {db} is a PostgreSQL state, which needs psycopg: pip install 'topicfeeds[postgresql]'"
        ) from exc
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        given = conninfo_to_dict(db.url)
        extra = {
            k: v for k, (v, env) in _DEFAULTS.items() if k not in given and not (env and os.environ.get(env))
        }
        named = f"topicfeeds {purpose}"
        conninfo = make_conninfo(db.url, client_encoding="UTF8", fallback_application_name=named, **extra)
    except psycopg.ProgrammingError as exc:
        raise StateError(str(db), f"cannot read the URL: {_first_line(exc)}", noun=NOUN) from None
    try:
        connection = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        raise StateError(str(db), f"cannot connect: {_first_line(exc)}", noun=NOUN) from None
    try:
        row = connection.execute(_SESSION, (db.schema,)).fetchone()
    except psycopg.Error as exc:
        connection.close()
        raise fault(db, exc) from None
    encoding = None if row is None else row[-1]
    if encoding != "UTF8":
        connection.close()
        why = f"the database's encoding is {encoding}, not UTF8 (CREATE DATABASE … ENCODING 'UTF8')"
        raise StateError(str(db), why, noun=NOUN)
    return connection


def fault(db: DatabaseState, exc: Exception) -> StateError | StateBusy:
    """The error a run reports for `exc`, met on state `db`."""
    import psycopg.errors

    if isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected)):
        return StateBusy(str(db), _first_line(exc), noun=NOUN)
    if isinstance(exc, psycopg.OperationalError):
        return StateError(str(db), f"lost the database server: {_first_line(exc)}", noun=NOUN)
    return StateError(str(db), _first_line(exc), noun=NOUN)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class Database:
    """A session on the state's server, through which every statement goes: errors come
    out as the run's (see `fault`), so the parts above never see psycopg's."""

    def __init__(self, connection: psycopg.Connection[tuple[Any, ...]], db: DatabaseState) -> None:
        self.connection = connection
        self.db = db

    def execute(self, query: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[tuple[Any, ...]]:
        """Run `query` (without `params`, it may be several statements); its rows are
        all read at once (a client-side cursor)."""
        import psycopg

        try:
            return self.connection.execute(query, params)
        except psycopg.Error as exc:
            raise fault(self.db, exc) from exc

    def executemany(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run `query` for each of `rows`, sent in a pipeline rather than each waiting for its answer."""
        import psycopg

        try:
            with self.connection.cursor() as cursor:
                cursor.executemany(query, rows)
        except psycopg.Error as exc:
            raise fault(self.db, exc) from exc

    def copy(self, table: str, columns: str, types: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Add `rows` to `table` with COPY, in PostgreSQL's binary form: the fastest way
        in, a few times faster than INSERT (no conflict is possible)."""
        import psycopg

        try:
            statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
            with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
                copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise fault(self.db, exc) from exc

    def stream(
        self, query: str, params: Sequence[Any] | None = None, size: int = 2000
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of `query`, `size` at a time from a server-side cursor, so that many
        rows never all wait in memory; inside a transaction (the run's), else all at once."""
        import psycopg

        if not self.in_transaction:
            yield from self.execute(query, params)
            return
        try:
            with self.connection.cursor(name=f"topicfeeds_{id(self):x}_{time.monotonic_ns()}") as cursor:
                cursor.itersize = size
                cursor.execute(query, params)
                while rows := cursor.fetchmany(size):
                    yield from rows
        except psycopg.Error as exc:
            raise fault(self.db, exc) from exc

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or failed, awaiting its rollback)."""
        from psycopg.pq import TransactionStatus

        return self.connection.info.transaction_status != TransactionStatus.IDLE

    @property
    def closed(self) -> bool:
        """Whether the session is closed, or lost."""
        return self.connection.closed or self.connection.broken

    def close(self) -> None:
        """End the session, having let go of its locks: the server ends a closed session
        in its own time, and a run started at once after this one (in this process, or
        `build` after `state copy`) must find the lock free, not held by a session
        that is going. What is open is rolled back, as the server would."""
        import psycopg

        if not self.closed:
            with contextlib.suppress(psycopg.Error):  # a session lost has no locks left
                self.connection.rollback()
                self.connection.execute("SELECT pg_advisory_unlock_all()")
        self.connection.close()


class Connection:
    """The state's session, the run's lock on it, and the schema made or brought up to date."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @classmethod
    def connect(cls: type[S], where: DatabaseState, purpose: str = "build") -> S:
        """A store on state `where`, as it is: nothing made, nothing locked yet."""
        return cls(Database(connect(where, purpose), where))

    @classmethod
    def attach(cls: type[S], where: DatabaseState, *, read_only: bool = False) -> S:
        """Another session on the state as it is, beside a run: nothing is made or
        upgraded; with `read_only`, for looking (`topicfeeds topics`)."""
        store = cls.connect(where, "look" if read_only else "hubs")
        if read_only:
            store._db.execute("SET default_transaction_read_only = on")
        return store

    @property
    def where(self) -> DatabaseState:
        """The state this store is on."""
        return self._db.db

    def alive(self) -> bool:
        """Whether the session still answers (one lost has let go of its locks)."""
        try:
            self._db.execute("SELECT 1")
        except (StateError, StateBusy):
            return False
        return True

    def exists(self) -> bool:
        """Whether the state's schema holds a state (a first run has made its tables)."""
        found = self._db.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'meta'", (self.where.schema,)
        )
        return found.fetchone() is not None

    def lock(self, wait: float = 0.0, purpose: str = "run") -> None:
        """Take the run's lock (a session advisory lock: the server lets go of it when
        this session ends, however the process ends), waiting up to `wait` seconds;
        LockedError when another run holds it longer. Parse workers never hold it:
        they inherit the session's socket but never speak on it."""
        key = lock_key(self.where, purpose)
        deadline = time.monotonic() + wait
        while True:
            row = self._db.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() >= deadline:
                raise LockedError(str(self.where))
            time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def unlock(self, purpose: str = "run") -> None:
        """Let go of the run's lock, if the session still holds it (one lost has none)."""
        if self._db.closed:
            return
        with contextlib.suppress(StateError, StateBusy):
            self._db.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.where, purpose),))

    def ready(self, *, look: bool = False) -> list[Problem]:
        """Make the state's schema and tables, or bring an older schema up to date, under
        the run's lock; StateError when this version cannot use what is there (a newer
        schema, tables that are not a state): nothing is dropped or moved aside. With
        `look`, a state with no tables yet is not made. No warnings: nothing is ever begun anew."""
        why = schema.ready(self._db, self.where.schema, make=not look)
        if why is not None:
            raise StateError(str(self.where), why, noun=NOUN)
        return []

    def patience(self, seconds: float) -> None:
        """How long a change waits for a lock another session holds (StateBusy after)."""
        self._db.execute(f"SET lock_timeout = {round(seconds * 1000)}")

    def close(self) -> None:
        """Close the session."""
        self._db.close()
