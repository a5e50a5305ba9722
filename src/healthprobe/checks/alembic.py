"""Alembic: is the database at the migration scripts' head?  A readiness gate for deploys.

A pod whose code expects a schema the database does not have yet (migrations
still running, or failed) should not take traffic; nor should an old pod
whose database was already migrated past anything it knows.  The check
compares the revision(s) stored in the database with the head(s) of the
migration scripts shipped with the code:

* pass: the database is exactly at the head(s);
* fail: behind (an older revision, or no revision at all), or at a revision
  the scripts do not know (the database is ahead of this code, or another
  branch); both revisions are in the details either way.

:class:`AlembicCheck` takes the app's ``Engine``; :class:`AsyncAlembicCheck`
its ``AsyncEngine``.  The scripts are read once, on first use (they do not
change under a running process); the database is read on every run.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._dsn import dsn_secrets
from ._levels import timeout_option

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["AlembicCheck", "AsyncAlembicCheck"]


class _Base:
    component_type = "datastore"

    def __init__(
        self,
        engine: Any,
        script_location: str | os.PathLike[str] | None,
        config: Config | None,
        *,
        name: str,
        timeout: float,
        version_table: str,
    ) -> None:
        require("alembic", "alembic")  # fail at construction when it is missing
        if (script_location is None) == (config is None):
            raise ConfigurationError(
                f"check {name!r}: pass exactly one of script_location and config"
            )
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.version_table = version_table
        self.engine = engine
        self.secrets: tuple[str, ...] = dsn_secrets(
            engine.url.render_as_string(hide_password=False)
        )
        self._location = None if script_location is None else os.fspath(script_location)
        self._config = config
        self._script: ScriptDirectory | None = None
        self._script_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _scripts(self) -> ScriptDirectory:
        with self._script_lock:
            if self._script is None:
                script_module = require("alembic.script", "alembic")
                if self._config is not None:
                    self._script = script_module.ScriptDirectory.from_config(self._config)
                else:
                    self._script = script_module.ScriptDirectory(self._location)
            return self._script

    def _current(self, connection: Connection) -> tuple[str, ...]:
        migration = require("alembic.runtime.migration", "alembic")
        context = migration.MigrationContext.configure(
            connection, opts={"version_table": self.version_table}
        )
        return tuple(context.get_current_heads())

    def _verdict(self, current: tuple[str, ...]) -> CheckResult:
        return verdict(current, self._scripts())


def verdict(current: tuple[str, ...], script: ScriptDirectory) -> CheckResult:
    """Compare the database's revisions with the scripts' heads (a pure decision)."""
    heads = tuple(script.get_heads())
    details = {"database": sorted(current), "head": sorted(heads)}
    if set(current) == set(heads):
        return CheckResult.passed(
            f"at head {', '.join(sorted(heads))}", details=details, component_type="datastore"
        )
    if not current:
        return CheckResult.failed(
            "the database has no migration revision (not migrated yet)",
            details=details,
            component_type="datastore",
        )
    unknown = [rev for rev in current if not _known(script, rev)]
    if unknown:
        return CheckResult.failed(
            f"the database is at revision {', '.join(sorted(unknown))}, unknown to these "
            "migration scripts (migrated by a newer release?)",
            details=details,
            component_type="datastore",
        )
    return CheckResult.failed(
        f"the database is behind: at {', '.join(sorted(current))}, "
        f"head is {', '.join(sorted(heads))}",
        details=details,
        component_type="datastore",
    )


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises ResolutionError / CommandError for unknown ids
        return False


class AlembicCheck(_Base):
    """The database behind the app's ``Engine`` is at the scripts' head(s) (sync ``check``).

    Give the migration scripts as ``script_location`` (the directory
    holding ``env.py`` and ``versions/``) or as an alembic ``config``.
    """

    def __init__(
        self,
        engine: Engine,
        script_location: str | os.PathLike[str] | None = None,
        *,
        config: Config | None = None,
        name: str = "migrations",
        timeout: float = 5.0,
        version_table: str = "alembic_version",
    ) -> None:
        super().__init__(
            engine,
            script_location,
            config,
            name=name,
            timeout=timeout,
            version_table=version_table,
        )

    def check(self) -> CheckResult:
        """Pass at head; fail behind or at an unknown revision; raise when unreachable."""
        with self.engine.connect() as connection:
            current = self._current(connection)
        return self._verdict(current)


class AsyncAlembicCheck(_Base):
    """The database behind the app's ``AsyncEngine`` is at the scripts' head(s) (``acheck``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        script_location: str | os.PathLike[str] | None = None,
        *,
        config: Config | None = None,
        name: str = "migrations",
        timeout: float = 5.0,
        version_table: str = "alembic_version",
    ) -> None:
        super().__init__(
            engine,
            script_location,
            config,
            name=name,
            timeout=timeout,
            version_table=version_table,
        )

    async def acheck(self) -> CheckResult:
        """Pass at head; fail behind or at an unknown revision; raise when unreachable."""
        return await asyncio.wait_for(self._run(), self.timeout)

    async def _run(self) -> CheckResult:
        async with self.engine.connect() as connection:
            current = await connection.run_sync(self._current)
        # Reading the scripts is file I/O: keep it off the event loop.
        await asyncio.to_thread(self._scripts)
        return self._verdict(current)
