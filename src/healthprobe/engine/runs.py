"""One run of one check (a reading in the making), and the calls it waits on.

A *call* is one invocation of the check: a :class:`TaskCall` (an async check,
or the awaitable a sync check returned, driven in a task of its own) or a
:class:`ThreadCall` (a sync check, in the check's kept thread).  A *run*
(:class:`Run`) turns a call into exactly one reading within the check's
timeout: when the timeout passes first, the run reads "timed out" and the
call is *abandoned* (a task is cancelled, a thread cannot be), but not
forgotten: while it is still busy, the next run joins it instead of
starting another, so a check that hangs or swallows its cancellation costs
one task or one thread, never one per probe.

Everything here is written as callbacks rather than coroutines: a probe of
on-request checks then costs one task per check (the check's own) and three
turns of the event loop, which is what keeps ``arun()`` near a bare
``asyncio.gather`` of ``wait_for``s.

Threads: a run lives on one event loop (its ``loop``); its methods run
there.  A :class:`ThreadCall` ends in the kept thread and hands its outcome
to the run's loop with ``call_soon_threadsafe``.  Callers on another loop
wait through a :class:`Remote`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from .interpret import interpret
from .result import CheckResult
from .status import Status

if TYPE_CHECKING:
    from .kept_thread import KeptThread
    from .spec import CheckSpec

__all__ = ["Remote", "Run", "TaskCall", "ThreadCall", "watch_all"]

# How a call ended: with a value, an exception, or cancelled.
VALUE, ERROR, CANCELLED = 0, 1, 2
Watcher = Callable[[], None]
_PASSED = CheckResult(Status.PASS)  # what None and True mean (the runtime copies it)


class CheckRuntime(Protocol):
    """What a run needs of the check it runs (``runtime.CheckRuntime`` provides it)."""

    spec: CheckSpec
    task_name: str
    run_contexts: list[Callable[[], AbstractContextManager[object]]]
    worker: KeptThread | None
    last_call: TaskCall | ThreadCall | None
    current_run: Run | None

    def call_ended(self, call: TaskCall, how: int, payload: Any) -> None: ...
    def thread_call_ended(self, call: ThreadCall, how: int, payload: Any) -> None: ...
    def store(self, run: Run, reading: CheckResult, latency: float) -> list[Watcher]: ...
    def failure(self, error: BaseException) -> CheckResult: ...


class TaskCall:
    """An awaitable of the check driven to its end in a task of its own."""

    __slots__ = ("abandoned", "done", "runtime", "task")

    def __init__(
        self,
        runtime: CheckRuntime,
        loop: asyncio.AbstractEventLoop,
        awaitable: Awaitable[Any] | None = None,
    ) -> None:
        """Call the (async) check in a new task, or drive ``awaitable`` a sync check returned."""
        self.runtime = runtime
        self.done = False
        self.abandoned = False  # cancelled by a timeout; may not have stopped
        self.task = loop.create_task(self._drive(awaitable), name=runtime.task_name)
        if awaitable is not None:
            # Cancelled before its first step, the task never awaits it: close it then.
            self.task.add_done_callback(lambda _: _discard(awaitable))

    async def _in_contexts(self, awaitable: Awaitable[Any] | None) -> Any:
        # Entered in the check's own task, so the check sees the context
        # variables they set; a factory that raises is the run's failure.
        with contextlib.ExitStack() as stack:
            for factory in tuple(self.runtime.run_contexts):
                stack.enter_context(factory())
            return await (self.runtime.spec.call() if awaitable is None else awaitable)

    def joinable(self, loop: asyncio.AbstractEventLoop) -> bool:
        """A busy call a run on ``loop`` may wait for (a task only on its own loop)."""
        return not self.done and self.task.get_loop() is loop

    def abandon(self) -> None:
        self.abandoned = True
        self.task.cancel()

    async def _drive(self, awaitable: Awaitable[Any] | None) -> None:
        runtime = self.runtime
        try:
            if runtime.run_contexts:
                value = await self._in_contexts(awaitable)
            else:
                # The check is called inside the task, so that a task cancelled
                # before its first step leaves no coroutine that was never awaited.
                value = await (runtime.spec.call() if awaitable is None else awaitable)
        except asyncio.CancelledError:
            self.done = True
            self.runtime.call_ended(self, CANCELLED, None)
            raise
        except Exception as exc:  # the check's failure, read by the run
            self.done = True
            self.runtime.call_ended(self, ERROR, exc)
            return
        self.done = True
        run = self.runtime.current_run  # call_ended(), inline on the common path
        if run is not None and run.call is self:
            run.settle(self, VALUE, value)


class ThreadCall:
    """A sync check called once in its kept thread, in a copy of the caller's context."""

    __slots__ = ("context", "done", "runtime")

    abandoned = False  # a thread cannot be cancelled: an abandoned call just goes on

    def __init__(self, runtime: CheckRuntime) -> None:
        self.runtime = runtime
        self.done = False
        self.context = contextvars.copy_context()

    def joinable(self, loop: asyncio.AbstractEventLoop) -> bool:
        return not self.done  # its outcome can be handed to any loop

    def abandon(self) -> None:
        pass

    def __call__(self) -> None:  # in the kept thread
        try:
            value = self.context.run(self._call)
        except BaseException as exc:  # reported as the check's failure
            self.runtime.thread_call_ended(self, ERROR, exc)
        else:
            self.runtime.thread_call_ended(self, VALUE, value)

    def _call(self) -> Any:
        runtime = self.runtime
        if not runtime.run_contexts:
            return runtime.spec.call()
        # Entered here, in the thread and in the copied context, around the
        # call: the check sees what they set; a factory that raises fails it.
        with contextlib.ExitStack() as stack:
            for factory in tuple(runtime.run_contexts):
                stack.enter_context(factory())
            return runtime.spec.call()


