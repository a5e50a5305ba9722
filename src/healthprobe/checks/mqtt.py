"""MQTT: a kept aiomqtt connection, and optionally a publish/subscribe round trip.

Given a URL (``mqtt://user:password@host:1883``, ``mqtts://`` for TLS), the
check connects on its first run and keeps the connection.  By default a run
passes while that connection is up (the broker's disconnect, or a keepalive
the broker stopped answering, ends it); with ``round_trip=True`` every run
publishes a nonce at QoS 1 on the check's health topic and waits for it to
come back through the subscription: proof that the broker routes messages.
After any failure the check drops its client and the next run connects anew
(bounded by the timeout).  A client the user passed (already connected) is
only looked at: never closed, never reconnected, never used for a round trip
(that would steal messages from the user's own consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import urllib.parse
import uuid
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    import aiomqtt

__all__ = ["MqttCheck"]

#: Messages from earlier, abandoned round trips a run may skip before giving up.
MAX_STALE_MESSAGES = 100


class MqttCheck:
    """The MQTT connection is up (and, optionally, messages make a round trip).

    ``topic`` is the health topic of the round trip (default
    ``healthprobe/<client id>``, which no one else uses); ``client_id`` is
    the identifier the broker sees (default ``healthprobe-<random>``, kept
    across reconnects).  ``keepalive`` (seconds) bounds how long a silently
    dead broker can go unnoticed without a round trip.
    """

    component_type = "component"

    def __init__(
        self,
        url_or_client: str | aiomqtt.Client,
        *,
        name: str = "mqtt",
        timeout: float = 2.0,
        round_trip: bool = False,
        topic: str | None = None,
        client_id: str | None = None,
        keepalive: int = 15,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"check {name!r}: timeout must be positive, not {timeout!r}")
        self._aiomqtt = require("aiomqtt", "mqtt")
        self.name = name
        self.timeout = float(timeout)
        self.round_trip = round_trip
        self.keepalive = keepalive
        self.client_id = client_id or f"healthprobe-{uuid.uuid4().hex[:12]}"
        self.topic = topic or f"healthprobe/{self.client_id}"
        self._url = url_or_client if isinstance(url_or_client, str) else None
        self._client: Any = None if self._url is not None else url_or_client
        self._loop: asyncio.AbstractEventLoop | None = None
        if self._url is None and round_trip:
            raise ConfigurationError(
                f"check {name!r}: round_trip needs a URL (the check's own connection); "
                "it would consume messages meant for a client you pass"
            )
        if self._url is not None:
            parts = urllib.parse.urlsplit(self._url)
            if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
                # Never echo the value: it may carry a password.
                raise ConfigurationError(
                    f"check {name!r}: an MQTT URL looks like mqtt://[user:password@]host[:port]"
                )
            self._tls = parts.scheme == "mqtts"
            self._host = parts.hostname
            self._port = parts.port or (8883 if self._tls else 1883)
            self._username = urllib.parse.unquote(parts.username) if parts.username else None
            self._password = urllib.parse.unquote(parts.password) if parts.password else None
        # Declared to the engine, which scrubs them from every output.
        self.secrets = dsn_secrets(self._url)

    async def acheck(self) -> CheckResult:
        """Pass while connected (after a round trip when asked); raise otherwise."""
        if self._url is None:
            if not _is_connected(self._client):
                raise ConnectionError("the MQTT client passed to the check is disconnected")
            return CheckResult.passed("connected")
        try:
            client = await self._connected_client()
            if self.round_trip:
                await asyncio.wait_for(self._round_trip(client), self.timeout)
                return CheckResult.passed(f"round trip on {self.topic}")
        except BaseException:
            # Also on cancellation (the engine's timeout): drop the client so
            # the next run connects anew instead of probing a broken one.
            await self._drop()
            raise
        return CheckResult.passed("connected")

    async def aclose(self) -> None:
        """Disconnect the check's own client (a client you passed stays connected)."""
        if self._url is not None:
            await self._drop()

    async def _connected_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A client made on another (finished) event loop can be neither used nor closed here.
            self._client = None
        client = self._client
        if client is not None and _is_connected(client):
            return client
        await self._drop()
        client = self._aiomqtt.Client(
            self._host,
            self._port,
            username=self._username,
            password=self._password,
            identifier=self.client_id,
            timeout=self.timeout,
            keepalive=self.keepalive,
            tls_context=ssl.create_default_context() if self._tls else None,
            logger=_driver_logger(),
        )
        self._client, self._loop = client, loop
        await asyncio.wait_for(client.__aenter__(), self.timeout)
        if self.round_trip:
            await client.subscribe(self.topic, qos=1, timeout=self.timeout)
        return client

    async def _round_trip(self, client: Any) -> None:
        nonce = uuid.uuid4().hex.encode()
        await client.publish(self.topic, nonce, qos=1, timeout=self.timeout)
        skipped = 0
        async for message in client.messages:
            if message.payload == nonce:
                return
            skipped += 1  # a late echo of an earlier, abandoned round trip
            if skipped > MAX_STALE_MESSAGES:
                break
        raise ConnectionError("the health message did not come back")

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        # Disconnecting a broken client may fail; it is dropped either way.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.__aexit__(None, None, None), 1.0)
        # Retrieve the reason of a lost connection, so that asyncio does not log
        # "exception was never retrieved" with a traceback when it is collected.
        disconnected = getattr(client, "_disconnected", None)
        if (
            isinstance(disconnected, asyncio.Future)
            and disconnected.done()
            and not disconnected.cancelled()
        ):
            disconnected.exception()


def _driver_logger() -> logging.Logger:
    """The logger handed to aiomqtt/paho: silent unless the application opts in.

    The driver logs every failed connect and forced disconnect, that is
    every probe while the broker is down; the check's result already says so,
    and healthprobe logs state transitions only.  Set this logger's
    ``propagate`` back to True to see the driver's chatter.
    """
    logger = logging.getLogger("healthprobe.mqtt.driver")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    return logger


def _is_connected(client: Any) -> bool:
    """Whether an aiomqtt client is connected now.

    aiomqtt has no public flag for it; its ``_disconnected`` future is what
    its own ``messages`` iterator watches, so it is read here (and, when a
    future version renames it, the check falls back to "connected" and lets
    the next operation tell).
    """
    connected = getattr(client, "_connected", None)
    disconnected = getattr(client, "_disconnected", None)
    if isinstance(connected, asyncio.Future) and not connected.done():
        return False
    return not (isinstance(disconnected, asyncio.Future) and disconnected.done())
