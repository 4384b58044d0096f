"""One watch publishes, the others stand by: `topicfeeds watch` on several machines
against one state in PostgreSQL.

A watch holds a second advisory lock, the watch's, on a session of its own for its
whole life. Another watch started on the same state waits for it (saying so once),
asking again every STANDBY_POLL seconds, and takes over when the first one's session
ends: the process killed, or its machine gone (the server ends a session whose client
stopped answering its keepalives within about 25 s; see connection.py). It then starts
as a watch starts: its first run is the ordinary incremental build over the shared
state, a full scan of the records, so whatever arrived while the first one died is
published, and what the first one's last run had committed is not done again. Runs
themselves still take the run's lock, so a `build` beside them waits its turn as ever.

Should the server restart under a publishing watch, its session, and with it the hold,
is gone: before every run the watch looks, takes the hold again if it can, and stands
by if another watch took it meanwhile.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from ...config import DatabaseState
from ...errors import LockedError, StateError
from .connection import Connection

STANDBY_POLL = 0.5  # seconds between a standing-by watch's attempts at the hold


class Leadership:
    """A watch's hold on a state in PostgreSQL (see the module's text)."""

    def __init__(self, db: DatabaseState) -> None:
        self.db = db
        self._session: Connection | None = None

    def take(self, stop: threading.Event, standing_by: Callable[[], None], *, first: bool = True) -> bool:
        """Hold the watch's lock, waiting while another watch holds it (`standing_by`
        is called once, when the waiting begins); False when `stop` is set first. At a
        watch's start (`first`) a server that cannot be reached ends it with StateError,
        as it ends `build`; later, the server is waited for as the other watch is."""
        told = False
        while not stop.is_set():
            try:
                if self._session is None:
                    self._session = Connection.connect(self.db, "watch")
                self._session.lock(0.0, "watch")
                return True
            except LockedError:
                if not told:
                    standing_by()
                    told = True
            except StateError:
                self._drop()
                if first and not told:
                    raise
            stop.wait(STANDBY_POLL)
        return False

    def keep(self, stop: threading.Event, standing_by: Callable[[], None]) -> bool:
        """Before a run: True when this watch still holds the lock, or has taken it
        again; otherwise it stands by until it does (False: stopped meanwhile). A server
        that cannot be reached now leaves the run to report it."""
        if self._session is not None:
            if self._session.alive():
                return True
            self._drop()  # the session, and the hold with it, is gone
        try:
            self._session = Connection.connect(self.db, "watch")
        except StateError:
            return True  # the run meets the same fault, and says so
        return self.take(stop, standing_by, first=False)

    def release(self) -> None:
        """Let go of the hold: a standing-by watch takes over."""
        self._drop()

    def _drop(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):
                self._session.close()
            self._session = None
