"""Redis: ``PING`` over a kept client, and optionally the memory ratio.

Two twins share every decision (:class:`_RedisOptions`); only the I/O is
doubled.  :class:`RedisCheck` takes a ``redis.asyncio`` client (standalone,
``Sentinel.master_for(...)`` or ``RedisCluster``) or a URL; :class:`SyncRedisCheck`
takes the synchronous clients or a URL.  Given a URL, a check creates one
client on its first run, keeps it (its pool reconnects after a failure) and
closes it in ``aclose()``/``close()``; a client the user passed is used as it
is and never closed.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    import redis as sync_redis
    import redis.asyncio as async_redis
    import redis.asyncio.cluster as async_cluster
    import redis.cluster as sync_cluster

    AsyncClient = async_redis.Redis | async_cluster.RedisCluster
    SyncClient = sync_redis.Redis | sync_cluster.RedisCluster

__all__ = ["RedisCheck", "SyncRedisCheck"]


class _RedisOptions:
    """What both twins share: options, validation and the meaning of a reading."""

    component_type = "datastore"

    def __init__(
        self,
        target: object,
        *,
        name: str,
        timeout: float,
        memory_warn: float | None,
        memory_fail: float | None,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"check {name!r}: timeout must be positive, not {timeout!r}")
        for option, value in (("memory_warn", memory_warn), ("memory_fail", memory_fail)):
            if value is not None and not (isinstance(value, (int, float)) and 0 < value <= 1):
                raise ConfigurationError(
                    f"check {name!r}: {option} is a ratio in (0, 1], not {value!r}"
                )
        if memory_warn is not None and memory_fail is not None and memory_warn > memory_fail:
            raise ConfigurationError(f"check {name!r}: memory_warn is above memory_fail")
        self.name = name
        self.timeout = float(timeout)
        self.memory_warn = memory_warn
        self.memory_fail = memory_fail
        self.url = target if isinstance(target, str) else None
        if self.url is not None and not self.url.startswith(("redis://", "rediss://", "unix://")):
            # Never echo the value: it may be a DSN with a password.
            raise ConfigurationError(
                f"check {name!r}: a Redis URL starts with redis://, rediss:// or unix://"
            )
        # Declared to the engine, which scrubs them from every output.
        self.secrets = dsn_secrets(self.url)

    @property
    def wants_memory(self) -> bool:
        return self.memory_warn is not None or self.memory_fail is not None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for a client this check creates from its URL.

        The socket timeouts follow the check's timeout, and a probe never
        retries inside a run: the next probe is the retry.
        """
        return {
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
            "health_check_interval": 0,
            "client_name": "healthprobe",
        }

    def result(self, info: Mapping[str, Any] | None) -> CheckResult:
        """The result of a successful PING, with the memory reading when asked for."""
        if info is None:
            return CheckResult.passed("PONG")
        readings = _memory_readings(info)
        limited = [(used, limit) for used, limit in readings if limit > 0]
        if not limited:
            used = max((u for u, _ in readings), default=0)
            return CheckResult.passed(
                "maxmemory is not set: the memory ratio is not checked",
                details={"used_memory": used, "maxmemory": 0},
                observed_value=used,
                observed_unit="bytes",
            )
        used, limit = max(limited, key=lambda pair: pair[0] / pair[1])
        ratio = round(used / limit, 4)
        fields: dict[str, Any] = {
            "details": {"used_memory": used, "maxmemory": limit},
            "observed_value": ratio,
            "observed_unit": "ratio",
        }
        text = f"memory used {ratio:.1%} of maxmemory"
        if self.memory_fail is not None and ratio >= self.memory_fail:
            return CheckResult.failed(f"{text} (fail at {self.memory_fail:.1%})", **fields)
        if self.memory_warn is not None and ratio >= self.memory_warn:
            return CheckResult.warned(f"{text} (warn at {self.memory_warn:.1%})", **fields)
        return CheckResult.passed(text, **fields)


