"""Django: a database alias, a cache, a storage and the migrations, through Django itself.

Each check reuses what the project already configured (``DATABASES``,
``CACHES``, ``STORAGES``), so the probe talks to the dependency with the
project's own backend, options and credentials::

    health.add(DjangoDatabaseCheck("default"))
    health.add(DjangoCacheCheck("default"), critical=False)
    health.add(DjangoStorageCheck("default"))
    health.add(DjangoMigrationsCheck("default"), probes=["startup"])

Django keeps database connections and cache clients *per thread*.  So that a
check keeps ONE connection (and not one per run), each check makes all its
Django calls on one daemon thread of its own, whichever thread the engine runs
it on; that thread's connection for the alias is the check's kept
connection.  After any failure the connection is closed, so the next run
reconnects.  ``CONN_MAX_AGE`` > 0 is honoured (an older connection is
replaced, ``CONN_HEALTH_CHECKS`` too); ``CONN_MAX_AGE = 0`` means "one
connection per request", which a probe polled every few seconds is not, so
the check then keeps its connection until it fails or ``close()``.

The engine bounds every run by its ``timeout``.  A driver call blocked on a
server that accepts and never answers is cut for the query on a kept
PostgreSQL connection (its socket is shut down); for connecting, set the
backend's own ``connect_timeout`` in ``OPTIONS`` so that the stuck thread is
freed too (until then later runs wait on it and fail at their timeout).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.sanitize import sanitize

from ._dsn import dsn_secrets
from ._levels import timeout_option
from ._own_thread import OwnThread
from ._socket_deadline import socket_deadline

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "DjangoCacheCheck",
    "DjangoDatabaseCheck",
    "DjangoMigrationsCheck",
    "DjangoStorageCheck",
]

_QUERY = "SELECT 1"
_SECRET_OPTIONS = ("password", "passwd", "sslpassword", "secret", "token", "key")
_LOOPBACK = {"", "localhost", "127.0.0.1", "::1"}


def _django(module: str) -> Any:
    """A Django module (imported on first use; Django is the ``django`` extra)."""
    return require(module, "django")


class _DjangoCheck:
    """What the four checks share: the alias, the own thread, secrets and failure text."""

    component_type = "datastore"
    _kind = ""

    def __init__(self, alias: str, *, name: str, timeout: float) -> None:
        require("django", "django")  # fail at construction when Django is missing
        if not isinstance(alias, str) or not alias:
            raise ConfigurationError(f"check {name!r}: alias must be a non-empty string")
        self.alias = alias
        self.name = name
        self.timeout = timeout_option(name, timeout)
        # Named apart from the engine's per-run threads ("healthprobe:<name>").
        self._thread = OwnThread(f"healthprobe:{name}:django")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self._kind} alias {self.alias!r}>"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Passwords and non-loopback hosts of the alias's settings (when configured)."""
        try:
            return tuple(dict.fromkeys(s for s in self._secrets() if s))
        except Exception:  # settings not configured yet: the run scrubs them itself
            return ()

    def _secrets(self) -> list[str]:
        return []

    def check(self) -> CheckResult:
        """Run on the check's own thread; a failure is reported, sanitized, as fail."""
        return self._thread.call(self._guarded)

    def close(self) -> None:
        """Close what the check's thread holds (never another thread's connection).

        Queued behind a run still in flight, and not waited for beyond the
        check's timeout: ``Health.astop()`` must not hang on a silent server.
        """
        if self._thread.ident is None:
            return
        future = self._thread.submit(self._close)
        self._thread.stop()  # a later run starts a thread (and a connection) again
        # Best effort at shutdown: the thread is a daemon and goes with the process.
        with contextlib.suppress(Exception):
            future.result(timeout=self.timeout)

    def _guarded(self) -> CheckResult:
        try:
            return self._run()
        except Exception as exc:
            self._after_failure()
            return CheckResult.failed(
                sanitize(f"{type(exc).__name__}: {exc}", self.secrets),
                details={"alias": self.alias},
                component_type=self.component_type,
            )

    def _run(self) -> CheckResult:
        raise NotImplementedError

    def _after_failure(self) -> None:
        """Drop the thread's client after a failure, so that the next run reconnects."""

    def _close(self) -> None:
        """Close the thread's client."""


