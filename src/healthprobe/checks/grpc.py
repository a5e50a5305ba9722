"""gRPC: a downstream service's ``grpc.health.v1.Health/Check`` over a kept channel.

The standard health protocol every gRPC server can serve (grpcio's
``grpc_health``, grpc-go's ``health`` package, Envoy, Kubernetes' own gRPC
probes).  The answer decides:

* ``SERVING`` passes;
* ``NOT_SERVING`` fails, and so does ``SERVICE_UNKNOWN`` or a ``NOT_FOUND``
  error (the server does not know the service name asked for) and
  ``UNIMPLEMENTED`` (it has no health service at all);
* ``UNKNOWN`` (the server does not know yet) reads ``unknown``, as the HTTP
  check reads a downstream health+json ``unknown``.

The check keeps one ``grpc.aio`` channel (created on the first run, closed
in ``aclose()``); gRPC reconnects it by itself after the server went away,
and a run never waits for a connection (``wait_for_ready=False``), so an
unreachable server fails at once.  ``timeout`` is the RPC's deadline, so a
server that accepts and never answers is cut at it.  A channel you pass is
used as it is and never closed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

from ._levels import timeout_option

if TYPE_CHECKING:
    import grpc.aio

__all__ = ["GrpcHealthCheck"]

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
_SECRET_KEY_WORDS = ("auth", "token", "key", "secret", "cookie", "password")


class GrpcHealthCheck:
    """``Health/Check`` on ``target`` (``"host:port"`` or your ``grpc.aio.Channel``).

    ``service`` is the service name asked about (``""``, the default, is the
    server as a whole).  ``tls=True`` makes the check's channel a secure one
    (the system's roots, or ``ca_file``'s PEM); ``metadata`` is sent with
    every call, and the values of credential keys (``authorization``,
    ``x-api-key``...) are treated as secrets, as is a non-loopback host.
    The server's answer (``SERVING``...) is ``details["serving_status"]``.
    """

    component_type = "component"

    def __init__(
        self,
        target: str | grpc.aio.Channel,
        *,
        service: str = "",
        name: str = "grpc",
        timeout: float = 2.0,
        tls: bool = False,
        ca_file: str | os.PathLike[str] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self._grpc = require("grpc", "grpc", package="grpcio")
        self._aio = require("grpc.aio", "grpc", package="grpcio")
        self._health = require(
            "grpc_health.v1.health_pb2", "grpc", package="grpcio-health-checking"
        )
        self._stubs = require(
            "grpc_health.v1.health_pb2_grpc", "grpc", package="grpcio-health-checking"
        )
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if not isinstance(service, str):
            raise ConfigurationError(f"check {name!r}: service must be a string")
        self.service = service
        self._owned = isinstance(target, str)
        if self._owned and not target:
            raise ConfigurationError(f"check {name!r}: target must be 'host:port'")
        self._target = target if isinstance(target, str) else None
        self._channel: Any = None if self._owned else target
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tls = tls
        self._ca_file = None if ca_file is None else os.fspath(ca_file)
        self._metadata = tuple((str(k).lower(), str(v)) for k, v in (metadata or {}).items())
        # Declared to the engine, which scrubs them from every output.
        secrets = [v for k, v in self._metadata if any(w in k for w in _SECRET_KEY_WORDS) and v]
        host = _host(self._target or "")
        if host and host not in _LOOPBACK:
            secrets += [host, self._target or ""]
        self.secrets = tuple(dict.fromkeys(secrets))

    def __repr__(self) -> str:
        # Never the target: its host name is declared secret.
        return f"<GrpcHealthCheck {self.name!r} service {self.service!r}>"

    async def acheck(self) -> CheckResult:
        """One ``Check`` call with the timeout as its deadline; the rules are in the module doc."""
        stub = self._stubs.HealthStub(self._channel_for(asyncio.get_running_loop()))
        request = self._health.HealthCheckRequest(service=self.service)
        details: dict[str, Any] = {"service": self.service}
        try:
            reply = await stub.Check(
                request,
                timeout=self.timeout,
                metadata=self._metadata or None,
                wait_for_ready=False,
            )
        except self._aio.AioRpcError as exc:
            return self._rpc_failure(exc, details)
        word = self._health.HealthCheckResponse.ServingStatus.Name(reply.status)
        details["serving_status"] = word
        if word == "SERVING":
            return CheckResult.passed("SERVING", details=details)
        if word == "UNKNOWN":
            return CheckResult.unknown("the server reports UNKNOWN", details=details)
        return CheckResult.failed(f"the server reports {word}", details=details)

    def _rpc_failure(self, exc: Any, details: dict[str, Any]) -> CheckResult:
        """The failure for an RPC error: its code in details, a plain reason as output."""
        code = exc.code()
        details["grpc_code"] = code.name
        codes = self._grpc.StatusCode
        if code is codes.NOT_FOUND:
            text = f"the server does not know service {self.service!r}"
        elif code is codes.UNIMPLEMENTED:
            text = "the server has no grpc.health.v1 service"
        elif code is codes.DEADLINE_EXCEEDED:
            text = f"no answer within {self.timeout:g} s"
        else:
            text = f"{code.name}: {exc.details() or ''}".rstrip(": ")
        return CheckResult.failed(text, details=details)

    async def aclose(self) -> None:
        """Close the channel this check created (a channel you passed stays open)."""
        if not self._owned or self._channel is None:
            return
        channel, self._channel = self._channel, None
        # A channel of another (finished) loop cannot be closed from this one.
        if self._loop is asyncio.get_running_loop():
            await channel.close()

    def _channel_for(self, loop: asyncio.AbstractEventLoop) -> Any:
        if not self._owned:
            return self._channel
        if self._channel is None or self._loop is not loop:
            # A channel made on another (finished) event loop cannot be used here.
            aio = self._aio
            options = [("grpc.primary_user_agent", "healthprobe")]
            if self._tls:
                roots = None
                if self._ca_file is not None:
                    with open(self._ca_file, "rb") as pem:
                        roots = pem.read()
                credentials = self._grpc.ssl_channel_credentials(root_certificates=roots)
                self._channel = aio.secure_channel(self._target, credentials, options=options)
            else:
                self._channel = aio.insecure_channel(self._target, options=options)
            self._loop = loop
        return self._channel


def _host(target: str) -> str:
    """The host of ``host:port``, ``dns:///host:port`` or ``[v6]:port``."""
    rest = target.rpartition("/")[2] if "://" in target else target
    if rest.startswith("["):
        return rest[: rest.find("]") + 1] if "]" in rest else rest
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest
