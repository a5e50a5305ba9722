"""One registered check at run time: its readings, its run in flight, its kept thread.

This module decides *when* a check runs and keeps what it read; how one run
calls the check within its timeout is in ``runs``.  Every decision about
*what a result means* lives in the pure modules (``interpret``,
``thresholds``, ``aggregate``).

* A result younger than the check's cache TTL is served without running it,
  and a result older than its max staleness reads ``unknown``.
* Concurrent callers of a check share one run (single-flight), from any
  thread's event loop, and a caller that found no reading it could serve
  but finds one that landed since is served that one: at most one run per
  cache TTL, whatever the load.
* A sync check runs in one long-lived thread of its own (``kept_thread``),
  so its thread-local state (a Django connection) lives from run to run.
* Every new reading (and every start or end of polling) bumps a shared
  :class:`Changes` counter, so that a report assembled from served readings
  can be reused until something changes or a reading expires.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import inspect
import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .kept_thread import KeptThread
from .report import CheckReport
from .result import CheckResult
from .runs import Call, Remote, Run, TaskCall, ThreadCall, Waitable, watch_all
from .sanitize import describe_exception, sanitize, sanitize_details
from .spec import CallKind, CheckSpec
from .status import Status
from .thresholds import Damper

if TYPE_CHECKING:
    from .shared_record import HostRecord

__all__ = ["Changes", "CheckRuntime", "Reading", "RunContext", "built"]

logger = logging.getLogger("healthprobe")
F = TypeVar("F")


def built(cls: type[F], **fields: Any) -> F:
    """An instance of the frozen dataclass ``cls`` with ``fields`` (every field, by name).

    What ``cls(**fields)`` makes, at a sixth of the cost: a frozen
    dataclass's ``__init__`` goes through ``object.__setattr__`` once per
    field, and this runs for every reading and report on a probe's path.
    Only for the engine's own result types, which have no ``__post_init__``
    and no ``__slots__`` (``test_a_reading_is_a_complete_check_result``).
    """
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


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
    """The run-time state of one check: its last reading, its run in flight, its kept thread."""

    def __init__(
        self,
        spec: CheckSpec,
        listeners: list[Callable[[Reading], None]] | None = None,
        changes: Changes | None = None,
        run_contexts: list[RunContext] | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.task_name = f"healthprobe:{spec.name}"
        self._entry: CheckReport | None = None
        # One shared "no result yet" reading, so that an unchanged report
        # stays the same object (renderers cache on identity).
        self._no_result = CheckResult(
            Status.UNKNOWN, "no result yet", component_type=spec.component_type
        )
        self._listeners = listeners if listeners is not None else []
        #: Context managers every run is entered in (``Health.add_run_context``).
        self.run_contexts = run_contexts if run_contexts is not None else []
        self._changes = changes if changes is not None else Changes()
        self._polling = False
        self.executions = 0  # how many runs (readings) there were
        self.opened = False  # ran since its resources were last closed
        #: Whether a probe runs it before a polled check's first reading (13.11);
        #: False for a check polled once per host (``engine/shared.py``).
        self.first_on_demand = True
        self._lock = threading.Lock()
        damped = spec.failure_threshold > 1 or spec.success_threshold > 1
        # With both thresholds at 1 a damper reports every reading as it is: none then.
        self._damper = Damper(spec.failure_threshold, spec.success_threshold) if damped else None
        self._last: CheckResult | None = None
        self._last_at = 0.0  # time.monotonic() of the last reading
        #: The run in flight, on its loop (set and cleared under the lock).
        self.current_run: Run | None = None
        #: The last call of the check; while it is busy, the next run joins it.
        self.last_call: Call | None = None
        #: A sync check's one thread, reused from run to run.
        self.worker = KeptThread(self.task_name) if spec.kind is CallKind.SYNC else None

    # -- reading without running -------------------------------------------

    @property
    def polling(self) -> bool:
        """True while a background poller owns this check's runs."""
        return self._polling

    @polling.setter
    def polling(self, value: bool) -> None:
        if value is not self._polling:
            self._polling = value
            self._changes.bump()  # what serve() hands out depends on it

    def entry(self, result: CheckResult) -> CheckReport:
        """This check's report entry for ``result``; the same object while it is unchanged."""
        entry = self._entry
        if entry is None or entry.result is not result:
            entry = built(CheckReport, name=self.name, critical=self.spec.critical, result=result)
            self._entry = entry
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

    def unread(self) -> CheckResult | None:
        """``no result yet`` while a polled check has no reading, else None."""
        if self._polling and self._last is None:
            return self._no_result
        return None

    def serve(self, now: float) -> tuple[CheckResult | None, float]:
        """The result to serve at monotonic time ``now`` without running the check, and how long.

        The first value is None when the check must run.  A polled check
        serves its latest reading (``unknown`` once stale) and runs on
        demand only before its first one; another check serves a reading
        younger than its cache TTL.  It is the same object while nothing
        changed, so renderers can cache on identity.  The second value is
        the monotonic time until which, barring a new reading, the same
        object would be served again: ``inf`` for a reading that never goes
        stale, ``now`` (no time at all) for one that must run or is already
        stale (a stale result states its age, so it is a new object every
        time).
        """
        with self._lock:
            last, at = self._last, self._last_at
        if last is None:
            if self._polling and not self.first_on_demand:
                return self._no_result, math.inf  # until the first reading lands
            return None, now
        if self._polling:
            return self._aged(last, at, now)
        # A polled check whose poller is not running (polling never started, or
        # already stopped) runs on demand, and its interval acts as a cache TTL.
        ttl = max(self.spec.cache_ttl, self.spec.interval or 0.0)
        if now - at >= ttl:
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

    # -- running ------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop, since: float) -> CheckResult | Waitable:
        """A reading for a caller on ``loop`` that found none to serve at monotonic ``since``.

        A reading that landed at or after ``since`` is returned as it is (the
        run that was in flight when the caller looked has ended since).
        Otherwise the run in flight is joined (through a :class:`Remote` from
        another loop), or a new run starts.  Never blocks; the returned run
        has its ``result`` once it ends, within the check's timeout.
        """
        with self._lock:
            last = self._last
            if last is not None and self._last_at >= since:
                return last
            run = self.current_run
            if run is not None and run.loop.is_closed():
                run = None  # its loop went away with it (see Remote)
            if run is not None:
                if run.loop is loop:
                    return run
                remote = Remote(loop, self.spec.timeout)
                run.watch(functools.partial(remote.from_run, run))
                return remote
            run = self.current_run = Run(self, loop)
            self.executions += 1
            self.opened = True
            call = self.last_call
            if call is not None and call.joinable(loop):
                # Set under the lock: a thread call ending meanwhile finds its run.
                run.call, run.joined = call, True
        run.begin()
        return run

    async def refresh(self) -> CheckResult:
        """Run the check now, or join the run already in flight; the new reading.

        A caller that is cancelled stops waiting; the run goes on for the others.
        """
        loop = asyncio.get_running_loop()
        outcome = self.start(loop, math.inf)
        if isinstance(outcome, CheckResult):
            return outcome
        waiting = watch_all(loop, [outcome], None)
        if waiting is not None:
            await waiting[0]
        assert outcome.result is not None  # a run always ends by its timeout
        return outcome.result

    def call_ended(self, call: TaskCall, how: int, payload: Any) -> None:
        """A task call ended, on its loop: the run waiting on it (if any) reads it."""
        run = self.current_run
        if run is not None and run.call is call:
            run.settle(call, how, payload)

    def thread_call_ended(self, call: ThreadCall, how: int, payload: Any) -> None:
        """A thread call ended, in the kept thread: hand it to its run's loop."""
        with self._lock:
            call.done = True
            run = self.current_run
            if run is None or run.call is not call:
                run = None
        if run is None:
            if inspect.iscoroutine(payload):
                payload.close()  # nobody will await it: no "never awaited" warning
            return
        try:
            run.loop.call_soon_threadsafe(run.settle, call, how, payload)
        except RuntimeError:  # the run's loop is closed: its callers got their answer
            if inspect.iscoroutine(payload):
                payload.close()

    def store(self, run: Run, reading: CheckResult, latency: float) -> list[Callable[[], None]]:
        """Keep ``run``'s reading (sanitized, damped); the run's watchers, to wake now.

        The reading is stored, and the run taken off, under one lock, before
        anyone is woken: a caller that looks after that finds the reading.
        """
        try:
            reading = self._finish(reading, latency)
        except Exception as exc:  # a bug in healthprobe itself: still a reading, never a hang
            reading = self._finish(CheckResult(Status.FAIL, describe_exception(exc)), latency)
        with self._lock:
            reported = reading if self._damper is None else self._damper.feed(reading)
            previous = self._last
            self._last, self._last_at = reported, time.monotonic()
            run.result = reported
            if self.current_run is run:
                self.current_run = None
            watchers, run.watchers = run.watchers or [], None
        self._changes.bump()
        if self._listeners:
            self._notify(Reading(self.name, self.spec.critical, previous, reported))
        return watchers

    def failure(self, error: BaseException) -> CheckResult:
        """A failing reading for an exception the check raised (type and sanitized message)."""
        return CheckResult(Status.FAIL, describe_exception(error, self.spec.secrets))

    def adopt(self, result: CheckResult, at: float, host: HostRecord) -> None:
        """Store ``result``, read at monotonic time ``at`` by another process, as the latest.

        For the shared directory (``engine/shared.py``): no run, no damping
        (the process that read it damped it); aged and served like a reading
        of this process; listeners get it with ``host`` set.
        """
        with self._lock:
            previous = self._last
            self._last, self._last_at = result, at
            if self._damper is not None:
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
        value = reading.observed_value
        unit = reading.observed_unit
        finished = object.__new__(CheckResult)  # built(), inline: once per reading
        finished.__dict__.update(
            status=reading.status,
            output=sanitize(reading.output, secrets) if reading.output else "",
            details=sanitize_details(reading.details, secrets) if reading.details else {},
            observed_value=sanitize(value, secrets) if isinstance(value, str) else value,
            observed_unit=sanitize(unit, secrets, max_length=50) if unit else None,
            component_type=reading.component_type or self.spec.component_type,
            latency=latency,
            # A check that says when its reading was taken (a cached upstream
            # figure) keeps that time; otherwise it is now.
            time=(
                taken
                if isinstance(taken := reading.time, dt.datetime) and taken.tzinfo is not None
                else dt.datetime.now(dt.timezone.utc)
            ),
        )
        return finished

    # -- closing and forking ------------------------------------------------

    def forget_threads(self) -> None:
        """After a fork: drop the run in flight, the busy call and the kept thread of the parent."""
        self._polling = False  # the owner bumps the changes counter after every runtime
        self.current_run = None
        self.last_call = None
        if self.worker is not None:
            self.worker.forget()
        self._lock = threading.Lock()
