"""The process's own state (started, draining, marked not ready, broken) and its effect on probes.

The engine knows only checks; whether the *process* may take traffic is a
separate fact that the server integration sets: startup finished, a SIGTERM
arrived (draining), an operator marked it not ready, the application marked
itself broken.  :class:`Lifecycle` holds that state (thread-safe: a signal
handler, a request and a background thread may all touch it), and
:func:`apply_lifecycle` is the pure function that folds it into an engine
:class:`Report` the way the Kubernetes API server does: as synthetic checks
(``[-]lifecycle/shutdown failed``) that fail the probe they belong to.

It also counts work in flight ("beacons", after Lightship):
``with health.lifecycle.work("job"):`` (or ``async with``) marks a unit of
work that shutdown should wait for.  The count is not part of the probes'
verdict; the serving layer waits for it to reach zero (up to a cap) before
shutting down (see :mod:`healthprobe.http.serve`), and ``/metrics`` shows it
as ``healthprobe_work_in_flight``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterable
from types import TracebackType

from .report import CheckReport, Report
from .result import CheckResult
from .sanitize import sanitize
from .status import Status

__all__ = ["LIFECYCLE_CHECKS", "Lifecycle", "LifecycleState", "Work", "apply_lifecycle"]

# Check names cannot contain "/", so these can never collide with a user's check
# (the Kubernetes API server names its own synthetic checks "poststarthook/...").
STARTUP = "lifecycle/startup"
SHUTDOWN = "lifecycle/shutdown"
MARKED = "lifecycle/ready"
BROKEN = "lifecycle/live"

#: The synthetic checks each probe carries (``None``: the full ``/health`` report).
LIFECYCLE_CHECKS: dict[str | None, tuple[str, ...]] = {
    "live": (BROKEN,),
    "ready": (STARTUP, SHUTDOWN, MARKED),
    "startup": (STARTUP,),
    None: (STARTUP, SHUTDOWN, MARKED, BROKEN),
}

# One object per outcome: renderers cache on the identity of results, so an
# unchanged lifecycle must hand out the very same objects on every request.
_OK = CheckResult(Status.PASS, component_type="system")
_NOT_STARTED = CheckResult(Status.FAIL, "startup has not finished", component_type="system")
_DRAINING = CheckResult(Status.FAIL, "draining: shutting down", component_type="system")
_MARKED_NOT_READY = CheckResult(Status.FAIL, "marked not ready", component_type="system")


@dataclasses.dataclass(frozen=True)
class LifecycleState:
    """A consistent snapshot of :class:`Lifecycle`."""

    started: bool = False
    draining: bool = False
    marked_not_ready: bool = False
    broken: CheckResult | None = None  # the failing result while broken, else None

    def result(self, name: str) -> CheckResult:
        """The synthetic result of the lifecycle check ``name``."""
        if name == STARTUP:
            return _OK if self.started else _NOT_STARTED
        if name == SHUTDOWN:
            return _DRAINING if self.draining else _OK
        if name == MARKED:
            return _MARKED_NOT_READY if self.marked_not_ready else _OK
        if name == BROKEN:
            return self.broken if self.broken is not None else _OK
        raise KeyError(name)


class Lifecycle:
    """The process state the probes add to the checks' verdict.

    * readiness passes only when started, not draining and not marked not ready;
    * liveness fails only while marked broken;
    * startup passes once started.

    Every method is thread-safe and cheap; :attr:`state` is an immutable
    snapshot, replaced (never mutated) on each change.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = LifecycleState()
        self._idle = threading.Condition(threading.Lock())  # guards the work counts
        self._work: dict[str, int] = {}
        self._in_flight = 0

    @property
    def state(self) -> LifecycleState:
        """The current snapshot (an attribute read: safe from any thread)."""
        return self._state

    @property
    def started(self) -> bool:
        return self._state.started

    @property
    def draining(self) -> bool:
        return self._state.draining

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._state = dataclasses.replace(self._state, **changes)  # type: ignore[arg-type]  # keyword names checked by dataclasses at run time

    def mark_started(self) -> None:
        """The application's startup has finished: startup passes, readiness may pass."""
        self._update(started=True)

    def begin_drain(self) -> None:
        """Shutting down: readiness fails from now on; liveness is unaffected."""
        self._update(draining=True)

    def end_drain(self) -> None:
        """Serving again (a new lifespan of the same application, as in tests)."""
        self._update(draining=False)

    def mark_not_ready(self) -> None:
        """Take the process out of rotation by hand (readiness fails) until :meth:`mark_ready`."""
        self._update(marked_not_ready=True)

    def mark_ready(self) -> None:
        """Undo :meth:`mark_not_ready` (the checks and other states still apply)."""
        self._update(marked_not_ready=False)

    def mark_broken(self, reason: str) -> None:
        """Liveness fails with ``reason`` (sanitized; shown only where details are allowed)."""
        text = sanitize(reason) or "marked broken"
        self._update(broken=CheckResult(Status.FAIL, text, component_type="system"))

    def mark_fixed(self) -> None:
        """Undo :meth:`mark_broken`."""
        self._update(broken=None)

    # -- work in flight ("beacons") ------------------------------------------------

    def work(self, name: str = "work") -> Work:
        """A context manager (``with`` or ``async with``) marking one unit of work in flight.

        While it is open, a graceful shutdown waits (up to its cap) instead
        of cutting the work short; ``name`` groups the counts
        (:meth:`in_flight_by_name`).  Work may begin while draining: it is
        counted like any other, so stop *claiming* work when
        :attr:`draining` turns true.  Thread-safe; each instance is used
        once.
        """
        return Work(self, name)

    @property
    def in_flight(self) -> int:
        """Units of work open now (an attribute read: safe from any thread)."""
        return self._in_flight

    def in_flight_by_name(self) -> dict[str, int]:
        """The open units of work per name (names with none are left out)."""
        with self._idle:
            return dict(self._work)

    def _begin_work(self, name: str) -> None:
        with self._idle:
            self._work[name] = self._work.get(name, 0) + 1
            self._in_flight += 1

    def _end_work(self, name: str) -> None:
        with self._idle:
            left = self._work.get(name, 0) - 1
            if left > 0:
                self._work[name] = left
            else:
                self._work.pop(name, None)
            self._in_flight = max(0, self._in_flight - 1)
            if self._in_flight == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is in flight, or ``timeout`` seconds; True when idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    async def await_idle(self, timeout: float | None = None, *, poll: float = 0.05) -> bool:
        """:meth:`wait_idle` for a coroutine: look every ``poll`` seconds, never block the loop."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._in_flight:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                await asyncio.sleep(min(poll, left))
            else:
                await asyncio.sleep(poll)
        return True


class Work:
    """One unit of work in flight; see :meth:`Lifecycle.work`."""

    __slots__ = ("_lifecycle", "_open", "name")

    def __init__(self, lifecycle: Lifecycle, name: str) -> None:
        self._lifecycle = lifecycle
        self.name = name
        self._open = False

    def __enter__(self) -> Work:
        if self._open:
            raise RuntimeError(f"work {self.name!r} is already open")
        self._open = True
        self._lifecycle._begin_work(self.name)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._open:
            self._open = False
            self._lifecycle._end_work(self.name)

    async def __aenter__(self) -> Work:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def apply_lifecycle(
    report: Report,
    state: LifecycleState,
    *,
    exclude: Iterable[str] = (),
) -> Report:
    """Return ``report`` with the lifecycle's synthetic checks of its probe added.

    The synthetic checks come after the registered ones and are critical: a
    failing one fails the probe (``status`` and ``verdict``).  Names in
    ``exclude`` are skipped and listed as excluded (they were unmatched for
    the engine, which does not know them).  A custom probe (group) is returned
    unchanged.  Pure: same inputs, same output.
    """
    names = LIFECYCLE_CHECKS.get(report.probe, ()) if _builtin(report.probe) else ()
    if not names:
        return report
    skip = set(exclude)
    synthetic = {n: CheckReport(n, True, state.result(n)) for n in names if n not in skip}
    checks = {**report.checks, **synthetic}
    status, verdict = report.status, report.verdict
    if any(c.result.status is Status.FAIL for c in synthetic.values()):
        status = verdict = Status.FAIL
    taken = tuple(n for n in names if n in skip)
    return dataclasses.replace(
        report,
        status=status,
        verdict=verdict,
        checks=checks,
        excluded=report.excluded + taken,
        unmatched_excludes=tuple(n for n in report.unmatched_excludes if n not in taken),
    )


def _builtin(probe: str | None) -> bool:
    return probe is None or probe in ("live", "ready", "startup")
