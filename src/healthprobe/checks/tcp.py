"""TCP: a connection to host:port opens within the timeout (standard library)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from healthprobe.checks._dsn import dsn_secrets
from healthprobe.checks._levels import timeout_option
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

__all__ = ["TcpCheck"]

#: How long closing a probe connection may take before it is abandoned.
_CLOSE_WAIT = 0.5


class TcpCheck:
    """Opens a TCP connection to ``host:port`` and closes it at once.

    The time to connect (resolution included) is the observed value, in ms.
    A refused connection, a name that does not resolve and no answer within
    ``timeout`` fail the check.  Nothing is sent, so any TCP service can be
    checked; there is no connection to keep, each run opens one and closes it.

    ``host`` is declared secret (unless it is a loopback name): error texts
    never show an internal host name, and failures are described without the
    addresses the socket layer puts in its messages.
    """

    component_type = "component"

    def __init__(self, host: str, port: int, *, name: str = "tcp", timeout: float = 2.0) -> None:
        if not isinstance(host, str) or not host:
            raise ConfigurationError(f"check {name!r}: host must be a non-empty string")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"check {name!r}: port must be 1-65535, not {port!r}")
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.host = host
        self.port = port
        # A bare host is a one-host DSN: kept out of every output unless loopback.
        self.secrets = dsn_secrets(host)

    async def acheck(self) -> CheckResult:
        """Connect, measure, close; a failure is a ``fail`` result naming its kind."""
        started = time.monotonic()
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
        except (asyncio.TimeoutError, TimeoutError):
            return CheckResult.failed(f"no connection within {self.timeout:g} s")
        except OSError as exc:
            return CheckResult.failed(_describe(exc))
        elapsed_ms = round((time.monotonic() - started) * 1000, 3)
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), _CLOSE_WAIT)
        return CheckResult.passed(
            f"connected in {elapsed_ms:g} ms",
            details={"port": self.port},
            observed_value=elapsed_ms,
            observed_unit="ms",
        )


def _describe(exc: OSError) -> str:
    """What went wrong, without the addresses and names the socket layer quotes."""
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if exc.strerror:
        return f"connection failed: {exc.strerror}"
    # asyncio's "Multiple exceptions: ..." text lists every address tried.
    return f"connection failed ({type(exc).__name__})"