def _database_secrets(alias: str) -> list[str]:
    settings = _django("django.db").connections.settings[alias]
    found = [str(settings.get("PASSWORD") or "")]
    host = str(settings.get("HOST") or "")
    if host not in _LOOPBACK and not host.startswith("/"):
        found.append(host)
    found += _option_secrets(settings.get("OPTIONS") or {})
    return found


def _option_secrets(options: Mapping[str, Any]) -> list[str]:
    return [
        str(value)
        for key, value in options.items()
        if isinstance(value, str) and any(word in key.lower() for word in _SECRET_OPTIONS)
    ]


class _ConnectionCheck(_DjangoCheck):
    """A check that uses ``django.db.connections[alias]`` on its own thread."""

    def _secrets(self) -> list[str]:
        return _database_secrets(self.alias)

    def _connection(self) -> BaseDatabaseWrapper:
        conn: BaseDatabaseWrapper = _django("django.db").connections[self.alias]
        if conn.connection is not None:
            if conn.settings_dict.get("CONN_MAX_AGE"):
                # The project's maximum age and CONN_HEALTH_CHECKS.
                conn.close_if_unusable_or_obsolete()
            elif conn.errors_occurred and not conn.is_usable():
                conn.close()
        return conn

    def _after_failure(self) -> None:
        self._close()

    def _close(self) -> None:
        connections = _django("django.db").connections
        if self.alias not in connections.settings:
            return
        # A broken connection may fail to close; it is dropped all the same.
        with contextlib.suppress(Exception):
            connections[self.alias].close()


class DjangoDatabaseCheck(_ConnectionCheck):
    """``SELECT 1`` on ``django.db.connections[alias]``; the vendor in details.

    Works with every backend Django ships (PostgreSQL, MySQL/MariaDB,
    SQLite, Oracle) and third-party ones that follow its API.
    """

    _kind = "database"

    def __init__(
        self, alias: str = "default", *, name: str = "database", timeout: float = 5.0
    ) -> None:
        super().__init__(alias, name=name, timeout=timeout)

    def _run(self) -> CheckResult:
        conn = self._connection()
        conn.ensure_connection()
        fileno = _socket_fileno(conn)
        started = time.monotonic()
        if fileno is None:
            row = _select_one(conn)
        else:
            # A kept PostgreSQL connection to a server gone silent: cut at the timeout.
            with socket_deadline(fileno, self.timeout, self.timeout):
                row = _select_one(conn)
        if row is None or row[0] != 1:
            raise RuntimeError(f"{_QUERY} returned {row!r}")
        return CheckResult.passed(
            f"{conn.display_name} answered {_QUERY}",
            details={"alias": self.alias, "vendor": conn.vendor},
            observed_value=round((time.monotonic() - started) * 1000, 3),
            observed_unit="ms",
            component_type=self.component_type,
        )


def _select_one(conn: BaseDatabaseWrapper) -> Any:
    with conn.cursor() as cursor:
        cursor.execute(_QUERY)
        return cursor.fetchone()


def _socket_fileno(conn: BaseDatabaseWrapper) -> int | None:
    """The socket of a psycopg connection (libpq has no client-side query timeout)."""
    if conn.vendor != "postgresql":
        return None
    fileno = getattr(conn.connection, "fileno", None)
    return int(fileno()) if callable(fileno) else None


