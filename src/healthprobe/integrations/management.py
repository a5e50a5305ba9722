"""The management listener: the probe endpoints on a port of their own, off the app's event loop.

When every worker's event loop is busy with slow requests, probes sent to
the application's port queue behind the traffic; kubelet's 1 s timeout then
fails liveness and restarts a pod that was only busy (which moves its load
to the others).  With ``management_port=`` (the ASGI and WSGI middleware,
``install()`` of Starlette and FastAPI, Flask and Django) the same endpoints
are also served by a :class:`~healthprobe.integrations.thread_server.ProbeServer`
on its own thread and event loop, which answers whatever the app's loop is
doing.  Point the orchestrator's probes at it (``docs/deploy.md``).

What it answers, and why readiness may still say "overloaded"
----------------------------------------------------------------
The listener serves the same ``Health`` the app serves: the app's lifespan
(or first request, for WSGI) still polls the checks on the app's loop,
marks the process started and drains on SIGTERM, so readiness turns 503 on
the management port too.  Liveness never touches a check, so a busy app
stays alive.  A polled check that cannot run because the app's loop is
blocked goes stale and then reads ``unknown`` (readiness fails, as it should
for a process that cannot serve), and a
:class:`~healthprobe.checks.LoopLagCheck` with an ``interval`` measures the
app's loop and fails readiness under overload on purpose.  A check run on
request (no ``interval``) runs on the listener's loop instead: give checks
that use loop-bound clients (an asyncpg pool) an ``interval``.

When it starts and stops
------------------------
* ASGI (middleware, Starlette, FastAPI): at the lifespan's ``startup``,
  *before* the app's own startup (so ``/livez`` answers and ``/startupz``
  says 503 while the app warms up); a port that cannot be bound fails the
  startup with a message naming ``host:port``.  It closes after the app's
  own shutdown.
* WSGI (middleware, Flask, Django): WSGI has no lifespan, and the first
  request may never come to a pod that is not ready yet, so the listener
  starts when the process first serves a request *or* when
  :meth:`ManagementListener.start` is called, whichever is first, once per
  process; call it where each worker starts (gunicorn's ``post_worker_init``
  hook; never before a fork). It closes at interpreter exit.

With several worker processes on one host, each one binds the port: pass
``management_reuse_port=True`` (Linux ``SO_REUSEPORT``) to let them share it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING, Any

from .thread_server import ProbeServer

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["ManagementListener", "management_listener", "split_management"]


class ManagementListener:
    """A :class:`ProbeServer` that serves an app's ``Health`` and follows the app's life."""

    def __init__(
        self,
        health: Health,
        *,
        port: int,
        host: str = "127.0.0.1",
        reuse_port: bool = False,
        **options: Any,
    ) -> None:
        # Built (and options checked) now: bad config fails where the app is built.
        self.server = ProbeServer(
            health, port=port, host=host, lifecycle=False, reuse_port=reuse_port, **options
        )
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The bound port (the requested one until started)."""
        return self.server.port

    def start(self) -> None:
        """Listen, once per process (idempotent, thread-safe); ``OSError`` names host:port."""
        pid = os.getpid()
        if self._pid == pid and self.server.running:
            return
        with self._lock:
            if self._pid == pid and self.server.running:
                return
            self.server.start()
            self._pid = pid

    def close(self) -> None:
        """Stop listening (idempotent)."""
        self.server.close()

    async def astart(self) -> None:
        """:meth:`start` from a running loop (binding waits on another thread)."""
        await asyncio.to_thread(self.start)

    async def aclose(self) -> None:
        """:meth:`close` from a running loop."""
        await asyncio.to_thread(self.close)


def management_listener(
    health: Health,
    port: int | None,
    *,
    host: str = "127.0.0.1",
    reuse_port: bool = False,
    options: dict[str, Any],
) -> ManagementListener | None:
    """The listener an integration asked for with ``management_port=``; None when not asked.

    ``options`` are the integration's own handler options (the same paths,
    prefix, details policy and token on both ports).
    """
    if port is None:
        return None
    handler_options = {k: v for k, v in options.items() if k not in _NOT_HANDLER_OPTIONS}
    return ManagementListener(
        health, port=port, host=host, reuse_port=reuse_port, **handler_options
    )


def split_management(
    health: Health, options: dict[str, Any]
) -> tuple[ManagementListener | None, dict[str, Any]]:
    """Take the ``management_*`` options (port, host, reuse_port) out of ``options``.

    Returns the listener they ask for (None without ``management_port``)
    and the remaining options, for integrations that pass ``**options`` on.
    """
    rest = dict(options)
    port = rest.pop("management_port", None)
    host = rest.pop("management_host", "127.0.0.1")
    reuse_port = rest.pop("management_reuse_port", False)
    listener = management_listener(health, port, host=host, reuse_port=reuse_port, options=rest)
    return listener, rest


# Integration options that are not the handler's (they do not travel to the listener).
_NOT_HANDLER_OPTIONS = frozenset({"drain", "lifespan", "poll", "mark_started", "tags"})
