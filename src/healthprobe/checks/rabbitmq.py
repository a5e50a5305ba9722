"""RabbitMQ: a round trip on a kept aio-pika connection and channel.

Given an AMQP URL, the check opens a connection and a channel on its first
run and keeps both.  Each run does one harmless round trip on its own
channel (``Basic.Qos``), so a broker that stopped answering is noticed even
while the TCP connection still looks open.  After any failure the check drops
what it opened, and the next run opens a fresh connection (bounded by the
check's timeout): a dead connection is never probed forever.  A connection
the user passed is never closed or replaced; only the check's own channel on
it is reopened.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection

__all__ = ["RabbitMQCheck"]


class RabbitMQCheck:
    """Connection and channel open, and the broker answering on them.

    ``url_or_connection`` is an AMQP URL (``amqp://user:password@host/vhost``)
    or an open ``aio_pika`` connection (a robust one keeps reconnecting on
    its own).  ``connection_name`` is what the broker shows for the check's
    own connection (``rabbitmqctl list_connections client_properties``).
    """

    component_type = "component"

    def __init__(
        self,
        url_or_connection: str | AbstractConnection,
        *,
        name: str = "rabbitmq",
        timeout: float = 2.0,
        connection_name: str = "healthprobe",
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"check {name!r}: timeout must be positive, not {timeout!r}")
        self._aio_pika = require("aio_pika", "rabbitmq", package="aio-pika")
        self.name = name
        self.timeout = float(timeout)
        self.connection_name = connection_name
        self._url = url_or_connection if isinstance(url_or_connection, str) else None
        if self._url is not None and not self._url.startswith(("amqp://", "amqps://")):
            # Never echo the value: it may carry a password.
            raise ConfigurationError(f"check {name!r}: an AMQP URL starts with amqp:// or amqps://")
        self._connection: Any = None if self._url is not None else url_or_connection
        self._channel: AbstractChannel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Declared to the engine, which scrubs them from every output.
        self.secrets = dsn_secrets(self._url)

    async def acheck(self) -> CheckResult:
        """One round trip on the kept channel; raises when the broker does not answer."""
        try:
            channel = await self._open()
            await asyncio.wait_for(channel.set_qos(prefetch_count=0), self.timeout)
        except BaseException:
            # Also on cancellation (the engine's timeout): whatever is half
            # open is dropped, and the next run starts clean.
            await self._drop()
            raise
        return CheckResult.passed("channel open", details=self._server_details())

    async def aclose(self) -> None:
        """Close the channel, and the connection when the check opened it."""
        await self._drop()

    async def _open(self) -> AbstractChannel:
        loop = asyncio.get_running_loop()
        if self._url is not None and self._loop is not loop:
            # A client made on another (finished) event loop can be neither used nor closed here.
            self._connection = self._channel = None
        connection = self._connection
        if connection is None or connection.is_closed:
            if self._url is None:
                raise ConnectionError("the connection passed to the check is closed")
            connection = await asyncio.wait_for(
                self._aio_pika.connect(
                    self._url,
                    timeout=self.timeout,
                    client_properties={"connection_name": self.connection_name},
                ),
                self.timeout,
            )
            self._connection, self._loop = connection, loop
        channel = self._channel
        if channel is not None and not channel.is_closed:
            return channel
        opened: AbstractChannel = await asyncio.wait_for(connection.channel(), self.timeout)
        self._channel = opened
        return opened

    async def _drop(self) -> None:
        channel, self._channel = self._channel, None
        connection = self._connection
        owned = self._url is not None
        if owned:
            self._connection = None
        # Closing a broken channel or connection may fail; it is dropped either way.
        # Closing our own connection closes its channel too.
        if channel is not None and not owned:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), 1.0)
        if owned and connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 1.0)

    def _server_details(self) -> dict[str, Any]:
        # aio-pika's connection -> its transport -> the aiormq connection.
        transport = getattr(self._connection, "transport", None)
        amqp = getattr(transport, "connection", None)
        properties = getattr(amqp, "server_properties", None) or {}
        version = properties.get("version") if isinstance(properties, dict) else None
        if isinstance(version, bytes):
            version = version.decode(errors="replace")
        return {"server_version": version} if isinstance(version, str) else {}
