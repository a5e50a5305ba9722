"""Memcached: ``stats`` over a kept aiomcache client, and optionally the memory ratio.

Given an address (``"cache:11211"``, ``"memcached://cache:11211"``), the check
opens one connection on its first run, keeps it and drops it after any
failure or timeout, so the next run reconnects.  A client the application
already has (an ``aiomcache.Client``) is used as it is and never closed::

    health.add(MemcachedCheck("127.0.0.1:11211", memory_warn=0.9))
    health.add(MemcachedCheck(app.state.memcache, name="sessions"))
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

from ._dsn import dsn_secrets
from ._kept import KeptAsync
from ._levels import grade, option, thresholds, timeout_option

if TYPE_CHECKING:
    import aiomcache

__all__ = ["MemcachedCheck"]

DEFAULT_PORT = 11211


class MemcachedCheck:
    """``stats`` on a Memcached server: its version, connections, items and memory.

    ``memory_warn`` / ``memory_fail`` are ratios of ``bytes`` to
    ``limit_maxbytes`` (the ``-m`` limit) at or above which the check warns
    or fails; the ratio is always the observed value (unit ``ratio``), so a
    dashboard sees the cache filling up.  ``timeout`` (seconds) bounds
    connecting and the exchange: a server that accepts and never answers
    fails the run at the timeout.  On your own client the call is never
    cancelled (aiomcache would hand the half-read connection back to your
    pool): a run stops waiting at the timeout, and the next run fails at
    once while that call still waits.
    """

    component_type = "datastore"

    def __init__(
        self,
        address: str | aiomcache.Client,
        *,
        name: str = "memcached",
        timeout: float = 2.0,
        memory_warn: float | None = None,
        memory_fail: float | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.memory_warn = option(name, "memory_warn", memory_warn, high=1.0, strict_low=True)
        self.memory_fail = option(name, "memory_fail", memory_fail, high=1.0, strict_low=True)
        thresholds(
            name,
            ("memory_warn", self.memory_warn),
            ("memory_fail", self.memory_fail),
            higher_is_worse=True,
        )
        self._aiomcache = require("aiomcache", "memcached")
        self._user_client: Any = None
        self._pending: asyncio.Future[Any] | None = None
        self._kept: KeptAsync[Any] | None = None
        if isinstance(address, str):
            self.host, self.port = _parse_address(name, address)
            self.secrets: tuple[str, ...] = dsn_secrets(f"memcached://{self.host}:{self.port}")
            self._kept = KeptAsync(self._open, abort=_abort, closer=_close)
        elif isinstance(address, self._aiomcache.Client):
            self.host, self.port = "", 0
            self.secrets = ()
            self._user_client = address
        else:
            raise ConfigurationError(
                f"check {name!r}: needs 'host:port' or an aiomcache.Client, "
                f"not {type(address).__name__}"
            )

    def __repr__(self) -> str:
        # Never the host: a repr ends up in logs and tracebacks.
        over = "its own connection" if self._kept is not None else "your client"
        return f"<MemcachedCheck {self.name!r} over {over}>"

    async def acheck(self) -> CheckResult:
        """Run ``stats``; raises (= fail) on any error or after ``timeout`` seconds."""
        if self._kept is None:
            return self.result(await self._user_stats())
        return await self._kept.run(self.timeout, self._stats)

    async def _user_stats(self) -> Any:
        # aiomcache returns a connection whose command was *cancelled* to its
        # pool as it is, its answer half read: the next command of the app on
        # it would read the rest.  So the call on your client is never
        # cancelled: the run stops waiting at the timeout, the call finishes on
        # its own, and no second one starts while it is still waiting.
        pending = self._pending
        if pending is not None and not pending.done():
            raise TimeoutError("the previous stats call on this client has not finished")
        task = asyncio.ensure_future(self._user_client.stats())
        task.add_done_callback(_retrieve)
        self._pending = task
        return await asyncio.wait_for(asyncio.shield(task), self.timeout)

    async def aclose(self) -> None:
        """Close the connection this check opened (never your client)."""
        if self._kept is not None:
            await self._kept.aclose()

    def result(self, stats: Mapping[bytes, bytes | None]) -> CheckResult:
        """The reading of one ``stats`` answer (a pure function of it)."""
        fields = {key.decode(): (value or b"").decode() for key, value in stats.items()}
        used, limit = _int(fields.get("bytes")), _int(fields.get("limit_maxbytes"))
        if limit <= 0:
            raise RuntimeError("stats did not report limit_maxbytes")
        ratio = round(used / limit, 4)
        details: dict[str, Any] = {
            "server_version": fields.get("version", "?"),
            "curr_connections": _int(fields.get("curr_connections")),
            "curr_items": _int(fields.get("curr_items")),
            "bytes": used,
            "limit_maxbytes": limit,
            "evictions": _int(fields.get("evictions")),
        }
        text = f"memcached {details['server_version']}: memory used {ratio:.1%} of limit_maxbytes"
        level = grade(ratio, self.memory_warn, self.memory_fail, higher_is_worse=True)
        common: dict[str, Any] = {
            "details": details,
            "observed_value": ratio,
            "observed_unit": "ratio",
            "component_type": self.component_type,
        }
        if level is Status.FAIL:
            return CheckResult.failed(f"{text} (fail at {self.memory_fail:.1%})", **common)
        if level is Status.WARN:
            return CheckResult.warned(f"{text} (warn at {self.memory_warn:.1%})", **common)
        return CheckResult.passed(text, **common)

    async def _open(self, deadline: float) -> Any:
        # One connection: a probe never needs two, and the server can count it.
        return self._aiomcache.Client(self.host, self.port, pool_size=1, pool_minsize=1)

    async def _stats(self, client: Any, deadline: float) -> CheckResult:
        return self.result(await client.stats())


def _parse_address(name: str, address: str) -> tuple[str, int]:
    rest = address.removeprefix("memcached://").rstrip("/")
    if "/" in rest or "@" in rest or not rest:
        # Never echo the value: it came from configuration.
        raise ConfigurationError(f"check {name!r}: address must look like 'host:port'")
    host, colon, port = rest.rpartition(":") if not rest.endswith("]") else (rest, "", "")
    if not colon:
        host, port = rest, str(DEFAULT_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"check {name!r}: address must look like 'host:port'")
    return host, int(port)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def _close(client: Any) -> None:
    await client.close()


def _retrieve(future: asyncio.Future[Any]) -> None:
    # A call that outlived its run: its error was reported (as a timeout) already.
    if not future.cancelled():
        future.exception()


_closing: set[asyncio.Task[None]] = set()


def _abort(client: Any) -> None:
    # Called on the client's own loop.  aiomcache closes its sockets without
    # I/O, but only through a coroutine: a task does it at once.
    task = asyncio.get_running_loop().create_task(client.close())
    _closing.add(task)  # a task nobody references may be collected before it runs
    task.add_done_callback(_closing.discard)
