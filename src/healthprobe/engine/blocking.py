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
import os
import threading
import weakref
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

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

T = TypeVar("T")
B = TypeVar("B", bound="BlockingTwins")


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
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the engine loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def close(self, timeout: float = 5.0) -> None:
        """Cancel what is left on the loop, stop it and wait for the thread."""
        if not self.alive:
            return

        async def cancel_rest() -> None:
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        try:
            self.call(cancel_rest(), timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self.loop.close()


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

    def forget(self) -> None:
        """Drop the engine loop without touching it (its thread is gone after a fork)."""
        self._engine = None
        self._lock = threading.Lock()


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

    def _forget_threads(self) -> None:
        self._poller = Poller(jitter=self._poller.jitter)
        self._bridge.forget()
        for runtime in self._runtimes.values():
            runtime.forget_threads()
        self._changes.after_fork()  # nothing is polled here any more


class _Forgetful(Protocol):
    def _forget_threads(self) -> None: ...


_INSTANCES: weakref.WeakSet[_Forgetful] = weakref.WeakSet()


def forget_threads_after_fork(instance: _Forgetful) -> None:
    """Call ``instance._forget_threads()`` in every forked child of this process."""
    _INSTANCES.add(instance)


def _after_fork_in_child() -> None:
    for instance in list(_INSTANCES):
        instance._forget_threads()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
