"""One registered check at run time: calling it safely, caching and sharing its runs.

This is the only place that schedules a check's I/O.  Every decision about
*what a result means* lives in the pure modules (``_interpret``,
``_thresholds``, ``_aggregate``); this module only decides *when and how* a
check is called:

* an async check is awaited in its own task, abandoned (cancelled, never
  waited for) when its timeout passes, so a check that ignores cancellation
  still cannot hold a probe;
* a sync check runs in a daemon thread of its own, so it never blocks the
  event loop and never delays interpreter exit; while that thread is still
  busy, later runs wait on the *same* call instead of starting another
  thread, and report a timeout if it is still stuck;
* concurrent callers of a check share one in-flight run (single-flight);
* a result younger than the check's cache TTL is served without running it,
  and a result older than its max staleness reads ``unknown``;
* every new reading (and every start or end of polling) bumps a shared
  :class:`Changes` counter, so that a report assembled from served readings
  can be reused until something changes or a reading expires.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import datetime as dt
import inspect
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NamedTuple

from .interpret import interpret
from .report import CheckReport
from .result import CheckResult
from .sanitize import describe_exception, sanitize, sanitize_details
from .spec import CallKind, CheckSpec
from .status import Status
from .thresholds import Damper

if TYPE_CHECKING:
    from .shared_record import HostRecord

__all__ = ["Changes", "CheckRuntime", "Reading"]

logger = logging.getLogger("healthprobe")


class Reading(NamedTuple):
    """One new reading of one check, as handed to result listeners.

    ``host`` is None for a reading taken in this process; for one taken by
    another worker of this host and adopted from the shared directory, the
    published record (see ``engine/shared.py``): observers that act once
    per host (transition logs, webhooks, spans) leave those alone.
    """

    name: str
    critical: bool
    previous: CheckResult | None
    current: CheckResult
    host: HostRecord | None = None


class Changes:
    """A counter that goes up whenever what the checks would serve may have changed.

    Readers compare :attr:`value` before and after: an unchanged value means
    no reading was stored and no polling started or ended in between.  A
    writer stores its reading *before* it bumps, and a reader reads the value
    *before* the readings, so a reading that lands in between always leaves
    the reader with an outdated value, never with a stale report it trusts.
    """

    __slots__ = ("_lock", "value")

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()  # readings land from several threads' loops

    def bump(self) -> None:
        with self._lock:
            self.value += 1

    def after_fork(self) -> None:
        """In a forked child: a new lock (the parent's may have been held) and a bump."""
        self._lock = threading.Lock()
        self.value += 1


#: ``factory()`` gives a context manager every check run is entered in.
RunContext = Callable[[], AbstractContextManager[object]]


class CheckRuntime:
    """The run-time state of one check: its last result, in-flight run and busy thread."""

    def __init__(
        self,
        spec: CheckSpec,
        listeners: list[Callable[[Reading], None]] | None = None,
        changes: Changes | None = None,
        run_contexts: list[RunContext] | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self._entry: CheckReport | None = None
        # One shared "no result yet" reading, so that an unchanged report
        # stays the same object (renderers cache on identity).
        self._no_result = CheckResult(
            Status.UNKNOWN, "no result yet", component_type=spec.component_type
        )
        self._listeners = listeners if listeners is not None else []
        self._run_contexts = run_contexts if run_contexts is not None else []
        self._changes = changes if changes is not None else Changes()
        self._polling = False
        self.executions = 0  # how many times the check was actually called
        self._lock = threading.Lock()
        self._damper = Damper(spec.failure_threshold, spec.success_threshold)
        self._last: CheckResult | None = None
        self._last_at = 0.0  # time.monotonic() of the last reading
        self._inflight: asyncio.Task[CheckResult] | None = None
        self._thread_call: concurrent.futures.Future[Any] | None = None

    async def aclose(self) -> None:
        """Close what the check opened: its ``aclose()`` or ``close()``, if it has one.

        Bounded by the check's timeout; a sync ``close()`` runs in a thread (it
        may block on a socket).  A failure is logged, sanitized, and ignored.
        """
        target = self.spec.target
        closer = getattr(target, "aclose", None) or getattr(target, "close", None)
        if not callable(closer) or inspect.isfunction(target):
            return
        timeout = self.spec.timeout
        try:
            if inspect.iscoroutinefunction(closer):
                await asyncio.wait_for(closer(), timeout)
            else:
                outcome = await asyncio.wait_for(asyncio.to_thread(closer), timeout)
                if inspect.isawaitable(outcome):
                    await asyncio.wait_for(outcome, timeout)
        except Exception as exc:
            logger.warning(
                "healthprobe: closing check %s failed: %s",
                self.name,
                describe_exception(exc, self.spec.secrets),
            )

    @property
    def polling(self) -> bool:
        """True while a background poller owns this check's runs."""
        return self._polling

    @polling.setter
    def polling(self, value: bool) -> None:
        if value is not self._polling:
            self._polling = value
            self._changes.bump()  # what serve() hands out depends on it

    def forget_threads(self) -> None:
        """After a fork: drop the in-flight run and busy thread of the parent process."""
        self._polling = False  # the owner bumps the changes counter after every runtime
        self._inflight = None
        self._thread_call = None
        self._lock = threading.Lock()

    def entry(self, result: CheckResult) -> CheckReport:
        """This check's report entry for ``result``; the same object while it is unchanged."""
        entry = self._entry
        if entry is None or entry.result is not result:
            entry = self._entry = CheckReport(self.name, self.spec.critical, result)
        return entry

    def peek(self, now: float | None = None) -> CheckResult:
        """The latest result without running the check.

        ``unknown`` before the first reading, and once the reading is older
        than the check's max staleness (the stale status is kept in details).
        """
        with self._lock:
            last, at = self._last, self._last_at
        if last is None:
            return self._no_result
        return self._aged(last, at, time.monotonic() if now is None else now)[0]

    def serve(self, now: float) -> tuple[CheckResult | None, float]:
        """The result to serve at monotonic time ``now`` without running the check, and how long.

        The first value is None when the check must run.  A polled check
        always serves its latest reading (``unknown`` before the first one or
        once stale); another check serves a reading younger than its cache
        TTL.  It is the same object while nothing changed, so renderers can
        cache on identity.  The second value is the monotonic time until
        which, barring a new reading, the same object would be served again:
        ``inf`` for a reading that never goes stale, ``now`` (no time at all)
        for one that must run or is already stale (a stale result states its
        age, so it is a new object every time).
        """
        with self._lock:
            last, at = self._last, self._last_at
        if self._polling:
            if last is None:
                return self._no_result, math.inf  # until the first reading lands
            return self._aged(last, at, now)
        # A polled check whose poller is not running (polling never started, or
        # already stopped) runs on demand, and its interval acts as a cache TTL.
        ttl = max(self.spec.cache_ttl, self.spec.interval or 0.0)
        if last is None or now - at >= ttl:
            return None, now
        result, until = self._aged(last, at, now)
        return result, min(until, at + ttl)

    def _aged(self, last: CheckResult, at: float, now: float) -> tuple[CheckResult, float]:
        """``last`` (read at ``at``) as seen at ``now``: itself, or ``unknown`` once stale."""
        limit = self.spec.max_staleness
        if limit is None:
            return last, math.inf
        age = now - at
        if age <= limit:
            return last, at + limit
        stale = dataclasses.replace(
            last,
            status=Status.UNKNOWN,
            output=f"stale: the last reading is {age:.1f} s old (max_staleness {limit:g} s)",
            details={**last.details, "stale_status": last.status.value},
        )
        return stale, now

    async def refresh(self) -> CheckResult:
        """Run the check now, or join the run already in flight on this loop."""
        loop = asyncio.get_running_loop()
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self._execute(), name=f"healthprobe:{self.name}")
            self._inflight = task
        # shield: a caller that goes away (client disconnect, deadline) must not
        # cancel the run other callers are waiting for.
        return await asyncio.shield(task)

    async def _execute(self) -> CheckResult:
        started = time.monotonic()
        self.executions += 1
        try:
            with contextlib.ExitStack() as stack:
                # Entered in this run's own task: the check's task and its worker
                # thread (which copies this context) see what they set.
                for factory in tuple(self._run_contexts):
                    stack.enter_context(factory())
                reading = await self._invoke(started)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in healthprobe itself; still a result, not a crash
            reading = CheckResult(Status.FAIL, describe_exception(exc, self.spec.secrets))
        reading = self._finish(reading, time.monotonic() - started)
        with self._lock:
            reported = self._damper.feed(reading)
            previous = self._last
            self._last, self._last_at = reported, time.monotonic()
        self._changes.bump()
        self._notify(Reading(self.name, self.spec.critical, previous, reported))
        return reported

    def adopt(self, result: CheckResult, at: float, host: HostRecord) -> None:
        """Store ``result``, read at monotonic time ``at`` by another process, as the latest.

        For the shared directory (``engine/shared.py``): no run, no damping
        (the process that read it damped it); aged and served like a reading
        of this process; listeners get it with ``host`` set.
        """
        with self._lock:
            previous = self._last
            self._last, self._last_at = result, at
            self._damper.settle(result)  # a takeover goes on from the host's state
        self._changes.bump()
        self._notify(Reading(self.name, self.spec.critical, previous, result, host))

    def _notify(self, reading: Reading) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(reading)
            except Exception as exc:  # a listener's bug must not break the probe
                logger.error("healthprobe: a result listener failed: %s", describe_exception(exc))

    def _finish(self, reading: CheckResult, latency: float) -> CheckResult:
        secrets = self.spec.secrets
        return dataclasses.replace(
            reading,
            output=sanitize(reading.output, secrets) if reading.output else "",
            details=sanitize_details(reading.details, secrets) if reading.details else {},
            observed_unit=(
                sanitize(reading.observed_unit, secrets, max_length=50)
                if reading.observed_unit
                else None
            ),
            observed_value=(
                sanitize(reading.observed_value, secrets)
                if isinstance(reading.observed_value, str)
                else reading.observed_value
            ),
            component_type=reading.component_type or self.spec.component_type,
            latency=latency,
            # A check that says when its reading was taken (a cached upstream
            # figure) keeps that time; otherwise it is now.
            time=(
                reading.time
                if isinstance(reading.time, dt.datetime) and reading.time.tzinfo is not None
                else dt.datetime.now(dt.timezone.utc)
            ),
        )

    async def _invoke(self, started: float) -> CheckResult:
        spec = self.spec
        if spec.kind is CallKind.ASYNC:
            try:
                awaitable = spec.call()
            except Exception as exc:
                return self._failure(exc)
            return await self._await_bounded(awaitable, spec.timeout)
        return await self._invoke_in_thread(started)

    async def _invoke_in_thread(self, started: float) -> CheckResult:
        spec = self.spec
        call = self._thread_call
        resumed = call is not None and not call.done()
        if call is None or not resumed:
            call = self._start_thread()
            self._thread_call = call
        waiter = asyncio.wrap_future(call)
        # The outcome is read from ``call``; the wrapper's copy must be consumed
        # too, or asyncio logs it (unsanitized, with a traceback) when collected.
        waiter.add_done_callback(_consume)
        done, _ = await asyncio.wait({waiter}, timeout=spec.timeout)
        if not done:
            # Leave the thread alone (threads cannot be killed); the next run
            # joins it instead of starting another.
            waiter.cancel()
            note = " (the previous run is still in progress)" if resumed else ""
            return CheckResult(Status.FAIL, f"timed out after {spec.timeout:g} s{note}")
        error = call.exception()
        if error is not None:
            return self._failure(error)
        value = call.result()
        if inspect.isawaitable(value):
            # A sync callable that returned an awaitable (a lambda around an
            # async call): await it in the time that is left.
            remaining = spec.timeout - (time.monotonic() - started)
            return await self._await_bounded(value, remaining)
        return interpret(value)

    def _start_thread(self) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        context = contextvars.copy_context()
        call = self.spec.call

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = context.run(call)
            except BaseException as exc:  # reported as the check's failure
                future.set_exception(exc)
            else:
                future.set_result(result)

        # Daemon: a stuck check must never keep the process from exiting.
        threading.Thread(target=work, name=f"healthprobe:{self.name}", daemon=True).start()
        return future

    async def _await_bounded(self, awaitable: Awaitable[Any], timeout: float) -> CheckResult:
        if timeout <= 0:
            _discard(awaitable)
            return CheckResult(Status.FAIL, f"timed out after {self.spec.timeout:g} s")
        task = asyncio.ensure_future(awaitable)
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            # Cancel and walk away: a check that swallows the cancellation
            # keeps running on its own, but no longer holds the probe.
            task.cancel()
            task.add_done_callback(_consume)
            return CheckResult(Status.FAIL, f"timed out after {self.spec.timeout:g} s")
        if task.cancelled():
            return CheckResult(Status.FAIL, "the check was cancelled")
        error = task.exception()
        if error is not None:
            return self._failure(error)
        return interpret(task.result())

    def _failure(self, error: BaseException) -> CheckResult:
        return CheckResult(Status.FAIL, describe_exception(error, self.spec.secrets))


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned task's outcome so asyncio does not log it as lost."""
    if not task.cancelled():
        task.exception()


def _discard(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if inspect.iscoroutine(awaitable) and callable(close):
        close()
