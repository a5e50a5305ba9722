"""Serving-time lifecycle: start polling after the app's startup, drain on SIGTERM, stop cleanly.

Shared by every server integration (the ASGI lifespan wrapper, the Starlette
and FastAPI lifespans).  :meth:`ServeLifecycle.astartup` runs after the
application's own startup; :meth:`ServeLifecycle.ashutdown` before the
application's own shutdown (so polled checks stop before the pool they use
is closed).

SIGTERM drain, and how it coexists with the server's own handler
-----------------------------------------------------------------
uvicorn (>= 0.29) installs its SIGINT/SIGTERM handlers with
``signal.signal`` *before* it runs the lifespan startup.  So at our startup
``signal.getsignal(SIGTERM)`` is uvicorn's ``Server.handle_exit`` and we put
our own handler in front of it:

1. on SIGTERM, readiness fails at once (``Lifecycle.begin_drain``); liveness
   is untouched and the server keeps accepting and serving requests;
2. after ``drain`` seconds (the minimum: load balancers need that long to
   see readiness fail) we hand over, unless work is in flight
   (``with health.lifecycle.work(...)``): then we wait for it to finish,
   handing over as soon as none is open, or at ``drain_max`` seconds after
   the signal whatever is still running.  When the previous handler is a
   bound method of a server object with a boolean ``should_exit`` (uvicorn's
   ``Server``), we set ``should_exit = True``, which is all uvicorn's handler
   does for a first SIGTERM besides recording the signal to re-raise it
   after shutdown; not recording it lets the completed graceful shutdown
   exit with status 0 instead of dying of a re-raised SIGTERM (143).  Any
   other previous handler is called as it would have been; the default
   action is restored and the signal re-raised;
3. a second SIGTERM during the drain hands over at once (an impatient
   operator, or the orchestrator's grace period running out);
4. at shutdown the previous handler is put back.

Signals can only be handled in the main thread: elsewhere (a server run in
a thread, a test client) no handler is installed and shutdown is immediate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from healthprobe.engine.errors import ConfigurationError

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["ServeLifecycle", "drain_then_wait_for_work"]

logger = logging.getLogger("healthprobe")

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class ServeLifecycle:
    """Start/stop a :class:`Health` with the server, and drain it on SIGTERM.

    ``drain``: seconds to keep serving (readiness failing) between SIGTERM and
    the server's own shutdown; ``None`` leaves the server's signal handling
    alone (readiness still fails once shutdown starts).  ``drain_max``: while
    work is in flight after ``drain`` (``health.lifecycle.work``), keep
    waiting for it up to this many seconds after the signal (never less
    than ``drain``); with no work open the drain ends at ``drain``.  Size it
    below the orchestrator's grace period (Kubernetes: 30 s by default).
    """

    def __init__(
        self, health: Health, *, drain: float | None = 5.0, drain_max: float = 25.0
    ) -> None:
        if drain is not None and (
            isinstance(drain, bool)
            or not isinstance(drain, (int, float))
            or not math.isfinite(drain)
            or drain < 0
        ):
            raise ConfigurationError(
                f"drain must be None or a number of seconds >= 0, not {drain!r}"
            )
        if (
            isinstance(drain_max, bool)
            or not isinstance(drain_max, (int, float))
            or drain_max < 0
            or math.isinf(drain_max)
        ):
            raise ConfigurationError(
                f"drain_max must be a number of seconds >= 0, not {drain_max!r}"
            )
        self.health = health
        self.drain = drain
        self.drain_max = drain_max
        self._previous: dict[int, _Handler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._handed_over = False
        self._signalled = False  # our first SIGTERM arrived (a second one hands over at once)

    async def astartup(self) -> None:
        """The app's startup has completed: poll the checks, accept traffic, watch SIGTERM."""
        self._loop = asyncio.get_running_loop()
        self._handed_over = self._signalled = False
        await self.health.astart()
        self.health.lifecycle.end_drain()  # a restarted lifespan serves again
        self.health.lifecycle.mark_started()
        if self.drain is not None and threading.current_thread() is threading.main_thread():
            self._previous[signal.SIGTERM] = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._on_signal)

    async def ashutdown(self) -> None:
        """The server is shutting down: fail readiness, stop polling, close checks."""
        self.health.lifecycle.begin_drain()
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self._on_signal:
                signal.signal(signum, previous)
        self._previous.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.health.astop()

    # -- the signal path -----------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Runs in the main thread between two bytecodes, possibly inside the
        # event loop's own code: only flip a flag and wake the loop up.
        if self._signalled or self._loop is None:
            self._hand_over(signum, frame)
            return
        self._signalled = True
        self.health.lifecycle.begin_drain()
        self._loop.call_soon_threadsafe(self._start_drain, signum)

    def _start_drain(self, signum: int) -> None:
        logger.warning(
            "healthprobe: signal %d received; readiness fails, serving for %g s before shutdown "
            "(up to %g s while work is in flight)",
            signum,
            self.drain or 0.0,
            max(self.drain or 0.0, self.drain_max),
        )
        self._task = asyncio.get_running_loop().create_task(
            self._drain_then_hand_over(signum), name="healthprobe:drain"
        )

    async def _drain_then_hand_over(self, signum: int) -> None:
        await drain_then_wait_for_work(self.health, self.drain or 0.0, self.drain_max)
        self._hand_over(signum, None)

    def _hand_over(self, signum: int, frame: FrameType | None) -> None:
        if self._handed_over:
            return
        self._handed_over = True
        previous = self._previous.get(signum, signal.SIG_DFL)
        server = getattr(previous, "__self__", None)
        if isinstance(getattr(server, "should_exit", None), bool):
            server.should_exit = True  # type: ignore[union-attr]  # uvicorn.Server, checked above
        elif callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
        # SIG_IGN (or None: a handler set from C): nothing to hand over to.


async def drain_then_wait_for_work(health: Health, minimum: float, cap: float) -> bool:
    """Sleep ``minimum`` seconds, then wait while work is in flight, until ``cap`` in all.

    Returns True when no work was left open (the drain ended early, or at
    the minimum), False when the cap cut it short (logged, with the count).
    Shared by every server that drains (the ASGI lifespan, the thread server).
    """
    started = time.monotonic()
    await asyncio.sleep(minimum)
    lifecycle = health.lifecycle
    left = max(minimum, cap) - (time.monotonic() - started)
    if await lifecycle.await_idle(max(0.0, left)):
        return True
    logger.warning(
        "healthprobe: %d units of work still in flight after %g s; shutting down anyway",
        lifecycle.in_flight,
        max(minimum, cap),
    )
    return False
