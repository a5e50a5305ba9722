"""SQLAlchemy: ``SELECT 1`` through the application's own engine and its pool.

:class:`SQLAlchemyCheck` takes an ``Engine`` (a sync check, run by the engine
in a worker thread); :class:`AsyncSQLAlchemyCheck` takes an ``AsyncEngine``.
Neither creates an engine or a connection of its own: each run checks a
connection out of the app's pool and returns it, so the pool's
``pool_pre_ping``, recycling and size rules apply as they do for the app.
The engine's URL (password and host) is declared as ``secrets``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["AsyncSQLAlchemyCheck", "SQLAlchemyCheck"]

_QUERY = "SELECT 1"


class _Base:
    component_type = "datastore"

    def __init__(self, engine: Any, *, name: str, timeout: float) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.name = name
        self.timeout = float(timeout)
        url = engine.url.render_as_string(hide_password=False)
        self.secrets: tuple[str, ...] = dsn_secrets(url)

    def __repr__(self) -> str:
        # Never the URL: a repr ends up in logs and tracebacks.
        return f"<{type(self).__name__} {self.name!r}>"

    def _passed(self, value: object, dialect: Any) -> CheckResult:
        if value != 1:
            raise RuntimeError(f"{_QUERY} returned {value!r}")
        details: dict[str, Any] = {"dialect": dialect.name, "driver": dialect.driver}
        info = getattr(dialect, "server_version_info", None)
        if info:
            details["server_version"] = ".".join(str(part) for part in info)
        return CheckResult.passed(
            f"{dialect.name} answered {_QUERY}", details=details, component_type="datastore"
        )


class SQLAlchemyCheck(_Base):
    """``SELECT 1`` over a connection from the app's ``Engine`` pool (sync ``check``).

    The run's time limit is ``timeout`` (the engine abandons a run that takes
    longer); the pool's own ``pool_timeout`` and the driver's connect
    arguments, both the app's, bound how long the worker thread can wait.
    """

    def __init__(self, engine: Engine, *, name: str = "database", timeout: float = 5.0) -> None:
        sqlalchemy = require("sqlalchemy", "sqlalchemy")
        if not isinstance(engine, sqlalchemy.engine.Engine):
            raise TypeError(
                f"SQLAlchemyCheck needs a sqlalchemy Engine, not {type(engine).__name__}"
                " (an AsyncEngine goes to AsyncSQLAlchemyCheck)"
            )
        super().__init__(engine, name=name, timeout=timeout)
        self.engine = engine

    def check(self) -> CheckResult:
        """Check a connection out, run ``SELECT 1``, return it to the pool; raise on failure."""
        sqlalchemy = require("sqlalchemy", "sqlalchemy")
        with self.engine.connect() as conn:
            value = conn.execute(sqlalchemy.text(_QUERY)).scalar()
        return self._passed(value, self.engine.dialect)


class AsyncSQLAlchemyCheck(_Base):
    """``SELECT 1`` over a connection from the app's ``AsyncEngine`` pool (``acheck``).

    Bounded by ``timeout``: a run that takes longer is cancelled, and
    SQLAlchemy invalidates the connection it interrupted rather than
    returning it to the pool in an unknown state.
    """

    def __init__(
        self, engine: AsyncEngine, *, name: str = "database", timeout: float = 5.0
    ) -> None:
        require("sqlalchemy", "sqlalchemy")
        asyncio_ext = require("sqlalchemy.ext.asyncio", "sqlalchemy")
        if not isinstance(engine, asyncio_ext.AsyncEngine):
            raise TypeError(
                f"AsyncSQLAlchemyCheck needs a sqlalchemy AsyncEngine, not {type(engine).__name__}"
                " (a sync Engine goes to SQLAlchemyCheck)"
            )
        super().__init__(engine, name=name, timeout=timeout)
        self.engine = engine

    async def acheck(self) -> CheckResult:
        """Check a connection out, run ``SELECT 1``, return it to the pool; raise on failure."""
        return await asyncio.wait_for(self._run(), self.timeout)

    async def _run(self) -> CheckResult:
        sqlalchemy = require("sqlalchemy", "sqlalchemy")
        async with self.engine.connect() as conn:
            value = await conn.scalar(sqlalchemy.text(_QUERY))
        return self._passed(value, self.engine.dialect)
