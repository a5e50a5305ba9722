"""MySQL / MariaDB: ``SELECT 1`` over the app's pool or connection, or over one kept connection.

* :class:`MySQLCheck` (async): aiomysql (extra ``aiomysql``) or asyncmy
  (extra ``asyncmy``).
* :class:`SyncMySQLCheck` (sync, run by the engine in a worker thread): PyMySQL
  (extra ``pymysql``).

Each accepts what the application already has (a pool or a connection; the
check borrows it and never closes it) or a URL ``mysql://user:password@host:3306/db``,
from which it opens ONE connection on first use, keeps it, and drops it after
any failure or timeout so the next run reconnects.  ``aclose()``/``close()``
close only that connection.  The URL's password and host are declared as ``secrets``::

    health.add(MySQLCheck("mysql://app:secret@db:3306/app", timeout=2.0))
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
import urllib.parse
from typing import Any, Literal

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets
from ._levels import timeout_option
from ._loops import dispose_on_owner, seconds_left

__all__ = ["MySQLCheck", "SyncMySQLCheck"]

_QUERY = "SELECT 1"
_IN_TRANSACTION = 1  # SERVER_STATUS_IN_TRANS in the protocol's status flags


class _Base:
    component_type = "datastore"

    def __init__(self, target: object, *, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self._url = target if isinstance(target, str) else None
        self.secrets: tuple[str, ...] = dsn_secrets(self._url)
        self._target: Any = target  # duck-typed: a pool or connection of one of the drivers

    def __repr__(self) -> str:
        # Never the URL: a repr ends up in logs and tracebacks.
        over = "its own connection" if self._url else f"a {type(self._target).__name__}"
        return f"<{type(self).__name__} {self.name!r} over {over}>"

    def _params(self) -> dict[str, Any]:
        """Connection keywords from the URL, as PyMySQL and asyncmy name them."""
        assert self._url is not None
        parts = urllib.parse.urlsplit(self._url)
        if not parts.scheme.startswith(("mysql", "mariadb")):
            raise ValueError("the URL must start with mysql:// or mariadb://")
        params: dict[str, Any] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 3306,
            "user": urllib.parse.unquote(parts.username or ""),
            "password": urllib.parse.unquote(parts.password or ""),
        }
        if parts.path.strip("/"):
            params["database"] = urllib.parse.unquote(parts.path.strip("/"))
        return params

    def _passed(self, version: str, driver: str) -> CheckResult:
        return CheckResult.passed(
            f"server {version} answered {_QUERY}",
            details={"server_version": version, "driver": driver},
            component_type=self.component_type,
        )


class MySQLCheck(_Base):
    """Async MySQL/MariaDB check (``acheck``): ``SELECT 1``; the server version in details.

    ``target`` is an aiomysql or asyncmy ``Pool``/``Connection``, or a URL
    (then ``driver`` picks ``"aiomysql"`` or ``"asyncmy"``).  ``timeout``
    bounds connecting (the driver's ``connect_timeout``, and the handshake,
    which aiomysql leaves unbounded), acquiring from a pool, and the query.
    """

    def __init__(
        self,
        target: object,
        *,
        name: str = "mysql",
        timeout: float = 5.0,
        driver: Literal["aiomysql", "asyncmy"] = "aiomysql",
    ) -> None:
        super().__init__(target, name=name, timeout=timeout)
        if driver not in ("aiomysql", "asyncmy"):
            raise ConfigurationError(
                f"check {name!r}: driver must be 'aiomysql' or 'asyncmy', not {driver!r}"
            )
        if isinstance(target, str):
            require(driver, driver)  # fail at construction when the driver is missing
            self._params()  # and on a malformed URL
            self.driver: str = driver
            self._pool = False
        else:
            self.driver = type(target).__module__.partition(".")[0]
            if self.driver not in ("aiomysql", "asyncmy"):
                raise TypeError(
                    "MySQLCheck needs a URL or an aiomysql/asyncmy Pool or Connection, "
                    f"not {type(target).__name__}"
                )
            self._pool = hasattr(target, "acquire")
        self._conn: Any = None
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
            return await asyncio.wait_for(self._run(), seconds_left(deadline))
        finally:
            self._lock.release()

    async def aclose(self) -> None:
        """Close the connection this check opened (never the app's pool or connection)."""
        self._forget()

    async def _run(self) -> CheckResult:
        if self._pool:
            async with self._target.acquire() as conn:
                return self._passed(await _aselect(conn), self.driver)
        if self._url is None:
            return self._passed(await _aselect(self._target), self.driver)
        try:
            if self._conn is not None and not _is_open(self._conn):
                self._forget()
            if self._conn is None:
                self._conn = await self._connect()
            return self._passed(await _aselect(self._conn), self.driver)
        except BaseException:
            # Failed, timed out or cancelled mid-query: the connection's state
            # is unknown, so it is dropped and the next run reconnects.
            self._forget()
            raise

    async def _connect(self) -> Any:
        params = self._params()
        module = require(self.driver, self.driver)
        if self.driver == "aiomysql" and "database" in params:
            params["db"] = params.pop("database")  # aiomysql's older name
        return await module.connect(**params, connect_timeout=self.timeout, autocommit=True)

    def _forget(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            dispose_on_owner(self._loop, functools.partial(_abort, conn))


class SyncMySQLCheck(_Base):
    """Sync MySQL/MariaDB check (``check``, PyMySQL): ``SELECT 1``; the server version in details.

    ``target`` is a PyMySQL ``Connection`` or a URL.  With a URL, ``timeout``
    is PyMySQL's connect, read and write timeout (socket timeouts), so a
    silent server cannot hold the worker thread.
    """

    def __init__(self, target: object, *, name: str = "mysql", timeout: float = 5.0) -> None:
        super().__init__(target, name=name, timeout=timeout)
        if isinstance(target, str):
            require("pymysql", "pymysql")
            self._params()
        elif type(target).__module__.partition(".")[0] != "pymysql":
            raise TypeError(
                f"SyncMySQLCheck needs a URL or a PyMySQL Connection, not {type(target).__name__}"
            )
        self.driver = "pymysql"
        self._conn: Any = None
        self._lock = threading.Lock()
        self._closing = False

    def check(self) -> CheckResult:
        """Run ``SELECT 1``; raises (= fail) on any error or after ``timeout`` seconds."""
        with self._lock:
            self._closing = False
            try:
                if self._url is None:
                    return self._passed(_select(self._target), "pymysql")
                return self._check_kept()
            finally:
                if self._closing:  # close() came while this run held the connection
                    self._forget()

    def close(self) -> None:
        """Close the connection this check opened; never waits for a run in flight."""
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                self._forget()
            finally:
                self._lock.release()

    def _check_kept(self) -> CheckResult:
        try:
            if self._conn is not None and not self._conn.open:
                self._forget()
            if self._conn is None:
                pymysql = require("pymysql", "pymysql")
                t = self.timeout
                self._conn = pymysql.connect(
                    **self._params(),
                    connect_timeout=t,
                    read_timeout=t,
                    write_timeout=t,
                    autocommit=True,
                )
            return self._passed(_select(self._conn), "pymysql")
        except BaseException:
            self._forget()
            raise

    def _forget(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _abort(conn)


async def _aselect(conn: Any) -> str:
    # On the app's connection with autocommit off, end the transaction the
    # query opened (only if it opened one): it would pin an old snapshot.
    opened = not conn.server_status & _IN_TRANSACTION and not conn.get_autocommit()
    async with conn.cursor() as cursor:
        await cursor.execute(_QUERY)
        row = await cursor.fetchone()
    if opened:
        await conn.rollback()
    _expect_one(row)
    return _version(str(conn.get_server_info()))


def _select(conn: Any) -> str:
    opened = not conn.server_status & _IN_TRANSACTION and not conn.get_autocommit()
    with conn.cursor() as cursor:
        cursor.execute(_QUERY)
        row = cursor.fetchone()
    if opened:
        conn.rollback()
    _expect_one(row)
    return _version(str(conn.get_server_info()))


def _expect_one(row: Any) -> None:
    # The app's pool may hand out dict cursors.
    value = None if row is None else next(iter(row.values() if isinstance(row, dict) else row))
    if value != 1:
        raise RuntimeError(f"{_QUERY} returned {row!r}")


def _version(info: str) -> str:
    # MariaDB prefixes "5.5.5-" for old replication clients; it is not its version.
    return info.removeprefix("5.5.5-")


def _is_open(conn: Any) -> bool:
    if hasattr(conn, "connected"):  # asyncmy
        return bool(conn.connected)
    return not conn.closed  # aiomysql


def _abort(conn: Any) -> None:
    """Close a connection at once, without waiting on a silent server."""
    try:
        force = getattr(conn, "_force_close", None)  # PyMySQL: close the socket, no QUIT
        if callable(force):
            force()
        else:
            conn.close()  # aiomysql and asyncmy: closes the transport
    except Exception:  # noqa: S110 - best effort: the connection is being thrown away
        pass
