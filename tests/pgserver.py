"""A real PostgreSQL for the tests (and bench/postgres.py): Debian's server, made with
`initdb` in a temporary folder and started with `pg_ctl` as an unprivileged user (the
server refuses to run as root), listening on 127.0.0.1 at a free port and on a unix
socket in its folder. Each pytest-xdist worker starts its own; each test takes a
schema of its own in it, which is what a state's `state_schema` names."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

# The unprivileged user the server runs as: the one Debian's package makes.
SERVER_USER = "postgres"


def free_port() -> int:
    """A port no one listens on now (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_programs() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: Debian keeps them out of PATH, under
    /usr/lib/postgresql/<version>/bin; the newest installed version is taken."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


class PgServer:
    """One PostgreSQL cluster in a temporary folder, started and stopped by the tests."""

    def __init__(self, programs: Path, *, durable: bool = False) -> None:
        self.programs = programs
        self.root = Path(tempfile.mkdtemp(prefix="topicfeeds-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "server.log"
        self.durable = durable
        as_root = os.geteuid() == 0
        self._user = pwd.getpwnam(SERVER_USER) if as_root else None
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync", "--no-instructions")  # fmt: skip
        # The tests are about what is kept, not about a machine that loses power; a
        # durable server (for figures) keeps the package's defaults.
        fast = ["shared_buffers = 64MB", "fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            "max_connections = 60",
            *([] if durable else fast),
        ]
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(settings) + "\n")
        self.start()

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.programs / program), *args]
        if self._user is not None:
            command = ["setpriv", f"--reuid={self._user.pw_uid}", f"--regid={self._user.pw_gid}",
                       "--clear-groups", *command]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, check=True, cwd=self.root, timeout=120)

    def start(self) -> None:
        """Start the server (again) and wait until it takes connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session, `immediate` as a crash would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        """The state's URL: over TCP on loopback, as the superuser (trusted: no password)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` with psql over the unix socket; its output, unaligned."""
        done = subprocess.run(
            [str(self.programs / "psql"), "-h", str(self.root), "-p", str(self.port), "-U", "postgres",
             "-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return done.stdout.strip()

    def close(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def new_schema() -> str:
    """A schema name no other test takes: each test's state is its own."""
    return f"t_{uuid.uuid4().hex[:16]}"