Call = TaskCall | ThreadCall


class Run:
    """One run of one check on one loop: a single reading within the check's timeout."""

    __slots__ = ("call", "joined", "loop", "result", "runtime", "started", "timer", "watchers")

    def __init__(self, runtime: CheckRuntime, loop: asyncio.AbstractEventLoop) -> None:
        self.runtime = runtime
        self.loop = loop
        self.started = time.monotonic()
        self.result: CheckResult | None = None
        self.watchers: list[Watcher] | None = []
        self.call: Call | None = None
        self.joined = False  # waits on a call an earlier run abandoned
        self.timer: asyncio.TimerHandle | None = None

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher()`` (on this run's loop) once the reading is in; now if it is."""
        watchers = self.watchers
        if watchers is None:
            watcher()
        else:
            watchers.append(watcher)

    def begin(self) -> None:
        """Start: wait for the busy ``call`` an earlier run abandoned, if set; else call anew."""
        runtime = self.runtime
        self.timer = self.loop.call_at(self.started + runtime.spec.timeout, self.expire)
        if self.call is None:
            try:
                if runtime.worker is None:  # the common case, inline: an async check's task
                    self.call = runtime.last_call = TaskCall(runtime, self.loop)
                else:
                    self._call_anew()
            except Exception as exc:  # no thread could start, say: a reading, not a raise
                self.finish(runtime.failure(exc))

    def _call_anew(self) -> None:
        runtime = self.runtime
        if runtime.worker is not None:  # a sync check: its kept thread
            thread_call = ThreadCall(runtime)
            self.call = runtime.last_call = thread_call
            runtime.worker.submit(thread_call)
            return
        self._await(None)

    def _await(self, awaitable: Awaitable[Any] | None) -> None:
        self.call = self.runtime.last_call = TaskCall(self.runtime, self.loop, awaitable)

    def expire(self) -> None:
        """The timeout passed first: abandon the call (the next run joins it) and read a failure."""
        if self.result is not None:
            return
        if self.call is not None:
            self.call.abandon()
        note = " (the previous run is still in progress)" if self.joined else ""
        self.finish(
            CheckResult(Status.FAIL, f"timed out after {self.runtime.spec.timeout:g} s{note}")
        )

    def settle(self, call: Call, how: int, payload: Any) -> None:
        """``call`` ended (on this loop): read its outcome, unless this run is already over."""
        if self.result is not None or self.call is not call:
            return
        runtime = self.runtime
        if how == VALUE:
            if payload is True or payload is None:
                self.finish(_PASSED)  # the common answer, read without interpret()
            elif isinstance(call, ThreadCall) and inspect.isawaitable(payload):
                # A sync callable that returned an awaitable (a lambda around an
                # async call): awaited in the time that is left, never dropped.
                self._await(payload)
            else:
                self.finish(interpret(payload))
        elif how == ERROR:
            self.finish(runtime.failure(payload))
        elif call.abandoned:
            # An abandoned call honoured its cancellation only now: this run
            # calls the check itself in the time that is left.
            self.joined = False
            self._call_anew()
        else:
            self.finish(CheckResult(Status.FAIL, "the check was cancelled"))

    def finish(self, reading: CheckResult) -> None:
        """Store ``reading`` (the runtime sanitizes and damps it) and wake the watchers."""
        if self.timer is not None:
            self.timer.cancel()
        watchers = self.runtime.store(self, reading, time.monotonic() - self.started)
        for watcher in watchers:
            watcher()


class Remote:
    """A caller on another loop waiting for a run: fed thread-safely, bounded on its own side."""

    __slots__ = ("loop", "result", "timer", "watchers")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.result: CheckResult | None = None
        self.watchers: list[Watcher] | None = []
        # The run's loop may stop before the run ends (it is closed, or blocked):
        # this caller still gets an answer within the check's timeout.
        self.timer = loop.call_later(timeout, self._give_up, timeout)

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher()`` (on this caller's loop) once the reading is in; now if it is."""
        watchers = self.watchers
        if watchers is None:
            watcher()
        else:
            watchers.append(watcher)

    def from_run(self, run: Run) -> None:
        """Called on the run's loop once it has its reading."""
        # RuntimeError: this caller's loop is closed, nobody waits any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._resolve, run.result)

    def _give_up(self, timeout: float) -> None:
        self._resolve(CheckResult(Status.FAIL, f"timed out after {timeout:g} s"))

    def _resolve(self, result: CheckResult | None) -> None:
        if self.result is not None or result is None:
            return
        self.result = result
        self.timer.cancel()
        watchers, self.watchers = self.watchers or [], None
        for watcher in watchers:
            watcher()


Waitable = Run | Remote


class _Countdown:
    __slots__ = ("left", "waiter")

    def __init__(self, waiter: asyncio.Future[None], count: int) -> None:
        self.waiter = waiter
        self.left = count

    def one_done(self) -> None:
        self.left -= 1
        if self.left <= 0 and not self.waiter.done():
            self.waiter.set_result(None)

    def release(self) -> None:
        if not self.waiter.done():
            self.waiter.set_result(None)


def watch_all(
    loop: asyncio.AbstractEventLoop, runs: list[Waitable], limit: float | None
) -> tuple[asyncio.Future[None], asyncio.TimerHandle | None] | None:
    """A future done once every run has its reading, or after ``limit`` seconds (None: never).

    Returns None when every run has its reading already; else the future
    and the timer to cancel after it (a plain function, not a coroutine:
    this is on every probe's path).  Shielding comes for free: a caller
    that is cancelled while awaiting the future (a client that went away)
    stops waiting, and the runs go on for the other callers.
    """
    pending = [run for run in runs if run.result is None]
    if not pending:
        return None
    waiter: asyncio.Future[None] = loop.create_future()
    countdown = _Countdown(waiter, len(pending))
    for run in pending:
        run.watch(countdown.one_done)
    timer = loop.call_later(limit, countdown.release) if limit is not None else None
    return waiter, timer


def _discard(awaitable: Awaitable[Any]) -> None:
    """Close a coroutine that will never be awaited (no RuntimeWarning); others are left."""
    if inspect.iscoroutine(awaitable):
        awaitable.close()
