"""A test-owned PostgreSQL instance on a spare loopback port, to stop and start at will.

The machine's own server (5432) must never be touched; tests that need a
server to go away run this one instead.  The data directory lives in a
fresh temp dir owned by the ``postgres`` OS user, because PostgreSQL refuses
to run as root; ``pg_ctl`` (run as that user) starts and stops exactly this
instance, found by its data directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import free_port


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def can_run() -> str | None:
    """None when a private server can be run here, else the reason it cannot."""
    if _bin_dir() is None:
        return "PostgreSQL server binaries are not installed under /usr/lib/postgresql"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no 'postgres' OS user to run a private PostgreSQL server"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "running a private PostgreSQL server needs root or the postgres user"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is needed to start PostgreSQL as the postgres user"
    return None


class PgServer:
    """One private PostgreSQL instance: ``port``, ``dsn``, ``start()`` and ``stop()``."""

    def __init__(self, base: str, port: int, settings: str = "") -> None:
        self.port = port
        self.settings = settings  # extra server options, e.g. "-c shared_preload_libraries=..."
        self.data = os.path.join(base, "data")
        self._base = base
        self._bin = _bin_dir() or ""
        self.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *argv: str, timeout: float = 60.0) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *argv], check=True, capture_output=True, timeout=timeout, cwd=self._base
        )

    def init(self) -> None:
        """Create the cluster: trust auth for the postgres user, no fsync (a throwaway)."""
        self._run(
            os.path.join(self._bin, "initdb"),
            "-D",
            self.data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections (pg_ctl -w)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._base} "
            f"-c fsync=off -c max_connections=20 {self.settings}"
        )
        self._run(
            os.path.join(self._bin, "pg_ctl"),
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            os.path.join(self._base, "log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        """Stop the server at once (fast mode: connections are terminated)."""
        self._run(os.path.join(self._bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))


@contextmanager
def pg_server(settings: str = "") -> Iterator[PgServer]:
    """A started private server (``settings``: extra options), stopped and deleted on exit."""
    base = tempfile.mkdtemp(prefix="healthprobe-pg-")
    entry = pwd.getpwnam("postgres")
    if os.geteuid() == 0:
        os.chown(base, entry.pw_uid, entry.pw_gid)
    os.chmod(base, 0o700)
    server = PgServer(base, free_port(), settings)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            if server.running():
                server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
