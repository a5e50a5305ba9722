"""SQLite: ``SELECT 1`` over one kept connection, optionally ``PRAGMA quick_check`` (stdlib)."""

from __future__ import annotations

import os
import pathlib
import sqlite3
import threading

from healthprobe.checks._levels import timeout_option
from healthprobe.engine.result import CheckResult

__all__ = ["SQLiteCheck"]

_MEMORY = ":memory:"
#: How many quick_check problems are kept in details (the rest are counted).
_SHOWN_PROBLEMS = 5


class SQLiteCheck:
    """``SELECT 1`` on a SQLite database file, over a connection opened once and kept.

    Each run also reads the schema table, which needs a shared lock on the
    file: a database locked by a writer for longer than ``timeout`` fails.

    * A missing file fails the check ("does not exist") and is never created,
      unless ``create=True``: a health check must not leave an empty database
      where the application expects its data.
    * ``quick_check=True`` adds ``PRAGMA quick_check`` (reads every page: cost
      grows with the database); any problem it reports fails the check.
    * ``timeout`` is also SQLite's busy timeout (how long a run waits for a lock).

    The connection is opened on the first run with ``check_same_thread=False``
    (runs happen in the engine's worker threads) and used under a lock.  After
    a failed run it is closed and the next run opens a new one (the file may
    have been replaced).  :meth:`close` closes it at shutdown.
    """

    component_type = "datastore"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str = "sqlite",
        timeout: float = 2.0,
        quick_check: bool = False,
        create: bool = False,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.path = os.fspath(path)
        self.quick_check = bool(quick_check)
        self.create = bool(create)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._close_pending = False

    def check(self) -> CheckResult:
        """One ``SELECT 1`` (and ``quick_check``); a database error is a ``fail`` result."""
        if self._in_file and not self.create and not os.path.exists(self.path):
            self.close()  # the file went away: let go of it, reopen when it is back
            return CheckResult.failed("the database file does not exist")
        with self._lock:
            try:
                return self._query()
            except sqlite3.Error as exc:
                self._drop()
                # SQLite's own messages ("database is locked") name no path or secret.
                return CheckResult.failed(f"{type(exc).__name__}: {exc}")
            except BaseException:
                self._drop()
                raise
            finally:
                if self._close_pending:  # close() came while this run held the connection
                    self._close_pending = False
                    self._drop()

    def close(self) -> None:
        """Close the kept connection; never waits for a run that is still stuck.

        Called during a run, the run closes it when it finishes.  A later run
        opens a new connection.
        """
        if self._lock.acquire(blocking=False):
            try:
                self._drop()
            finally:
                self._lock.release()
        else:
            self._close_pending = True

    @property
    def _in_file(self) -> bool:
        return self.path != _MEMORY and not self.path.startswith("file:")

    def _connect(self) -> sqlite3.Connection:
        if not self._in_file:
            target, uri = self.path, self.path.startswith("file:")
        else:
            # mode=rw never creates the file, even if it vanishes after the check above.
            mode = "rwc" if self.create else "rw"
            target, uri = f"{pathlib.Path(self.path).absolute().as_uri()}?mode={mode}", True
        return sqlite3.connect(
            target,
            timeout=self.timeout,
            check_same_thread=False,
            isolation_level=None,  # autocommit: a probe never holds a transaction open
            uri=uri,
        )

    def _query(self) -> CheckResult:
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        connection.execute("SELECT 1").fetchone()
        # SELECT 1 reads no page of the file: once the schema is cached it answers even
        # while a writer holds the database locked.  Counting the schema reads page 1.
        (objects,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        details: dict[str, object] = {
            "sqlite_version": sqlite3.sqlite_version,
            "schema_objects": objects,
        }
        if not self.quick_check:
            return CheckResult.passed("SELECT 1 ok, schema readable", details=details)
        problems = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
        if problems == ["ok"]:
            return CheckResult.passed("SELECT 1 and quick_check ok", details=details)
        details["problems"] = problems[:_SHOWN_PROBLEMS]
        details["problem_count"] = len(problems)
        return CheckResult.failed(f"quick_check found {len(problems)} problem(s)", details=details)

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
