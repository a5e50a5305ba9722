"""gRPC health (``grpc.health.v1``) served from healthprobe probes, for grpcio servers.

::

    from healthprobe.integrations.grpc import HealthServicer, AsyncHealthServicer

    servicer = HealthServicer(health, services={"shop.Cart": "ready/db"})
    servicer.add_to_server(server)          # a grpc.server(...)
    health.start()                          # optional: poll the checks in the background
    ...
    servicer.enter_graceful_shutdown()      # before server.stop(grace)

:class:`AsyncHealthServicer` is the same for ``grpc.aio.server()`` (call
``await health.astart()`` on the server's loop to poll).

Service names
-------------
* ``""`` (the whole server, what Kubernetes' gRPC probe asks by default):
  the readiness probe;
* every probe's own name (``"live"``, ``"ready"``, ``"startup"``, custom
  groups): that probe;
* ``services``: more names, each mapped to ``"<probe>"`` or
  ``"<probe>/<check>"`` (one check of a probe); the checks must be
  registered first.  A name mapped here overrides a default.

SERVING when the probe's verdict passes (pass, or warn: a degraded service
still takes traffic), NOT_SERVING otherwise.  A service mapped to one check
answers that check's own verdict: NOT_SERVING when it fails, critical or
not.  For a whole probe the process state counts as over HTTP (startup not
finished, draining, marked not ready or broken: see
:mod:`healthprobe.engine.lifecycle`); the servicer marks the process started
when created unless ``mark_started=False``.

RPCs
----
* ``Check`` runs the probe (cached and polled readings are served as
  usual); an unknown service is ``NOT_FOUND``.
* ``Watch`` sends the current status at once, then one message per change;
  an unknown service gets ``SERVICE_UNKNOWN`` and the stream stays open (the
  gRPC health spec).  Changes come from every new check reading (a result
  listener) and, while any stream is open, from re-running the watched
  probes every ``watch_interval`` seconds (checks that are not polled, and
  lifecycle changes, are seen that way).  On the sync server each open
  stream holds one worker thread of the server's pool.
* ``List`` (which grpcio's reference servicer lacks): every known service.
* :meth:`enter_graceful_shutdown` flips every service to NOT_SERVING for
  good, tells every watcher at once and fails HTTP readiness too (the
  process is draining).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from healthprobe._optional import require
from healthprobe.engine.lifecycle import apply_lifecycle
from healthprobe.engine.status import Status
from healthprobe.http.handler import own_verdict

if TYPE_CHECKING:
    import grpc
    import grpc.aio

    from healthprobe.engine.health import Health
    from healthprobe.engine.report import Report
    from healthprobe.engine.runtime import Reading

__all__ = ["AsyncHealthServicer", "HealthServicer", "Target"]

# grpc.health.v1.HealthCheckResponse.ServingStatus
SERVING, NOT_SERVING, SERVICE_UNKNOWN = 1, 2, 3
_POLL = 0.25  # how often a sync Watch stream looks whether its client went away


class Target(NamedTuple):
    """What a gRPC service name stands for: a probe, or one check of it."""

    probe: str
    check: str | None = None


class _ServicerBase:
    """Every decision, shared by the sync and asyncio servicers; only their I/O differs."""

    def __init__(
        self,
        health: Health,
        *,
        services: Mapping[str, str] | None = None,
        watch_interval: float = 5.0,
        mark_started: bool = True,
    ) -> None:
        # grpcio first: grpc_health imports it, and a missing nested import is not
        # reported as "install the extra" (it could be a broken installation).
        self._grpc: Any = require("grpc", "grpc", package="grpcio")
        self._pb2: Any = require(
            "grpc_health.v1.health_pb2", "grpc", package="grpcio-health-checking"
        )
        self._pb2_grpc: Any = require(
            "grpc_health.v1.health_pb2_grpc", "grpc", package="grpcio-health-checking"
        )
        if not watch_interval > 0:
            raise ValueError(f"watch_interval must be a positive number, not {watch_interval!r}")
        self.health = health
        self.watch_interval = watch_interval
        self.targets: dict[str, Target] = {"": Target("ready")}
        self.targets.update({probe: Target(probe) for probe in health.probes})
        for service, spec in (services or {}).items():
            self.targets[service] = self._parse(service, spec)
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Callable[[int], None]]] = {}
        self._refreshing = False
        self._shutdown = False
        if mark_started:
            health.lifecycle.mark_started()
        health.add_listener(self._on_reading)

    def _parse(self, service: str, spec: str) -> Target:
        probe, _, check = spec.partition("/")
        if probe not in self.health.probes:
            raise ValueError(f"gRPC service {service!r} names unknown probe {probe!r}")
        if check and check not in self.health.names(probe):
            raise ValueError(f"gRPC service {service!r}: no check {check!r} in probe {probe!r}")
        return Target(probe, check or None)

    # -- pure decisions ------------------------------------------------------------

    def status_of(self, target: Target, report: Report) -> int:
        """SERVING or NOT_SERVING for ``report`` of ``target`` (lifecycle and shutdown included)."""
        if self._shutdown:
            return NOT_SERVING
        if target.check is None:
            report = apply_lifecycle(report, self.health.lifecycle.state)
        else:  # one check: its own verdict, critical or not (as its HTTP path)
            report = own_verdict(report, self.health.unknown_passes)
        return SERVING if report.verdict in (Status.PASS, Status.WARN) else NOT_SERVING

    def _response(self, status: int) -> Any:
        return self._pb2.HealthCheckResponse(status=status)

    def _list_response(self, statuses: Mapping[str, int]) -> Any:
        return self._pb2.HealthListResponse(
            statuses={name: self._response(status) for name, status in statuses.items()}
        )

    # -- watchers --------------------------------------------------------------------

    def _subscribe(self, service: str, push: Callable[[int], None]) -> bool:
        """Add a watcher; True when no refresher runs (the caller must start one)."""
        with self._lock:
            self._subscribers.setdefault(service, set()).add(push)
            start, self._refreshing = not self._refreshing, True
            return start

    def _unsubscribe(self, service: str, push: Callable[[int], None]) -> None:
        with self._lock:
            pushes = self._subscribers.get(service)
            if pushes is not None:
                pushes.discard(push)
                if not pushes:
                    del self._subscribers[service]

    def _watched(self) -> list[str]:
        with self._lock:
            return list(self._subscribers)

    @property
    def watched(self) -> tuple[str, ...]:
        """The services that have at least one open Watch stream."""
        return tuple(self._watched())

    def _still_watched(self) -> list[str]:
        """For the refresher: the watched services; none means it must end (and is marked so)."""
        with self._lock:
            if not self._subscribers:
                self._refreshing = False
            return list(self._subscribers)

    def _publish(self, service: str, status: int) -> None:
        """Hand ``status`` to every watcher of ``service`` (each one drops repeats)."""
        with self._lock:
            pushes = tuple(self._subscribers.get(service, ()))
        for push in pushes:
            push(status)

    def _on_reading(self, reading: Reading) -> None:
        # A result listener: runs on the loop that produced the reading and must
        # not block, so it only reads the latest results (no check runs).
        for service in self._watched():
            target = self.targets[service]
            if target.check is not None and target.check != reading.name:
                continue
            if target.check is None and reading.name not in self.health.names(target.probe):
                continue
            report = self.health.latest(target.probe, only=target.check)
            self._publish(service, self.status_of(target, report))

    def enter_graceful_shutdown(self) -> None:
        """Every service is NOT_SERVING from now on, for good; watchers hear it at once."""
        self._shutdown = True
        self.health.lifecycle.begin_drain()
        for service in self._watched():
            if service in self.targets:
                self._publish(service, NOT_SERVING)

    def close(self) -> None:
        """Stop listening to the engine (the servicer serves nothing useful afterwards)."""
        self.health.remove_listener(self._on_reading)

    def add_to_server(self, server: Any) -> None:
        """Register this servicer on a ``grpc.server()`` or ``grpc.aio.server()``."""
        self._pb2_grpc.add_HealthServicer_to_server(self, server)


class HealthServicer(_ServicerBase):
    """``grpc.health.v1.Health`` for a sync ``grpc.server()`` (see the module docstring)."""

    def __init__(
        self,
        health: Health,
        *,
        services: Mapping[str, str] | None = None,
        watch_interval: float = 5.0,
        mark_started: bool = True,
    ) -> None:
        super().__init__(
            health, services=services, watch_interval=watch_interval, mark_started=mark_started
        )
        self._closed = threading.Event()

    def close(self) -> None:
        """Stop listening to the engine and end the refresher thread."""
        super().close()
        self._closed.set()

    def _status(self, target: Target) -> int:
        if self._shutdown:
            return NOT_SERVING
        return self.status_of(target, self.health.run(target.probe, only=target.check))

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:
        """The status of one service now; ``NOT_FOUND`` for an unknown one."""
        target = self.targets.get(request.service)
        if target is None:
            context.abort(self._grpc.StatusCode.NOT_FOUND, "unknown service")
        return self._response(self._status(target))

    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Every known service and its status now."""
        return self._list_response({s: self._status(t) for s, t in self.targets.items()})

    def Watch(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        """The status at once, then one message per change, until the client goes away."""
        service = request.service
        target = self.targets.get(service)
        if target is None:
            yield self._response(SERVICE_UNKNOWN)
            while context.is_active():  # the spec keeps the stream open
                self._closed.wait(_POLL)
            return
        inbox: queue.SimpleQueue[int] = queue.SimpleQueue()
        if self._subscribe(service, inbox.put):
            threading.Thread(
                target=self._refresh, name="healthprobe-grpc-watch", daemon=True
            ).start()
        try:
            last = self._status(target)
            yield self._response(last)
            while context.is_active():
                try:
                    status = inbox.get(timeout=_POLL)
                except queue.Empty:
                    continue
                if status != last:
                    last = status
                    yield self._response(status)
        finally:
            self._unsubscribe(service, inbox.put)

    def _refresh(self) -> None:
        # One thread per servicer while any stream is open: re-run the watched
        # probes (single-flight and polling keep this cheap).
        while not self._closed.wait(self.watch_interval):
            watched = self._still_watched()
            if not watched:
                return
            for service in watched:
                with contextlib.suppress(Exception):  # a run never raises for a check's failure
                    self._publish(service, self._status(self.targets[service]))


class AsyncHealthServicer(_ServicerBase):
    """``grpc.health.v1.Health`` for ``grpc.aio.server()`` (see the module docstring)."""

    def __init__(
        self,
        health: Health,
        *,
        services: Mapping[str, str] | None = None,
        watch_interval: float = 5.0,
        mark_started: bool = True,
    ) -> None:
        super().__init__(
            health, services=services, watch_interval=watch_interval, mark_started=mark_started
        )
        self._refresher: asyncio.Task[None] | None = None

    async def _status(self, target: Target) -> int:
        if self._shutdown:
            return NOT_SERVING
        return self.status_of(target, await self.health.arun(target.probe, only=target.check))

    async def Check(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        """The status of one service now; ``NOT_FOUND`` for an unknown one."""
        target = self.targets.get(request.service)
        if target is None:
            await context.abort(self._grpc.StatusCode.NOT_FOUND, "unknown service")
        return self._response(await self._status(target))

    async def List(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        """Every known service and its status now (the probes run concurrently)."""
        services = list(self.targets)
        statuses = await asyncio.gather(*(self._status(self.targets[s]) for s in services))
        return self._list_response(dict(zip(services, statuses, strict=True)))

    async def Watch(
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        """The status at once, then one message per change, until the client goes away."""
        service = request.service
        target = self.targets.get(service)
        if target is None:
            yield self._response(SERVICE_UNKNOWN)
            await asyncio.Event().wait()  # open until the client cancels or the server stops
            return
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[int] = asyncio.Queue()

        def push(status: int) -> None:
            # Readings may arrive on another thread (a sync check's engine loop).
            loop.call_soon_threadsafe(inbox.put_nowait, status)

        if self._subscribe(service, push):
            self._refresher = loop.create_task(self._refresh(), name="healthprobe-grpc-watch")
        try:
            last = await self._status(target)
            yield self._response(last)
            while True:
                status = await inbox.get()
                if status != last:
                    last = status
                    yield self._response(status)
        finally:
            self._unsubscribe(service, push)

    async def _refresh(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.watch_interval)
                watched = self._still_watched()
                if not watched:
                    return
                for service in watched:
                    with contextlib.suppress(Exception):  # a run never raises for a failure
                        self._publish(service, await self._status(self.targets[service]))
        except asyncio.CancelledError:
            with self._lock:  # the server stopped: a later stream starts a new refresher
                self._refreshing = False
            raise
