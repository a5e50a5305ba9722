"""Health for a Celery worker: pushed heartbeats, a probe server in a thread, a graceful drain.

::

    from celery import Celery
    from healthprobe import Health
    from healthprobe.integrations import celery as celery_health

    app = Celery("proj", broker="amqp://...")
    health = Health()
    celery_health.install(app, health, port=8081, host="0.0.0.0", max_age=30)

A worker has no request loop for a probe to sit in, and the PID being alive
says nothing about a deadlock (celery/celery#4079).  This module wires the
worker's own signals into pushed status (:mod:`healthprobe.engine.heartbeat`):

* ``celery.consumer`` (a :class:`~healthprobe.Heartbeat`, liveness and
  readiness): a consumer bootstep beats from the consumer's own timer every
  ``max_age / 4`` seconds, so it stops when the consumer's loop is wedged
  (a deadlock, a blocked call, a task blocking a ``solo`` pool); each
  finished task (``task_postrun``) and each worker event heartbeat
  (``heartbeat_sent``, with ``-E``) beats too.  While the consumer is
  stopped on purpose (reconnecting to the broker, shutting down) the
  heartbeat is paused: a broker outage must make workers unready, not get
  them all restarted.
* ``celery.broker`` (a :class:`~healthprobe.Reported`, readiness): connected,
  or "reconnecting to the broker" while the consumer restarts (read healthy
  for ``broker_recover_after`` seconds, so a blip does not flap readiness).
* ``worker_ready`` starts :func:`~healthprobe.serve_in_thread` (``port``,
  ``host`` and any of its options), which marks the process started;
  ``worker_shutdown`` closes it.
* ``worker_shutting_down`` (SIGTERM: Celery's warm shutdown) fails readiness
  at once; Celery stops consuming and waits for the running tasks, the probe
  server keeps answering, and after ``shutdown_cap`` seconds a shutdown
  still waiting is made a cold one (SIGQUIT), below the orchestrator's
  grace period.  Tasks executed in this process (``solo`` and ``threads``
  pools) are counted as work in flight (``healthprobe_work_in_flight``);
  with ``prefork`` they run in child processes, and Celery's own count
  (``active_requests``) is what the log line at the cap reports.

``heartbeat_file`` (a path) makes the consumer heartbeat keep that file's
modification time current, for exec probes
(``healthprobe check --heartbeat-file PATH --max-age N``); the prefork pool's
children touch it too as their tasks finish.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.heartbeat import Heartbeat, Reported
from healthprobe.engine.status import Status

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.integrations.thread_server import ProbeServer

__all__ = ["BROKER", "CONSUMER", "CeleryHealth", "install"]

logger = logging.getLogger("healthprobe")

#: The check names the integration registers.
CONSUMER = "celery.consumer"
BROKER = "celery.broker"


class CeleryHealth:
    """What :func:`install` wired up: the checks, the probe server once the worker is ready."""

    def __init__(
        self,
        app: Any,
        health: Health,
        *,
        serve: bool,
        port: int,
        host: str,
        max_age: float,
        shutdown_cap: float | None,
        heartbeat_file: str | os.PathLike[str] | None,
        broker_recover_after: float | None,
        server_options: dict[str, Any],
    ) -> None:
        if shutdown_cap is not None and (
            isinstance(shutdown_cap, bool)
            or not isinstance(shutdown_cap, (int, float))
            or not 0 < shutdown_cap < float("inf")
        ):
            raise ConfigurationError(
                f"shutdown_cap must be None or a positive number of seconds, not {shutdown_cap!r}"
            )
        self.app = app
        self.health = health
        self.serve = serve
        self.port = port
        self.host = host
        self.shutdown_cap = shutdown_cap
        self.server_options = server_options
        # Polled (the read is free): probes then answer from the latest reading without a
        # task, and /metrics never shows a reading older than max_staleness as current.
        heartbeat = Heartbeat(CONSUMER, max_age=max_age, file=heartbeat_file)  # validates
        self.every = every = min(1.0, float(max_age) / 4)
        self.consumer = health.add(heartbeat, probes=("live", "ready"), interval=every)
        self.broker = health.add(
            Reported(BROKER, recover_after=broker_recover_after), interval=every
        )
        self.server: ProbeServer | None = None
        self._cap_timer: threading.Timer | None = None
        self._tasks: dict[str, Any] = {}  # task id -> its open work (in-process pools)
        self._lock = threading.Lock()
        self._connected: list[tuple[Any, Any]] = []  # (celery signal, receiver)
        self._step: Any = None

    def disconnect(self) -> None:
        """Undo :func:`install`'s wiring (signals and bootstep); the checks stay registered."""
        for sender, receiver in self._connected:
            sender.disconnect(receiver)
        self._connected.clear()
        if self._step is not None:
            self.app.steps["consumer"].discard(self._step)
            self._step = None

    # -- the worker's signals -------------------------------------------------------

    def on_worker_ready(self, sender: Any = None, **_: Any) -> None:
        if not self._ours(sender):
            return
        self.consumer.beat()
        if self.serve and self.server is None:
            from .thread_server import serve_in_thread  # noqa: PLC0415 - only in the worker

            # drain=None: Celery owns SIGTERM (its warm shutdown); we follow its signals.
            self.server = serve_in_thread(
                self.health, port=self.port, host=self.host, drain=None, **self.server_options
            )
            logger.info("healthprobe: serving the worker's probes on %s", self.server.url)
        else:
            self.health.lifecycle.mark_started()

    def on_worker_shutting_down(self, **_: Any) -> None:
        # Runs inside Celery's SIGTERM handler, in the main thread: flip flags, start a timer.
        self.health.lifecycle.begin_drain()
        self.consumer.pause("shutting down: finishing the running tasks")
        cap = self.shutdown_cap
        if cap is not None and self._cap_timer is None:
            timer = threading.Timer(cap, self._cap_reached)
            timer.daemon = True
            timer.name = "healthprobe:celery-shutdown-cap"
            self._cap_timer = timer
            timer.start()

    def on_worker_shutdown(self, **_: Any) -> None:
        timer, self._cap_timer = self._cap_timer, None
        if timer is not None:
            timer.cancel()
        server, self.server = self.server, None
        if server is not None:
            server.close()

    def on_task_prerun(self, sender: Any = None, task_id: str | None = None, **_: Any) -> None:
        if task_id is None or not self._ours(sender):
            return
        work = self.health.lifecycle.work("celery.task")
        work.__enter__()
        with self._lock:
            self._tasks[task_id] = work

    def on_task_postrun(self, sender: Any = None, task_id: str | None = None, **_: Any) -> None:
        if not self._ours(sender):
            return
        with self._lock:
            work = self._tasks.pop(task_id, None) if task_id is not None else None
        if work is not None:
            work.__exit__(None, None, None)
        if not self.health.lifecycle.draining:
            self.consumer.beat()  # a finished task is progress

    def on_heartbeat_sent(self, **_: Any) -> None:
        if not self.health.lifecycle.draining:
            self.consumer.beat()

    def _ours(self, sender: Any) -> bool:
        # A consumer or a task: both carry their app (several apps may share a process).
        return getattr(sender, "app", self.app) is self.app

    def _cap_reached(self) -> None:
        active = _active_requests()
        logger.warning(
            "healthprobe: the warm shutdown still waits for %s tasks after %g s; "
            "cold shutdown (SIGQUIT)",
            active,
            self.shutdown_cap,
        )
        os.kill(os.getpid(), signal.SIGQUIT)

    # -- the consumer bootstep's hooks ----------------------------------------------

    def consumer_started(self) -> None:
        self.broker.report(Status.PASS, "connected")
        if not self.health.lifecycle.draining:
            self.consumer.beat()

    def consumer_beat(self) -> None:
        if not self.health.lifecycle.draining:
            self.consumer.beat()

    def consumer_stopped(self) -> None:
        if self.health.lifecycle.draining:
            return  # the shutdown path has said what there is to say
        self.broker.report(Status.FAIL, "reconnecting to the broker")
        self.consumer.pause("the consumer is restarting (broker connection lost)")