class RedisCheck(_RedisOptions):
    """``PING`` through a ``redis.asyncio`` client (yours, or one made from a URL).

    ``memory_warn`` / ``memory_fail`` (ratios of ``used_memory`` to
    ``maxmemory``) add an ``INFO memory`` round trip whose ratio is the
    observed value; a server without ``maxmemory`` passes with its used bytes.
    """

    def __init__(
        self,
        client_or_url: AsyncClient | str,
        *,
        name: str = "redis",
        timeout: float = 2.0,
        memory_warn: float | None = None,
        memory_fail: float | None = None,
    ) -> None:
        super().__init__(
            client_or_url,
            name=name,
            timeout=timeout,
            memory_warn=memory_warn,
            memory_fail=memory_fail,
        )
        self._module = require("redis.asyncio", "redis", package="redis")
        self._owned = isinstance(client_or_url, str)
        self._client: Any = None if self._owned else client_or_url
        self._loop: asyncio.AbstractEventLoop | None = None
        if self._client is not None and not inspect.iscoroutinefunction(
            getattr(self._client, "execute_command", None)
        ):
            raise ConfigurationError(
                f"check {name!r}: {type(client_or_url).__name__} is a synchronous client; "
                "use SyncRedisCheck for it"
            )

    async def acheck(self) -> CheckResult:
        """PING (and INFO memory when thresholds are set); raises when Redis does not answer."""
        client = self._client
        loop = asyncio.get_running_loop()
        if self._owned and self._loop is not loop:
            # A client made on another (finished) event loop can be neither used nor closed here.
            client = None
        if client is None:
            retry = require("redis.asyncio.retry", "redis", package="redis")
            backoff = require("redis.backoff", "redis", package="redis")
            client = self._module.Redis.from_url(
                self.url,
                retry=retry.Retry(backoff.NoBackoff(), 0),
                **self.client_options(),
            )
            self._client, self._loop = client, loop
        # wait_for: the driver's socket timeouts bound each read, this bounds the run.
        await asyncio.wait_for(client.ping(), self.timeout)
        info = None
        if self.wants_memory:
            info = await asyncio.wait_for(client.info("memory"), self.timeout)
        return self.result(info)

    async def aclose(self) -> None:
        """Close the client this check created (a client you passed stays open)."""
        if self._owned and self._client is not None:
            client, self._client = self._client, None
            # A client of another (finished) loop cannot be closed from this one.
            if self._loop is asyncio.get_running_loop():
                await client.aclose()


class SyncRedisCheck(_RedisOptions):
    """The blocking twin of :class:`RedisCheck`, for ``redis.Redis`` and friends.

    Runs in the engine's worker thread; the client's own socket timeouts (set
    from ``timeout`` for a client made from a URL) bound each call.
    """

    def __init__(
        self,
        client_or_url: SyncClient | str,
        *,
        name: str = "redis",
        timeout: float = 2.0,
        memory_warn: float | None = None,
        memory_fail: float | None = None,
    ) -> None:
        super().__init__(
            client_or_url,
            name=name,
            timeout=timeout,
            memory_warn=memory_warn,
            memory_fail=memory_fail,
        )
        self._module = require("redis", "redis")
        self._owned = isinstance(client_or_url, str)
        self._client: Any = None if self._owned else client_or_url
        if self._client is not None and inspect.iscoroutinefunction(
            getattr(self._client, "execute_command", None)
        ):
            raise ConfigurationError(
                f"check {name!r}: {type(client_or_url).__name__} is an asyncio client; "
                "use RedisCheck for it"
            )

    def check(self) -> CheckResult:
        """PING (and INFO memory when thresholds are set); raises when Redis does not answer."""
        client = self._client
        if client is None:
            retry = require("redis.retry", "redis")
            backoff = require("redis.backoff", "redis")
            client = self._module.Redis.from_url(
                self.url,
                retry=retry.Retry(backoff.NoBackoff(), 0),
                **self.client_options(),
            )
            self._client = client
        client.ping()
        info = client.info("memory") if self.wants_memory else None
        return self.result(info)

    def close(self) -> None:
        """Close the client this check created (a client you passed stays open)."""
        if self._owned and self._client is not None:
            client, self._client = self._client, None
            client.close()


def _memory_readings(info: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(used_memory, maxmemory) pairs: one for a server, one per node for a cluster."""
    if "used_memory" in info:
        used = _number(info.get("used_memory"))
        return [(used, _number(info.get("maxmemory")))]
    return [pair for v in info.values() if isinstance(v, Mapping) for pair in _memory_readings(v)]


def _number(value: object) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]  # INFO fields are ints or numeric text
    except (TypeError, ValueError):
        return 0
    return int(number) if math.isfinite(number) else 0
