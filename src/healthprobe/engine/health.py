"""The engine: a registry of checks that runs them and aggregates their results."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar, overload

from .blocking import BlockingTwins, LoopBridge, forget_threads_after_fork
from .closing import abandon_calls, close_check
from .errors import ConfigurationError, UnknownCheckError
from .heartbeat import PushedChecks, PushedStatus
from .hooks import Hooks
from .lifecycle import Lifecycle
from .poller import Poller
from .report import Report
from .result import CheckResult
from .runs import Waitable, watch_all
from .runtime import Changes, CheckRuntime, Reading, RunContext
from .served import Selection, ServedReports, members, select, unique
from .shared import SharedReadings, share
from .spec import CheckSpec, make_spec, probe_options
from .status import Status

__all__ = ["Health"]

logger = logging.getLogger("healthprobe")
C = TypeVar("C")


class Health(BlockingTwins, PushedChecks, Hooks):
    """A set of health checks, and the probes (groups) they belong to.

    Register checks with :meth:`add` or the :meth:`check` decorator, then ask
    a probe for its :class:`Report` with ``await health.arun("ready")`` (async
    code) or ``health.run("ready")`` (sync code).  ``None`` as the probe means
    every check (the detailed ``/health`` report).

    Parameters:
        version: the service's version, carried into reports by the adapters.
        groups: custom probe names besides ``live``, ``ready`` and ``startup``.
        deadline: a bound (seconds) on a whole probe run, on top of each
            check's own timeout; checks still running then read as failed
            "deadline exceeded" (their runs go on and are cached for next time).
            ``None``: bounded by the slowest check's timeout only.
        unknown_passes: the probes whose verdict is ``pass`` when their
            aggregate is ``unknown``.  By default only ``live``: a process with
            no reading yet is alive, but not ready.
        jitter: spread polling in time (on by default): each wait is the
            ``interval`` ±10 % and the first poll comes up to one interval
            after ``initial_delay``, so replicas started together do not poll
            a dependency in lock-step.  ``False``: exactly every ``interval``.
        shared_dir: a directory the worker processes of this service on this
            host share (default: the ``HEALTHPROBE_SHARED_DIR`` environment
            variable; neither: no sharing).  One worker polls the checks
            with an ``interval`` for all of them and publishes its readings
            there; the others serve those (``docs/multi-worker.md``).
        process_local: names of polled checks that each worker still polls
            itself (a check object can say so with ``process_local = True``).
    """

    def __init__(
        self,
        *,
        version: str | None = None,
        groups: Iterable[str] = (),
        deadline: float | None = None,
        unknown_passes: Iterable[str] = ("live",),
        jitter: bool = True,
        shared_dir: str | os.PathLike[str] | None = None,
        process_local: Iterable[str] = (),
    ) -> None:
        self._probes, unknown = probe_options(groups, unknown_passes, deadline)
        self.version = version
        self.deadline = deadline
        self._runtimes: dict[str, CheckRuntime] = {}
        self._pushed: dict[str, PushedStatus] = {}  # beat() and report() targets, by name
        self._listeners: list[Callable[[Reading], None]] = []
        self._run_contexts: list[RunContext] = []
        self._members_memo: dict[str | None, list[CheckRuntime]] = {}
        self._changes = Changes()
        self._reports = ServedReports(self._changes, unknown)
        self._unknown_passes = unknown
        self._poller = Poller(jitter=jitter)
        self._bridge = LoopBridge()  # where run(), start() and stop() send their work
        forget_threads_after_fork(self)
        self._started_monotonic = time.monotonic()
        self.started_at = dt.datetime.now(dt.timezone.utc)
        #: The process state the HTTP probes add to the checks (see lifecycle.py).
        self.lifecycle = Lifecycle()
        self._shared = share(self._listeners, shared_dir, process_local)

    # -- registration -------------------------------------------------------

    @property
    def probes(self) -> tuple[str, ...]:
        """Every probe this instance knows: the built-in three, then the custom groups."""
        return self._probes

    @property
    def unknown_passes(self) -> frozenset[str]:
        """The probes whose verdict is ``pass`` when a reading is ``unknown``."""
        return self._unknown_passes

    def add(
        self,
        check: C,
        *,
        name: str | None = None,
        timeout: float | None = None,
        critical: bool = True,
        probes: Iterable[str] = ("ready",),
        interval: float | None = None,
        initial_delay: float = 0.0,
        cache_ttl: float = 0.0,
        max_staleness: float | None = None,
        failure_threshold: int = 1,
        success_threshold: int = 1,
        component_type: str | None = None,
        secrets: Iterable[str] = (),
    ) -> C:
        """Register ``check`` and return it unchanged.

        ``check`` is a sync or async callable taking no arguments, or an object
        with ``check()`` or ``acheck()``.  Options:

        * ``name``: unique (case-insensitively); defaults to the object's
          ``name`` attribute or the function's ``__name__``.
        * ``timeout``: seconds one run may take before it reads as failed;
          defaults to the object's ``timeout`` attribute (built-in checks use
          it for their driver's own time limits too), else 5 s.
        * ``critical``: when False, a failure degrades (``warn``) the probes
          the check belongs to instead of failing them.
        * ``probes``: the probes it belongs to (default: readiness only; it is
          always part of the full ``/health`` report).
        * ``interval``: poll in the background every so many seconds, after
          ``initial_delay``; probes then serve the latest reading.
        * ``cache_ttl``: serve a reading this young without running again.
        * ``max_staleness``: a reading older than this reads ``unknown``
          (default for polled checks: ``2 * interval + timeout``).
        * ``failure_threshold`` / ``success_threshold``: consecutive readings
          needed before a change of state is reported (flap damping).
        * ``component_type``: IETF componentType (``datastore``,
          ``component``, ``system``); defaults to the object's attribute.
        * ``secrets``: strings never to show in any output (passwords, hosts);
          an object's ``secrets`` attribute is added to them.

        Raises :class:`ConfigurationError` naming the check and the problem.
        """
        spec = make_spec(
            check,
            name=name,
            timeout=timeout,
            critical=critical,
            probes=probes,
            known_probes=self._probes,
            interval=interval,
            initial_delay=initial_delay,
            cache_ttl=cache_ttl,
            max_staleness=max_staleness,
            failure_threshold=failure_threshold,
            success_threshold=success_threshold,
            component_type=component_type,
            secrets=secrets,
        )
        for existing in self._runtimes:
            if existing.lower() == spec.name.lower():
                raise ConfigurationError(f"check {spec.name!r}: a check named {existing!r} exists")
        runtime = CheckRuntime(spec, self._listeners, self._changes, self._run_contexts)
        if self._shared is not None and self._shared.shares(runtime):
            # Polled once per host: its readings come from the shared directory,
            # and it never runs on demand here, not even before the first one.
            runtime.first_on_demand = False
        self._runtimes[spec.name] = runtime
        self._register_pushed(spec.name, check)
        self._members_memo.clear()
        self._changes.bump()  # every report of a probe it joins is outdated
        loop = self._poller.loop
        if loop is not None and spec.interval is not None:
            loop.call_soon_threadsafe(self._poll_added, runtime)
        return check

    @overload
    def check(self, func: C, /) -> C: ...
    @overload
    def check(self, func: None = None, /, **options: Any) -> Callable[[C], C]: ...

    def check(self, func: Any = None, /, **options: Any) -> Any:
        """Decorator form of :meth:`add`: ``@health.check`` or ``@health.check(timeout=2)``."""
        if func is not None:
            return self.add(func, **options)

        def register(target: C) -> C:
            return self.add(target, **options)

        return register

    def spec(self, name: str) -> CheckSpec:
        """The registered options of one check."""
        try:
            return self._runtimes[name].spec
        except KeyError:
            raise UnknownCheckError(name) from None

    def names(self, probe: str | None = None) -> tuple[str, ...]:
        """The names of the checks in ``probe`` (all for ``None``), in registration order."""
        return tuple(rt.name for rt in self._members(probe))

    def executions(self, name: str) -> int:
        """How many times the check ``name`` has actually been called."""
        try:
            return self._runtimes[name].executions
        except KeyError:
            raise UnknownCheckError(name) from None

    # -- running -------------------------------------------------------------

    async def arun(
        self,
        probe: str | None = None,
        *,
        only: str | None = None,
        exclude: Iterable[str] = (),
        deadline: float | None = None,
    ) -> Report:
        """Run ``probe``'s checks concurrently and return its :class:`Report`.

        ``only`` restricts the report to one check of the probe
        (:class:`UnknownCheckError` if it is not in it); ``exclude`` skips
        checks by name, as the Kubernetes API server's ``?exclude=`` does
        (names that match nothing are listed in ``unmatched_excludes``).
        Cached and polled readings are served as their options say; a check
        already running is joined, not started twice.  Never raises because a
        check failed: a failure is a ``fail`` result.

        While no reading of the selection changed and none expired (polled
        checks between two polls, readings within their cache TTL), the
        *same* report object is returned again, at the cost of one clock
        read; its ``time`` is then when it was first assembled.
        """
        selection = (probe, only, unique(exclude))
        report = self._reports.reuse(selection)
        if report is not None:
            return report
        changes = self._changes.value  # before the readings: see Changes
        started = time.monotonic()
        selected, excluded, unmatched = self._select(selection)
        until = math.inf
        results: dict[str, CheckResult] = {}
        runs: list[tuple[CheckRuntime, Waitable]] = []
        loop: asyncio.AbstractEventLoop | None = None
        for runtime in selected:
            # Polled and cached readings are served inline: no task, no await.
            cached, fresh_until = runtime.serve(started)
            if cached is not None:
                results[runtime.name] = cached
                until = min(until, fresh_until)
                continue
            until = -math.inf  # a fresh reading comes in: the next call looks again
            if loop is None:
                loop = asyncio.get_running_loop()
            outcome = runtime.start(loop, started)
            if isinstance(outcome, CheckResult):
                results[runtime.name] = outcome  # it landed since we looked
            else:
                runs.append((runtime, outcome))
        if runs:
            assert loop is not None
            limit = deadline if deadline is not None else self.deadline
            # The runs are shared: a caller cancelled here (a client gone)
            # or cut by the deadline leaves them running for the others.
            waiting = watch_all(loop, [run for _, run in runs], limit)
            if waiting is not None:
                waiter, timer = waiting
                try:
                    await waiter
                finally:
                    if timer is not None:
                        timer.cancel()
            for runtime, run in runs:
                results[runtime.name] = (
                    run.result if run.result is not None else _cut(runtime, limit)
                )
        return self._reports.assemble(
            probe,
            memo=selection,
            selected=selected,
            results=results,
            started=started,
            excluded=excluded,
            unmatched=unmatched,
            changes=changes,
            until=until,
        )

    def latest(
        self,
        probe: str | None = None,
        *,
        only: str | None = None,
        exclude: Iterable[str] = (),
    ) -> Report:
        """The report from the last readings, without running anything.

        For metrics scrapes and status pages: a check with no reading yet, or
        whose reading is past its max staleness, reads ``unknown``.
        """
        started = time.monotonic()
        selected, excluded, unmatched = self._select((probe, only, unique(exclude)))
        results = {rt.name: rt.peek(started) for rt in selected}
        return self._reports.assemble(
            probe,
            memo=None,
            selected=selected,
            results=results,
            started=started,
            excluded=excluded,
            unmatched=unmatched,
        )

    def uptime(self) -> float:
        """Seconds since this instance was created."""
        return time.monotonic() - self._started_monotonic

    # -- background polling and lifecycle -------------------------------------

    async def astart(self) -> None:
        """Start polling the checks that have an ``interval``, on the running loop."""
        if self._poller.running:
            return
        polled = [rt for rt in self._runtimes.values() if rt.spec.interval]
        if self._shared is not None:
            polled = self._shared.start(self._poller, polled)
        self._poller.start(polled)

    async def astop(self) -> None:
        """Stop polling and close the resources the checks opened (``aclose``/``close``)."""
        if self._shared is not None:
            await self._shared.stop()
        await self._poller.stop()
        for runtime in self._runtimes.values():
            abandon_calls(runtime)  # an abandoned check may honour a second cancellation
        for runtime in self._runtimes.values():
            await close_check(runtime)

    async def __aenter__(self) -> Health:
        await self.astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    @property
    def shared(self) -> SharedReadings | None:
        """The shared directory's state (``directory``, ``leading``), None without sharing."""
        return self._shared

    # -- internals --------------------------------------------------------------

    def _poll_added(self, runtime: CheckRuntime) -> None:
        if self._shared is None or not self._shared.add(runtime):
            self._poller.add(runtime)

    def _members(self, probe: str | None) -> list[CheckRuntime]:
        return members(self._runtimes.values(), self._probes, self._members_memo, probe)

    def _select(
        self, selection: Selection
    ) -> tuple[list[CheckRuntime], tuple[str, ...], tuple[str, ...]]:
        return select(self._members(selection[0]), selection)


def _cut(runtime: CheckRuntime, limit: float | None) -> CheckResult:
    """The result of a run still going at the deadline (it goes on, and is kept for later)."""
    unread = runtime.unread()
    if unread is not None:
        return unread  # a polled check's first reading is still to come: unknown, not failed
    return CheckResult(Status.FAIL, f"deadline of {limit:g} s exceeded")