def _active_requests() -> int | str:
    try:
        state = require("celery.worker.state", "celery")
        return len(state.active_requests)
    except Exception:  # only for a log line
        return "unknown"


def install(
    app: Any,
    health: Health,
    *,
    serve: bool = True,
    port: int = 8081,
    host: str = "127.0.0.1",
    max_age: float = 30.0,
    shutdown_cap: float | None = 25.0,
    heartbeat_file: str | os.PathLike[str] | None = None,
    broker_recover_after: float | None = 10.0,
    **server_options: Any,
) -> CeleryHealth:
    """Wire ``health`` into the Celery app ``app``'s workers; call it where the app is defined.

    ``serve``: start :func:`~healthprobe.serve_in_thread` on ``host:port``
    when the worker is ready (``host="0.0.0.0"`` for the kubelet's probes;
    ``server_options`` are passed on: ``prefix``, ``details``, ``token``...).
    ``max_age``: seconds without a consumer heartbeat before liveness fails.
    ``shutdown_cap``: seconds after SIGTERM before a warm shutdown still
    waiting for tasks turns cold (None: wait as long as Celery does).
    ``heartbeat_file``, ``broker_recover_after``: see the module docstring.
    Raises :class:`~healthprobe.ConfigurationError` for a bad option.
    """
    signals = require("celery.signals", "celery")
    bootsteps = require("celery.bootsteps", "celery")
    wiring = CeleryHealth(
        app,
        health,
        serve=serve,
        port=port,
        host=host,
        max_age=max_age,
        shutdown_cap=shutdown_cap,
        heartbeat_file=heartbeat_file,
        broker_recover_after=broker_recover_after,
        server_options=server_options,
    )
    every = wiring.every

    step: Any = bootsteps.StartStopStep

    class HealthprobeHeartbeat(step):  # type: ignore[misc]  # celery is untyped: the base is Any
        """Beats from the consumer's own timer: it stops when the consumer's loop is wedged."""

        requires = ("celery.worker.consumer.tasks:Tasks",)

        def __init__(self, parent: Any, **kwargs: Any) -> None:
            super().__init__(parent, **kwargs)
            self.tref: Any = None

        def start(self, consumer: Any) -> None:
            wiring.consumer_started()
            self.tref = consumer.timer.call_repeatedly(every, wiring.consumer_beat)

        def stop(self, consumer: Any) -> None:
            self._cancel()
            wiring.consumer_stopped()

        def shutdown(self, consumer: Any) -> None:
            self._cancel()

        def _cancel(self) -> None:
            tref, self.tref = self.tref, None
            if tref is not None:
                tref.cancel()

    app.steps["consumer"].add(HealthprobeHeartbeat)
    wiring._step = HealthprobeHeartbeat
    for signal_name, receiver in (
        ("worker_ready", wiring.on_worker_ready),
        ("worker_shutting_down", wiring.on_worker_shutting_down),
        ("worker_shutdown", wiring.on_worker_shutdown),
        ("task_prerun", wiring.on_task_prerun),
        ("task_postrun", wiring.on_task_postrun),
        ("heartbeat_sent", wiring.on_heartbeat_sent),
    ):
        sender = getattr(signals, signal_name)
        # weak=False: the receivers are bound methods of an object only the signals hold.
        sender.connect(receiver, weak=False)
        wiring._connected.append((sender, receiver))
    return wiring
