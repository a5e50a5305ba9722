"""Turning a config value into the object a check's constructor takes.

Most built-in checks accept a DSN or URL themselves.  The SQLAlchemy checks
take an engine (they check the app's own pool); from a config file there is
no app, so the URL becomes an engine here, created once when the config is
built and kept for the life of the check (its pool keeps the connection
open between runs: no new connection per probe; a check uses one at a time).
"""

from __future__ import annotations

import inspect
from typing import Any

from healthprobe._optional import require

__all__ = ["OwnedEngine", "async_sqlalchemy_engine", "sqlalchemy_engine"]


def sqlalchemy_engine(url: object) -> Any:
    """A sync ``Engine`` for ``url`` (e.g. ``postgresql+psycopg://...``)."""
    if not isinstance(url, str):
        raise TypeError("url must be a string (a SQLAlchemy URL)")
    sqlalchemy = require("sqlalchemy", "sqlalchemy", package="SQLAlchemy")
    return sqlalchemy.create_engine(url)


def async_sqlalchemy_engine(url: object) -> Any:
    """An ``AsyncEngine`` for ``url`` with an async driver (e.g. ``postgresql+asyncpg://``)."""
    if not isinstance(url, str):
        raise TypeError("url must be a string (a SQLAlchemy URL with an async driver)")
    asyncio_ext = require("sqlalchemy.ext.asyncio", "sqlalchemy", package="SQLAlchemy")
    return asyncio_ext.create_async_engine(url)


class OwnedEngine:
    """A check around an engine the config created: the engine is disposed at shutdown.

    Everything the engine reads (``name``, ``timeout``, ``secrets``,
    ``component_type``, ``check``/``acheck``) is the wrapped check's;
    ``aclose()`` closes the check, then disposes the engine's pool, which
    nobody else holds (an app's own engine is never wrapped).
    """

    def __init__(self, check: object, engine: Any) -> None:
        self.wrapped = check
        self.engine = engine

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.wrapped, attribute)

    async def aclose(self) -> None:
        """Close the wrapped check (if it closes), then dispose the engine."""
        closer = getattr(self.wrapped, "aclose", None) or getattr(self.wrapped, "close", None)
        if callable(closer):
            outcome = closer()
            if inspect.isawaitable(outcome):
                await outcome
        outcome = self.engine.dispose()  # AsyncEngine.dispose() is a coroutine
        if inspect.isawaitable(outcome):
            await outcome
