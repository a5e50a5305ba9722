"""Where the blocking twins of :class:`~healthprobe.Health` run, and what a fork forgets.

Sync code (a WSGI app, a CLI, a script) calls ``Health.run()``,
``start()`` and ``stop()``; the checks still run concurrently, async checks
still work and single-flight still holds, because every such call is handed
to one event loop: the loop that polls the instance's checks when one runs,
else a private loop in a daemon thread (:class:`EngineThread`), started on
first use.  :class:`LoopBridge` makes that choice for one ``Health``.

A forked child (a gunicorn worker after ``--preload``) inherits the
parent's polling state and engine loop but not the threads that ran them:
:func:`forget_threads_after_fork` registers an instance whose threads the
child must forget, so that it starts its own on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import weakref
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .closing import closable, close_check
from .poller import Poller
from .served import unique

if TYPE_CHECKING:
    from .report import Report
    from .runtime import Changes, CheckRuntime
    from .served import ServedReports

__all__ = [
    "BlockingTwins",
    "EngineThread",
    "LoopBridge",
    "forget_threads_after_fork",
    "refuse_inside_loop",
]

logger = logging.getLogger("healthprobe")
T = TypeVar("T")
B = TypeVar("B", bound="BlockingTwins")


#: Seconds a closing engine loop gives its cancelled tasks to end.
CLOSE_GRACE = 0.25


class EngineThread:
    """An event loop running forever in one daemon thread until :meth:`close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._main, args=(ready,), name="healthprobe-engine", daemon=True
        )
        self._thread.start()
        ready.wait()

    def _main(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:
            # The loop is closed here, by its own thread, once it has stopped:
            # either close() stopped it, or the last lingering task ended.
            self.loop.close()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the engine loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def close(self, grace: float = CLOSE_GRACE) -> None:
        """Cancel what is left on the loop, give it ``grace`` seconds, and end the loop.

        Bounded and quiet: a task that swallows its cancellation (an
        abandoned check) does not hold the caller.  The loop then keeps
        running in its daemon thread until such tasks end by themselves, and
        closes itself after them; at interpreter exit the daemon thread just
        stops.  Nothing is raised, nothing is logged.
        """
        if not self.alive:
            return
        loop = self.loop

        async def cancel_rest() -> bool:
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:
                task.cancel()
            if not rest:
                return True
            _, pending = await asyncio.wait(rest, timeout=grace)
            if not pending:
                return True
            loop.create_task(_stop_after(pending), name="healthprobe-engine-linger")
            return False

        try:
            ended = self.call(cancel_rest(), grace + 1.0)
        except (TimeoutError, concurrent.futures.TimeoutError):
            ended = False  # the loop itself is blocked (a check that blocks it): leave it
        if ended:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(grace + 1.0)


async def _stop_after(tasks: set[asyncio.Task[Any]]) -> None:
    """Stop the running loop once ``tasks`` (cancelled, still running) have ended."""
    await asyncio.wait(tasks)
    asyncio.get_running_loop().stop()


class LoopBridge:
    """Hands one ``Health``'s blocking calls to its polling loop or its private engine loop."""

    def __init__(self) -> None:
        self._engine: EngineThread | None = None
        self._lock = threading.Lock()

    def call(self, coro: Coroutine[Any, Any, T], polling: asyncio.AbstractEventLoop | None) -> T:
        """Run ``coro`` on ``polling`` when that loop runs, else on the engine loop."""
        if polling is not None and polling.is_running():
            return asyncio.run_coroutine_threadsafe(coro, polling).result()
        with self._lock:
            if self._engine is None or not self._engine.alive:
                self._engine = EngineThread()
            engine = self._engine
        return engine.call(coro)

    def finish(
        self, coro: Coroutine[Any, Any, None], polling: asyncio.AbstractEventLoop | None
    ) -> None:
        """Run ``coro`` (the closing) where work ran, if anywhere; then end the engine loop."""
        if polling is not None and polling.is_running():
            asyncio.run_coroutine_threadsafe(coro, polling).result()
        elif self._engine is not None:
            self._engine.call(coro)
        else:
            coro.close()  # nothing ever ran through this bridge: nothing to close
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    @property
    def engine(self) -> EngineThread | None:
        """The private engine loop's thread, if one was started."""
        return self._engine

    def forget(self) -> None:
        """Drop the engine loop without touching it (its thread is gone after a fork)."""
        self._engine = None
        self._lock = threading.Lock()


def _loop_of_this_thread() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def refuse_inside_loop(method: str) -> None:
    """Raise ``RuntimeError`` when ``Health.<method>()`` would block a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"Health.{method}() blocks and cannot be called from a running event loop; "
        f"use 'await health.a{method}()' instead"
    )


class BlockingTwins:
    """The blocking twins of ``Health``'s async methods, and what a forked child forgets.

    A base class of :class:`~healthprobe.Health`, which provides the
    attributes and the async methods declared here.
    """

    _bridge: LoopBridge
    _poller: Poller
    _reports: ServedReports
    _runtimes: dict[str, CheckRuntime]
    _changes: Changes

    if TYPE_CHECKING:

        async def arun(
            self,
            probe: str | None = None,
            *,
            only: str | None = None,
            exclude: Iterable[str] = (),
            deadline: float | None = None,
        ) -> Report: ...
        async def astart(self) -> None: ...
        async def astop(self) -> None: ...

    def run(
        self,
        probe: str | None = None,
        *,
        only: str | None = None,
        exclude: Iterable[str] = (),
        deadline: float | None = None,
    ) -> Report:
        """Blocking twin of :meth:`arun`, for code without an event loop.

        The run happens on the loop that polls this instance's checks when
        there is one, else on a private engine loop in a daemon thread, so
        async checks and single-flight work from sync code too.  A report
        that :meth:`arun` would hand out again unchanged is returned at once,
        without a trip to that loop.  Calling it from inside a running event
        loop raises ``RuntimeError`` (it would block that loop); use
        ``await health.arun()`` there.
        """
        refuse_inside_loop("run")
        skip = unique(exclude)
        report = self._reports.reuse((probe, only, skip))
        if report is not None:
            return report
        coro = self.arun(probe, only=only, exclude=skip, deadline=deadline)
        return self._bridge.call(coro, self._poller.loop)

    def start(self) -> None:
        """Blocking twin of :meth:`astart`: polls on the private engine loop."""
        refuse_inside_loop("start")
        self._bridge.call(self.astart(), None)

    def stop(self) -> None:
        """Blocking twin of :meth:`astop`; also ends the private engine loop."""
        refuse_inside_loop("stop")
        self._bridge.finish(self.astop(), self._poller.loop)

    def __enter__(self: B) -> B:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _close_before_fork(self) -> None:
        """Before a fork: close what the checks opened, so no child inherits it.

        A connection opened before the fork (``health.run()`` at import time
        under gunicorn ``--preload``) would otherwise live on in the parent
        and, as an inherited socket, in every child.  Each check that ran
        since it was last closed gets its ``aclose()``/``close()`` on the
        loop it ran on (the engine loop, or the polling loop), bounded by its
        timeout; its next run, in parent or child, opens a new connection.
        Skipped when that loop runs in the forking thread itself (it cannot
        be waited for from there).
        """
        runtimes = [rt for rt in self._runtimes.values() if rt.opened and closable(rt)]
        if not runtimes:
            return
        bound = max(rt.spec.timeout for rt in runtimes) + 1.0

        async def close_all() -> None:
            await asyncio.gather(*(close_check(rt) for rt in runtimes))

        loop = self._poller.loop
        if loop is None or not loop.is_running():
            engine = self._bridge.engine
            loop = engine.loop if engine is not None and engine.alive else None
        if loop is not None:
            if _loop_of_this_thread() is loop:
                return
            future = asyncio.run_coroutine_threadsafe(close_all(), loop)
            try:
                future.result(bound)
            except (TimeoutError, concurrent.futures.TimeoutError):
                future.cancel()
            return
        if _loop_of_this_thread() is not None:
            return  # called from inside a running loop: not ours to block
        # The loop the checks ran on is gone (asyncio.run() at import time):
        # what they hold is closed, or dropped, from a short-lived loop.
        temporary = asyncio.new_event_loop()
        try:
            temporary.run_until_complete(asyncio.wait_for(close_all(), bound))
        except (TimeoutError, asyncio.TimeoutError):
            pass
        finally:
            temporary.close()

    def _forget_threads(self) -> None:
        self._poller = Poller(jitter=self._poller.jitter)
        self._bridge.forget()
        for runtime in self._runtimes.values():
            runtime.forget_threads()
        self._changes.after_fork()  # nothing is polled here any more


class _Forgetful(Protocol):
    def _close_before_fork(self) -> None: ...
    def _forget_threads(self) -> None: ...


_INSTANCES: weakref.WeakSet[_Forgetful] = weakref.WeakSet()


def forget_threads_after_fork(instance: _Forgetful) -> None:
    """Close ``instance``'s check resources before every fork; forget its threads in the child."""
    _INSTANCES.add(instance)


def _before_fork() -> None:
    for instance in list(_INSTANCES):
        try:
            instance._close_before_fork()
        except Exception as exc:  # never let closing break the fork itself
            logger.warning("healthprobe: closing checks before fork failed: %s", type(exc).__name__)


def _after_fork_in_child() -> None:
    for instance in list(_INSTANCES):
        instance._forget_threads()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
