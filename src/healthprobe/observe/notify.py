"""Status *changes*: detected once from the engine's readings, handed to subscribers.

The engine reports every new reading (:meth:`Health.add_listener`);
operators care about changes.  :class:`StatusChanges` turns readings into
:class:`StatusChange` events, per check and per probe (and for the overall
report), and calls its subscribers: plain callables inline, coroutine
functions as tasks on the loop that produced the reading.  The transition log
and the webhook notifier are subscribers like any other.

The rules, the same for a check and for a probe:

* a first status of ``pass`` is recorded silently (a quiet start);
* a change to ``fail`` is ``failed``, a change to ``warn`` (or ``unknown``
  for a check) is ``degraded``; the outage starts at the first of these;
* a change back to ``pass`` is ``recovered``, carrying the outage's length;
* a probe is judged only once each of its checks has had a reading (at
  startup the checks' first readings arrive one by one), and a probe's
  ``unknown`` (a critical check gone stale) is no event.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from healthprobe.engine.sanitize import describe_exception
from healthprobe.engine.status import Status

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.report import Report
    from healthprobe.engine.runtime import Reading

__all__ = ["ChangeCallback", "Scope", "StatusChange", "StatusChanges"]

logger = logging.getLogger("healthprobe")

Scope = Literal["check", "probe", "overall"]
Event = Literal["failed", "degraded", "recovered"]
ChangeCallback = Callable[["StatusChange"], Awaitable[None] | None]

#: The name an overall (every check, ``/health``) change carries.
OVERALL = "health"

_shared: weakref.WeakKeyDictionary[Health, StatusChanges] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class StatusChange:
    """One change of status of a check, a probe, or the overall report.

    ``event`` is ``failed``, ``degraded`` or ``recovered``; ``previous`` is
    None for a first reading that was not a pass.  ``outage_seconds`` (on
    ``recovered`` only) is the time since the status first left ``pass``.
    ``reason`` is the check's output, already sanitized by the engine (empty
    for probes); show it only where your details policy allows.  ``reminder``
    marks a failure told again because it still lasts (``remind_every``).
    """

    scope: Scope
    name: str
    event: Event
    previous: Status | None
    current: Status
    time: dt.datetime
    critical: bool = True
    reason: str = ""
    outage_seconds: float | None = None
    reminder: bool = False

    def describe(self, *, with_reason: bool = True) -> str:
        """One line for a log or a chat message: ``check db failed: <reason>``."""
        what = "overall health" if self.scope == "overall" else f"{self.scope} {self.name}"
        text = f"{what} {self.event}"
        if self.event == "degraded":
            text += f" ({self.current.value})"
        if self.reminder:
            text += " (still, reminder)"
        if self.outage_seconds is not None:
            text += f" after {self.outage_seconds:.1f} s"
        if with_reason and self.reason and self.event != "recovered":
            text += f": {self.reason}"
        return text


class _State:
    __slots__ = ("outage_since", "status")

    def __init__(self) -> None:
        self.status: Status | None = None
        self.outage_since: dt.datetime | None = None


class StatusChanges:
    """Detects status changes of ``health`` and calls the subscribers.

    Use :meth:`of` for the instance shared by every observer of a
    :class:`~healthprobe.Health` (created and attached on first use).
    Subscribers run in the event loop that produced the reading and must not
    block: a sync subscriber is called inline, an async one is scheduled as a
    task.  A subscriber that raises is logged (sanitized, no traceback) and
    the others still run.
    """

    def __init__(self, health: Health) -> None:
        self._health = weakref.ref(health)
        self._states: dict[tuple[Scope, str], _State] = {}
        self._subscribers: list[tuple[ChangeCallback, frozenset[Scope]]] = []
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        health.add_listener(self._on_reading)

    @classmethod
    def of(cls, health: Health) -> StatusChanges:
        """The change detector shared by every observer of ``health``."""
        with _shared_lock:
            changes = _shared.get(health)
            if changes is None:
                changes = _shared[health] = cls(health)
            return changes

    def subscribe(
        self,
        callback: ChangeCallback,
        *,
        scopes: tuple[Scope, ...] = ("check", "probe", "overall"),
    ) -> ChangeCallback:
        """Call ``callback(change)`` on every change in ``scopes``; returns ``callback``."""
        bad = set(scopes) - {"check", "probe", "overall"}
        if bad:
            raise ValueError(f"unknown scope(s) {sorted(bad)}: use check, probe or overall")
        with self._lock:
            self._subscribers.append((callback, frozenset(scopes)))
        return callback

    def unsubscribe(self, callback: ChangeCallback) -> None:
        """Stop calling ``callback``; one that was never subscribed is ignored."""
        with self._lock:
            self._subscribers = [(cb, s) for cb, s in self._subscribers if cb != callback]

    def status(self, scope: Scope, name: str) -> Status | None:
        """The last status seen for ``(scope, name)``, None before the first one."""
        with self._lock:
            state = self._states.get((scope, name))
            return None if state is None else state.status

    # -- detection ------------------------------------------------------------

    def _on_reading(self, reading: Reading) -> None:
        current = reading.current
        when = current.time or dt.datetime.now(dt.timezone.utc)
        observed: list[tuple[Scope, str, Status, bool, str]] = [
            ("check", reading.name, current.status, reading.critical, current.output)
        ]
        health = self._health()
        if health is not None:
            probes = health.spec(reading.name).probes
            for probe in health.probes:
                if probe in probes:
                    report = health.latest(probe)
                    if _complete(report):
                        observed.append(("probe", probe, report.status, True, ""))
            overall = health.latest()
            if _complete(overall):
                observed.append(("overall", OVERALL, overall.status, True, ""))
        with self._lock:
            changes = [
                change
                for scope, name, status, critical, reason in observed
                if (
                    change := self._advance(
                        scope, name, status, when=when, critical=critical, reason=reason
                    )
                )
            ]
            subscribers = tuple(self._subscribers)
        if reading.host is not None:
            return  # taken by this host's leader, which reports the change once for the host
        for change in changes:
            for callback, scopes in subscribers:
                if change.scope in scopes:
                    self._call(callback, change)

    def _advance(
        self,
        scope: Scope,
        name: str,
        status: Status,
        *,
        when: dt.datetime,
        critical: bool,
        reason: str,
    ) -> StatusChange | None:
        if scope != "check" and status is Status.UNKNOWN:
            return None
        state = self._states.get((scope, name))
        if state is None:
            state = self._states[(scope, name)] = _State()
        previous = state.status
        if status is previous:
            return None
        state.status = status
        if status is Status.PASS:
            since, state.outage_since = state.outage_since, None
            if previous is None or since is None:
                return None
            outage = max(0.0, (when - since).total_seconds())
            return StatusChange(
                scope, name, "recovered", previous, status, when, critical, "", outage
            )
        if state.outage_since is None:
            state.outage_since = when
        event: Event = "failed" if status is Status.FAIL else "degraded"
        return StatusChange(scope, name, event, previous, status, when, critical, reason)

    # -- dispatch ---------------------------------------------------------------

    def _call(self, callback: ChangeCallback, change: StatusChange) -> None:
        try:
            outcome = callback(change)
            if inspect.isawaitable(outcome):
                task = asyncio.ensure_future(outcome)
                self._tasks.add(task)  # keep a reference until it is done
                task.add_done_callback(self._finished)
        except Exception as exc:  # a subscriber's bug must not break the probe
            logger.error(
                "healthprobe: a status-change subscriber failed: %s", describe_exception(exc)
            )

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error(
                "healthprobe: a status-change subscriber failed: %s", describe_exception(error)
            )


def _complete(report: Report) -> bool:
    """True when every check of ``report`` has had a reading (a stale one counts)."""
    return all(check.result.time is not None for check in report.checks.values())