class DjangoMigrationsCheck(_ConnectionCheck):
    """Fails while migrations of the installed apps are unapplied on ``alias``.

    The count is the observed value (unit ``migrations``); the first ten
    unapplied ones (``app.name``) are in details.  Built for readiness or
    startup: a pod whose schema is not there yet should not take traffic.
    The migration graph is loaded from disk on every run, so prefer an
    ``interval`` of a minute or a ``cache_ttl`` on frequent probes.
    """

    _kind = "migrations"

    def __init__(
        self, alias: str = "default", *, name: str = "migrations", timeout: float = 10.0
    ) -> None:
        super().__init__(alias, name=name, timeout=timeout)

    def _run(self) -> CheckResult:
        migrations = _django("django.db.migrations.executor")
        executor = migrations.MigrationExecutor(self._connection())
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        pending = [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
        details: dict[str, Any] = {"alias": self.alias, "unapplied": pending[:10]}
        fields: dict[str, Any] = {
            "details": details,
            "observed_value": len(plan),
            "observed_unit": "migrations",
            "component_type": self.component_type,
        }
        if plan:
            return CheckResult.failed(f"{len(plan)} unapplied migration(s)", **fields)
        return CheckResult.passed("all migrations applied", **fields)


class DjangoCacheCheck(_DjangoCheck):
    """Set, get and delete a probe key on ``django.core.cache.caches[alias]``.

    The key is unique to the check instance (``healthprobe:<uuid>``) and
    lives at most ``timeout`` seconds (rounded up), so concurrent workers never
    read each other's value and a failed delete leaves nothing behind for
    long.  A value read back different from the one written fails.
    """

    _kind = "cache"

    def __init__(
        self, alias: str = "default", *, name: str = "cache", timeout: float = 2.0
    ) -> None:
        super().__init__(alias, name=name, timeout=timeout)
        self._key = f"healthprobe:{uuid.uuid4().hex}"

    def _secrets(self) -> list[str]:
        config = _django("django.conf").settings.CACHES[self.alias]
        location = config.get("LOCATION") or ()
        locations = [location] if isinstance(location, str) else list(location)
        found = [s for loc in locations for s in dsn_secrets(str(loc))]
        return found + _option_secrets(config.get("OPTIONS") or {})

    def _run(self) -> CheckResult:
        cache = _django("django.core.cache").caches[self.alias]
        value = f"{uuid.uuid4().hex}"
        started = time.monotonic()
        cache.set(self._key, value, timeout=max(1, int(self.timeout + 0.999)))
        read = cache.get(self._key)
        cache.delete(self._key)
        elapsed = round((time.monotonic() - started) * 1000, 3)
        details = {"alias": self.alias, "backend": type(cache).__name__}
        if read != value:
            return CheckResult.failed("the value read back is not the one written", details=details)
        return CheckResult.passed(
            "set, get and delete answered",
            details=details,
            observed_value=elapsed,
            observed_unit="ms",
            component_type=self.component_type,
        )

    def _close(self) -> None:
        caches = _django("django.core.cache").caches
        if self.alias not in caches.settings:
            return
        cache = caches[self.alias]
        cache.close()
        # Django's RedisCache keeps its pools open on close() (a no-op there):
        # disconnect the pools of this thread's cache, the check's own.
        pools = getattr(getattr(cache, "_cache", None), "_pools", None)
        for pool in (pools or {}).values():
            pool.disconnect()


class DjangoStorageCheck(_DjangoCheck):
    """Save, check and delete a small file on ``django.core.files.storage.storages[alias]``.

    The file name is unique per run (``healthprobe/<uuid>.txt``; the storage
    may alter it); it is deleted even when reading it back failed.
    """

    _kind = "storage"

    def __init__(
        self, alias: str = "default", *, name: str = "storage", timeout: float = 5.0
    ) -> None:
        super().__init__(alias, name=name, timeout=timeout)

    def _run(self) -> CheckResult:
        storage = _django("django.core.files.storage").storages[self.alias]
        content = _django("django.core.files.base").ContentFile
        body = uuid.uuid4().hex.encode()
        started = time.monotonic()
        saved = storage.save(f"healthprobe/{uuid.uuid4().hex}.txt", content(body))
        try:
            if not storage.exists(saved):
                return CheckResult.failed("the file saved does not exist", details=self._details())
            with storage.open(saved, "rb") as handle:
                read = handle.read()
        finally:
            storage.delete(saved)
        if read != body:
            return CheckResult.failed(
                "the file read back is not the one saved", details=self._details()
            )
        return CheckResult.passed(
            "save, read and delete answered",
            details=self._details(),
            observed_value=round((time.monotonic() - started) * 1000, 3),
            observed_unit="ms",
            component_type=self.component_type,
        )

    def _details(self) -> dict[str, Any]:
        return {"alias": self.alias}
