"""NATS: a PING/PONG round trip (``flush``) over a kept connection, optionally JetStream.

Given server URLs, the check connects on its first run and keeps the
connection.  It does its own reconnecting: the connection is opened with the
driver's reconnect loop off, so a lost server closes it and the next run
opens a new one (bounded by the check's timeout) instead of waiting on a
background loop.  A client the user passed is used as it is: never closed,
never reconnected (its own reconnect policy applies).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    from nats.aio.client import Client

__all__ = ["NatsCheck"]


class NatsCheck:
    """``flush()`` (a PING/PONG round trip) on a kept NATS connection.

    ``servers`` is a URL (``nats://user:password@host:4222``), a list of
    them, or a connected ``nats.aio.client.Client``.  With ``jetstream=True``
    the JetStream account info is read too (a fail when JetStream is off);
    its stream and storage counts go into details.  ``connection_name`` is
    what the server shows for the check's own connection.
    """

    component_type = "component"

    def __init__(
        self,
        servers: str | Sequence[str] | Client,
        *,
        name: str = "nats",
        timeout: float = 2.0,
        jetstream: bool = False,
        connection_name: str = "healthprobe",
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"check {name!r}: timeout must be positive, not {timeout!r}")
        self._nats = require("nats", "nats", package="nats-py")
        self.name = name
        self.timeout = float(timeout)
        self.jetstream = jetstream
        self.connection_name = connection_name
        if isinstance(servers, str):
            servers = [servers]
        if isinstance(servers, Sequence):
            self._servers: list[str] | None = list(servers)
            if not self._servers or not all(isinstance(s, str) for s in self._servers):
                raise ConfigurationError(f"check {name!r}: servers must be URLs or a client")
            self._client: Any = None
        else:
            self._servers = None
            self._client = servers
        self._loop: asyncio.AbstractEventLoop | None = None
        # Declared to the engine, which scrubs them from every output.
        self.secrets = tuple(s for url in self._servers or () for s in dsn_secrets(url))

    async def acheck(self) -> CheckResult:
        """Round trip to the server (and JetStream); raises when it does not answer."""
        client = self._client
        if self._servers is not None and self._loop is not asyncio.get_running_loop():
            # A client made on another (finished) event loop can be neither used nor closed here.
            client = self._client = None
        if self._servers is not None and (client is None or not client.is_connected):
            client = await self._connect()
        await asyncio.wait_for(client.flush(), self.timeout)
        details: dict[str, Any] = {}
        version = getattr(client, "connected_server_version", None)
        if version is not None:
            details["server_version"] = str(version)
        if self.jetstream:
            info = await client.jetstream(timeout=self.timeout).account_info()
            details.update(
                streams=info.streams,
                consumers=info.consumers,
                memory_bytes=info.memory,
                storage_bytes=info.storage,
            )
        return CheckResult.passed("PONG", details=details)

    async def aclose(self) -> None:
        """Close the connection this check opened (a client you passed stays open)."""
        if self._servers is not None and self._client is not None:
            client, self._client = self._client, None
            await _quietly_close(client)

    async def _connect(self) -> Any:
        old, self._client = self._client, None
        if old is not None:
            await _quietly_close(old)
        client = self._nats.NATS()
        seen: list[Exception] = []

        async def remember(error: Exception) -> None:
            # Replaces the driver's default callback, which logs a traceback.
            seen.append(error)

        try:
            await asyncio.wait_for(
                client.connect(
                    servers=self._servers,
                    name=self.connection_name,
                    connect_timeout=self.timeout,
                    allow_reconnect=False,
                    # Try each server twice at most, without pausing: the
                    # driver's own waits would outlast the check's timeout.
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0,
                    error_cb=remember,
                    disconnected_cb=_nothing,
                    closed_cb=_nothing,
                ),
                self.timeout,
            )
        except Exception as exc:
            await _quietly_close(client)
            if seen and isinstance(exc, self._nats.errors.NoServersError):
                # "no servers available" hides why: say what the last attempt met.
                last = seen[-1]
                raise ConnectionError(
                    f"no NATS server answered; last error: {type(last).__name__}: {last}"
                ) from exc
            raise
        except BaseException:
            # Cancellation (the engine's timeout): never leave a half-open socket.
            await _quietly_close(client)
            raise
        self._client, self._loop = client, asyncio.get_running_loop()
        return client


async def _quietly_close(client: Any) -> None:
    # Closing a broken connection may fail; it is dropped either way.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), 1.0)


async def _nothing() -> None:
    return None
