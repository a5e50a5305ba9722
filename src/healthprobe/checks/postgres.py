"""PostgreSQL: ``SELECT 1`` over the app's pool or connection, or over one kept connection.

Two twins share every decision; only the I/O path is doubled:

* :class:`PostgresCheck` (async): asyncpg (extra ``asyncpg``) or psycopg 3's
  async API (extra ``psycopg``).
* :class:`SyncPostgresCheck` (sync, run by the engine in a worker thread):
  psycopg 3.

Each accepts what the application already has (a pool or a connection; the
check borrows it and never closes it) or a DSN, from which it opens ONE
connection on first use, keeps it, and drops it after any failure or
timeout, so the next run reconnects.  ``aclose()``/``close()`` close only
that connection.  The DSN's password and hosts are declared as ``secrets``::

    health.add(PostgresCheck(app.state.pool))               # the app's asyncpg pool
    health.add(PostgresCheck(settings.database_url, timeout=2.0))  # its own connection
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets
from ._levels import timeout_option
from ._loops import dispose_on_owner, seconds_left
from ._socket_deadline import socket_deadline

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresCheck", "SyncPostgresCheck"]

_QUERY = "SELECT 1"


class _Base:
    component_type = "datastore"

    def __init__(self, target: object, *, name: str, timeout: float, application_name: str) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.application_name = application_name
        self._dsn = target if isinstance(target, str) else None
        self.secrets: tuple[str, ...] = dsn_secrets(self._dsn)
        self._target: Any = target  # duck-typed: a pool or connection of one of the drivers

    def __repr__(self) -> str:
        # Never the DSN: a repr ends up in logs and tracebacks.
        return f"<{type(self).__name__} {self.name!r} over {self._describe()}>"

    def _describe(self) -> str:
        if self._dsn is not None:
            return "its own connection"
        return f"a {type(self._target).__name__}"

    def _passed(self, version: str, driver: str) -> CheckResult:
        return CheckResult.passed(
            f"PostgreSQL {version} answered {_QUERY}",
            details={"server_version": version, "driver": driver},
            component_type=self.component_type,
        )


class PostgresCheck(_Base):
    """Async PostgreSQL check (``acheck``): ``SELECT 1``; the server version in details.

    ``target`` is an asyncpg ``Pool``/``Connection``, a psycopg
    ``AsyncConnection``, a psycopg_pool ``AsyncConnectionPool``, or a DSN
    (then ``driver`` picks ``"asyncpg"`` or ``"psycopg"``).  ``timeout``
    (seconds) also bounds the driver: connecting, acquiring from a pool and
    the query itself, so a server that accepts and stays silent cannot hold
    the check.  A kept connection belongs to the event loop that opened it;
    run from another loop, the check reconnects there.
    """

    def __init__(
        self,
        target: object,
        *,
        name: str = "postgres",
        timeout: float = 5.0,
        driver: Literal["asyncpg", "psycopg"] = "asyncpg",
        application_name: str = "healthprobe",
    ) -> None:
        super().__init__(target, name=name, timeout=timeout, application_name=application_name)
        if driver not in ("asyncpg", "psycopg"):
            raise ConfigurationError(
                f"check {name!r}: driver must be 'asyncpg' or 'psycopg', not {driver!r}"
            )
        self._kind = _classify_async(target, driver)
        self.driver = self._kind.partition("-")[0]
        self._conn: Any = None  # the kept connection (DSN only)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    async def acheck(self) -> CheckResult:
        """Run ``SELECT 1``; raises (= fail) on any error or after ``timeout`` seconds."""
        deadline = time.monotonic() + self.timeout
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._forget()  # a connection (and lock) of another loop is unusable here
            self._loop, self._lock = loop, asyncio.Lock()
        assert self._lock is not None
        await asyncio.wait_for(self._lock.acquire(), seconds_left(deadline))
        try:  # one run at a time: overlapping runs must not open a second connection
            return await self._run(deadline)
        finally:
            self._lock.release()

    async def aclose(self) -> None:
        """Close the connection this check opened (never the app's pool or connection)."""
        if self._loop is not asyncio.get_running_loop():
            self._forget()  # opened on another loop: it can only be closed there
            return
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(), self.timeout)  # asyncpg and psycopg alike
        except BaseException:
            _abort(conn)
            raise

    async def _run(self, deadline: float) -> CheckResult:
        kind, target = self._kind, self._target
        if kind == "asyncpg-pool":
            async with target.acquire(timeout=seconds_left(deadline)) as conn:
                return self._passed(await _asyncpg_select(conn, seconds_left(deadline)), "asyncpg")
        if kind == "asyncpg-connection":
            return self._passed(await _asyncpg_select(target, seconds_left(deadline)), "asyncpg")
        # psycopg has no command timeout of its own: on the app's connections
        # wait_for() cancels the query (psycopg then asks the server to cancel it).
        if kind == "psycopg-pool":
            async with target.connection(timeout=seconds_left(deadline)) as conn:
                query = _apsycopg_select(conn)
                return self._passed(
                    await asyncio.wait_for(query, seconds_left(deadline)), "psycopg"
                )
        if kind == "psycopg-connection":
            query = _apsycopg_select(target)
            return self._passed(await asyncio.wait_for(query, seconds_left(deadline)), "psycopg")
        try:
            conn = self._conn
            if conn is not None and _is_closed(conn):
                self._forget()
                conn = None
            if conn is None:
                conn = self._conn = await self._connect(deadline)
            if self.driver == "asyncpg":
                return self._passed(await _asyncpg_select(conn, seconds_left(deadline)), "asyncpg")
            # Our own connection may simply be cut when the server is silent.
            loop = asyncio.get_running_loop()
            with socket_deadline(conn.fileno(), seconds_left(deadline), self.timeout, loop):
                return self._passed(await _apsycopg_select(conn), "psycopg")
        except BaseException:
            # Failed, timed out or cancelled mid-query: the connection's state
            # is unknown, so it is dropped and the next run reconnects.
            self._forget()
            raise

    async def _connect(self, deadline: float) -> Any:
        if self.driver == "asyncpg":
            asyncpg = require("asyncpg", "asyncpg")
            return await asyncpg.connect(
                self._dsn,
                timeout=seconds_left(deadline),
                command_timeout=self.timeout,
                server_settings={"application_name": self.application_name},
            )
        psycopg_mod = require("psycopg", "psycopg")
        return await asyncio.wait_for(
            psycopg_mod.AsyncConnection.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=max(2, math.ceil(self.timeout)),  # libpq's minimum is 2 s
                application_name=self.application_name,
            ),
            seconds_left(deadline),
        )

    def _forget(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            dispose_on_owner(self._loop, functools.partial(_abort, conn))


class SyncPostgresCheck(_Base):
    """Sync PostgreSQL check (``check``, psycopg 3): ``SELECT 1``; the server version in details.

    ``target`` is a psycopg ``Connection``, a psycopg_pool ``ConnectionPool``
    or a DSN.  With a DSN, ``timeout`` bounds connecting (libpq's
    ``connect_timeout``, at least 2 s) and the query: a watchdog shuts the
    kept connection's socket down when the server has not answered in time,
    so the worker thread is never held by a silent server.  With the app's
    pool, it bounds the wait for a connection.
    """

    def __init__(
        self,
        target: object,
        *,
        name: str = "postgres",
        timeout: float = 5.0,
        application_name: str = "healthprobe",
    ) -> None:
        super().__init__(target, name=name, timeout=timeout, application_name=application_name)
        self._kind = _classify_sync(target)
        self.driver = "psycopg"
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._closing = False

    def check(self) -> CheckResult:
        """Run ``SELECT 1``; raises (= fail) on any error or after ``timeout`` seconds."""
        with self._lock:
            self._closing = False
            try:
                return self._check_locked()
            finally:
                if self._closing:  # close() came while this run held the connection
                    self._close_kept()

    def close(self) -> None:
        """Close the connection this check opened (never the app's pool or connection).

        Called on the event loop by ``Health.astop()``, so it never waits for
        a run still in flight: that run closes the connection when it ends.
        """
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                self._close_kept()
            finally:
                self._lock.release()

    def _close_kept(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _check_locked(self) -> CheckResult:
        if self._kind == "psycopg-pool":
            with self._target.connection(timeout=self.timeout) as conn:
                return self._passed(_psycopg_select(conn), "psycopg")
        if self._kind == "psycopg-connection":
            return self._passed(_psycopg_select(self._target), "psycopg")
        return self._check_kept()

    def _check_kept(self) -> CheckResult:
        conn = self._conn
        try:
            if conn is None or conn.closed:
                psycopg_mod = require("psycopg", "psycopg")
                conn = self._conn = psycopg_mod.connect(
                    self._dsn,
                    autocommit=True,
                    connect_timeout=max(2, math.ceil(self.timeout)),
                    application_name=self.application_name,
                )
            with socket_deadline(conn.fileno(), self.timeout, self.timeout):
                return self._passed(_psycopg_select(conn), "psycopg")
        except BaseException:
            conn, self._conn = self._conn, None
            if conn is not None:
                _abort(conn)
            raise


def _origin(target: object) -> str:
    return type(target).__module__.partition(".")[0]


def _classify_async(target: object, driver: str) -> str:
    if isinstance(target, str):
        require(driver, driver)  # fail at construction when the driver is missing
        return f"{driver}-dsn"
    origin = _origin(target)
    if origin == "asyncpg":
        return "asyncpg-pool" if hasattr(target, "acquire") else "asyncpg-connection"
    if origin == "psycopg_pool" and type(target).__name__.startswith("Async"):
        return "psycopg-pool"
    if origin == "psycopg" and type(target).__name__.startswith("Async"):
        return "psycopg-connection"
    if origin in ("psycopg", "psycopg_pool"):
        raise TypeError(f"a sync psycopg {type(target).__name__} needs SyncPostgresCheck")
    raise TypeError(
        "PostgresCheck needs a DSN, an asyncpg Pool/Connection, or a psycopg "
        f"AsyncConnection/AsyncConnectionPool, not {type(target).__name__}"
    )


def _classify_sync(target: object) -> str:
    if isinstance(target, str):
        require("psycopg", "psycopg")
        return "psycopg-dsn"
    origin, cls = _origin(target), type(target).__name__
    if origin in ("psycopg", "psycopg_pool") and cls.startswith("Async"):
        raise TypeError(f"a psycopg {cls} needs PostgresCheck (async)")
    if origin == "psycopg_pool":
        return "psycopg-pool"
    if origin == "psycopg":
        return "psycopg-connection"
    raise TypeError(
        f"SyncPostgresCheck needs a DSN, a psycopg Connection or ConnectionPool, not {cls}"
    )


async def _asyncpg_select(conn: Any, timeout: float) -> str:
    value = await conn.fetchval(_QUERY, timeout=timeout)
    if value != 1:
        raise RuntimeError(f"{_QUERY} returned {value!r}")
    v = conn.get_server_version()
    # asyncpg files PostgreSQL 10+'s "15.20" as major 15, minor 0, micro 20.
    return f"{v.major}.{v.micro}" if v.major >= 10 else f"{v.major}.{v.minor}.{v.micro}"


async def _apsycopg_select(conn: psycopg.AsyncConnection[Any]) -> str:
    # On the app's non-autocommit connection, end the transaction the query
    # opened (only if it opened one), so it is not left "idle in transaction".
    was_idle = conn.info.transaction_status.name == "IDLE"
    cursor = await conn.execute(_QUERY)
    row = await cursor.fetchone()
    if was_idle and not conn.autocommit:
        await conn.rollback()
    _expect_one(row)
    return _version(conn.info.server_version)


def _psycopg_select(conn: psycopg.Connection[Any]) -> str:
    was_idle = conn.info.transaction_status.name == "IDLE"
    row = conn.execute(_QUERY).fetchone()
    if was_idle and not conn.autocommit:
        conn.rollback()
    _expect_one(row)
    return _version(conn.info.server_version)


def _expect_one(row: Any) -> None:
    if row is None or row[0] != 1:
        raise RuntimeError(f"{_QUERY} returned {row!r}")


def _version(number: int) -> str:
    """libpq's integer server version (150020, 90624) as PostgreSQL writes it."""
    major, rest = divmod(number, 10000)
    if major >= 10:
        return f"{major}.{rest}"
    return f"{major}.{rest // 100}.{rest % 100}"


def _is_closed(conn: Any) -> bool:
    closed = conn.is_closed() if hasattr(conn, "is_closed") else conn.closed  # asyncpg, psycopg
    return bool(closed)


def _abort(conn: Any) -> None:
    """Close a connection at once, without I/O that could wait on a silent server."""
    try:
        if hasattr(conn, "terminate"):  # asyncpg
            conn.terminate()
        else:  # psycopg, sync or async: libpq's PQfinish closes the socket
            conn.pgconn.finish()
    except Exception:  # noqa: S110 - best effort: the connection is being thrown away
        pass
