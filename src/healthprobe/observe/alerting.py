"""Noise control for notifiers: when a status change is worth telling someone.

Probing and alerting are different jobs.  ``failure_threshold`` damps what
the probes *answer*; an :class:`AlertPolicy` damps only what a notifier
*sends* (a webhook, a chat message, a page), and never changes a probe's
answer.  It sits between :class:`~healthprobe.observe.notify.StatusChanges`
and one notifier:

* ``notify_after``: a failure is told only once it held for N consecutive
  readings (an ``int``) or for a while (a ``timedelta``); a failure that
  recovers sooner is never told, and neither is its recovery.
* ``resolve_after``: likewise for the recovery of a failure that was told;
  a relapse in the meantime keeps the incident open, silently.
* ``remind_every``: while a told failure lasts, tell it again (``reminder``).
* ``maintenance``: :class:`MaintenanceWindow` schedules, and :meth:`silence`
  until a time, during which new failures and reminders are held back.  A
  failure still present when the silence ends is told on the next reading.
  Recoveries are always told, so an incident opened before the window
  closes when the dependency comes back.
* ``network_guard``: a :class:`NetworkGuard` — when its sentinel check and
  every one of its network checks fail, one ``network`` failure is told
  instead of one per dependency (and the probes' and overall failures it
  explains are held back), and its recovery when the sentinel passes.

Counting readings needs the readings: use :meth:`AlertPolicy.attach`.  The
deliver callback may be called from the event loop that produced a reading
or from a timer thread; it must be thread-safe and must not block (the
webhook notifier only queues).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from healthprobe.engine.sanitize import describe_exception
from healthprobe.engine.status import Status

from .notify import Event, Scope, StatusChange, StatusChanges

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.runtime import Reading

__all__ = ["AlertPolicy", "MaintenanceWindow", "NetworkGuard"]

logger = logging.getLogger("healthprobe")

Deliver = Callable[[StatusChange], object]
Key = tuple[Scope, str]


@dataclasses.dataclass(frozen=True)
class MaintenanceWindow:
    """A recurring window: from ``start`` (a time of day in ``tz``) for ``duration``.

    ``weekdays`` (0 = Monday) are the days a window may *start* on; a window
    may run past midnight.
    """

    start: dt.time
    duration: dt.timedelta
    weekdays: frozenset[int] = frozenset(range(7))
    tz: dt.tzinfo = dt.timezone.utc

    def __post_init__(self) -> None:
        if not dt.timedelta(0) < self.duration <= dt.timedelta(days=7):
            raise ValueError("maintenance window duration must be between 0 and 7 days")
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            raise ValueError("maintenance window weekdays must be numbers 0 (Monday) to 6")

    def active(self, moment: dt.datetime) -> bool:
        """True when ``moment`` (aware) falls inside one occurrence of the window."""
        local = moment.astimezone(self.tz)
        days_back = self.duration.days + 1
        for back in range(days_back + 1):
            day = local.date() - dt.timedelta(days=back)
            if day.weekday() not in self.weekdays:
                continue
            opened = dt.datetime.combine(day, self.start, tzinfo=self.tz)
            if opened <= local < opened + self.duration:
                return True
        return False


@dataclasses.dataclass(frozen=True)
class NetworkGuard:
    """Tell one ``network`` failure when ``sentinel`` and all of ``checks`` fail at once.

    ``sentinel`` is a check that only fails when this process's own network
    does (the default gateway, the cluster DNS); ``checks`` are the network
    dependencies whose simultaneous failure it explains.  A failure of any
    of them waits at least ``settle`` seconds before it is told, so that the
    others' readings can arrive and the guard can see them fail together.
    """

    sentinel: str
    checks: frozenset[str]
    name: str = "network"
    settle: float = 1.0

    def __init__(
        self,
        sentinel: str,
        checks: Iterable[str],
        *,
        name: str = "network",
        settle: float = 1.0,
    ) -> None:
        members = frozenset(checks)
        if not sentinel or not members or sentinel in members:
            raise ValueError("network guard needs a sentinel and other network checks")
        if not 0 <= settle <= 3600:
            raise ValueError("network guard settle must be 0 to 3600 seconds")
        object.__setattr__(self, "sentinel", sentinel)
        object.__setattr__(self, "checks", members)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "settle", float(settle))

    def covers(self, key: tuple[str, str]) -> bool:
        """True for the sentinel, the network checks, and every probe and the overall
        status (a network outage fails those too)."""
        scope, name = key
        return scope != "check" or name == self.sentinel or name in self.checks


@dataclasses.dataclass(frozen=True)
class _Gate:
    readings: int
    seconds: float

    @classmethod
    def of(cls, value: int | dt.timedelta, option: str) -> _Gate:
        if isinstance(value, dt.timedelta):
            seconds = value.total_seconds()
            if seconds < 0:
                raise ValueError(f"{option} must not be negative")
            return cls(1, seconds)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{option} must be a number of readings >= 1 or a timedelta")
        return cls(value, 0.0)


class _Track:
    """What one notifier has told, and is about to tell, of one check or probe."""

    __slots__ = (
        "alerted",
        "count",
        "pending",
        "reminder",
        "since",
        "suppressed",
        "timer",
        "wait",
    )

    def __init__(self) -> None:
        self.alerted: StatusChange | None = None  # a failure told and not yet resolved
        self.pending: StatusChange | None = None  # a change waiting for its gate
        self.suppressed: StatusChange | None = None  # a failure held back by a silence
        self.count = 0  # readings that agreed with the pending change, its own included
        self.since = 0.0
        self.wait = 0.0  # seconds the pending change must last
        self.timer: threading.Timer | None = None
        self.reminder: threading.Timer | None = None


class AlertPolicy:
    """Decides which status changes reach ``deliver``; see the module docstring."""

    def __init__(
        self,
        deliver: Deliver,
        *,
        notify_after: int | dt.timedelta = 1,
        resolve_after: int | dt.timedelta = 1,
        remind_every: dt.timedelta | None = None,
        maintenance: Iterable[MaintenanceWindow] = (),
        network_guard: NetworkGuard | None = None,
    ) -> None:
        self._deliver = deliver
        self._notify = _Gate.of(notify_after, "notify_after")
        self._resolve = _Gate.of(resolve_after, "resolve_after")
        if remind_every is not None and remind_every.total_seconds() <= 0:
            raise ValueError("remind_every must be a positive timedelta")
        self._remind = None if remind_every is None else remind_every.total_seconds()
        self._windows = tuple(maintenance)
        self._guard = network_guard
        self._silenced_until: dt.datetime | None = None
        self._tracks: dict[Key, _Track] = {}
        self._lock = threading.RLock()
        self._changes: StatusChanges | None = None
        self._network_down = False
        self._closed = False

    # -- wiring --------------------------------------------------------------------

    def attach(
        self, health: Health, *, scopes: tuple[Scope, ...] = ("check", "overall")
    ) -> AlertPolicy:
        """Take ``health``'s status changes in ``scopes`` and count its readings."""
        self._changes = StatusChanges.of(health)
        self._changes.subscribe(self, scopes=scopes)
        health.add_listener(self._on_reading)  # after StatusChanges': its status is current
        return self

    def silence(self, until: dt.datetime) -> None:
        """Hold back new failures and reminders until ``until`` (aware datetime)."""
        if until.tzinfo is None:
            raise ValueError("silence until an aware datetime (with a timezone)")
        with self._lock:
            self._silenced_until = until

    def silenced(self, moment: dt.datetime | None = None) -> bool:
        """True while a silence or a maintenance window is in force."""
        moment = moment or dt.datetime.now(dt.timezone.utc)
        until = self._silenced_until
        if until is not None and moment < until:
            return True
        return any(window.active(moment) for window in self._windows)

    def close(self) -> None:
        """Cancel every timer (pending gates, reminders); nothing is told afterwards."""
        with self._lock:
            self._closed = True
            for track in self._tracks.values():
                _cancel(track.timer)
                _cancel(track.reminder)
                track.timer = track.reminder = None

    # -- changes -------------------------------------------------------------------

    def __call__(self, change: StatusChange) -> None:
        """The StatusChanges subscriber entry point."""
        key = (change.scope, change.name)
        with self._lock:
            track = self._track(key)
            if change.event == "recovered":
                track.suppressed = None
                if track.alerted is None and self._is_down_sentinel(key):
                    self._clear(track)  # its failure was told as the network's
                    self._after_recovery(key)
                    return
                if track.alerted is None:  # never told: forget it, and its recovery
                    self._clear(track)
                    return
                self._pend(track, change, self._resolve)
            else:
                if track.pending is not None and track.pending.event == "recovered":
                    self._clear(track)  # the recovery did not hold: the incident stays open
                if track.alerted is not None and track.alerted.current is change.current:
                    return  # already told
                self._pend(track, change, self._notify)
            self._release_if_due(key, track)

    def _on_reading(self, reading: Reading) -> None:
        changes = self._changes
        if changes is None:
            return
        with self._lock:
            for key, track in list(self._tracks.items()):
                scope, name = key
                if scope == "check" and name != reading.name:
                    continue
                status = changes.status(scope, name)
                if track.pending is not None:
                    if _agrees(track.pending, status):
                        track.count += 1
                    self._release_if_due(key, track)
                elif track.suppressed is not None and not self.silenced():
                    held, track.suppressed = track.suppressed, None
                    if status is not None and status is not Status.PASS:
                        self._pend(track, held, self._notify)
                        track.count = 1  # this reading
                        self._release_if_due(key, track)

    # -- gates ---------------------------------------------------------------------

    def _pend(self, track: _Track, change: StatusChange, gate: _Gate) -> None:
        # The reading that caused the change is counted by _on_reading, which
        # runs right after the change detector (whose listener came first).
        _cancel(track.timer)
        track.pending, track.count, track.since = change, 0, time.monotonic()
        track.timer = None
        key = (change.scope, change.name)
        track.wait = gate.seconds
        guard = self._guard
        if guard is not None and change.event != "recovered" and guard.covers(key):
            track.wait = max(track.wait, guard.settle)
        if track.wait > 0 and not self._closed:
            timer = threading.Timer(track.wait, self._on_timer, (key, change))
            timer.daemon = True
            track.timer = timer
            timer.start()

    def _on_timer(self, key: Key, change: StatusChange) -> None:
        with self._lock:
            track = self._tracks.get(key)
            if track is not None and track.pending is change:
                self._release_if_due(key, track)

    def _release_if_due(self, key: Key, track: _Track) -> None:
        change = track.pending
        if change is None or self._closed:
            return
        gate = self._resolve if change.event == "recovered" else self._notify
        if track.count < gate.readings or time.monotonic() - track.since < track.wait:
            return
        self._clear(track)
        self._tell(key, track, change)

    def _clear(self, track: _Track) -> None:
        _cancel(track.timer)
        track.pending, track.timer, track.count = None, None, 0

    # -- telling -------------------------------------------------------------------

    def _tell(self, key: Key, track: _Track, change: StatusChange) -> None:
        if change.event == "recovered":
            track.alerted = None
            _cancel(track.reminder)
            track.reminder = None
            self._send(change)
            self._after_recovery(key)
            return
        if self.silenced():
            track.suppressed = change
            return
        if self._guarded(key, change):
            return
        track.alerted = change
        self._send(change)
        self._schedule_reminder(key, track)

    def _send(self, change: StatusChange) -> None:
        try:
            self._deliver(change)
        except Exception as exc:  # a notifier's bug must not break the probe
            logger.error("healthprobe: an alert delivery failed: %s", describe_exception(exc))

    def _schedule_reminder(self, key: Key, track: _Track) -> None:
        _cancel(track.reminder)
        track.reminder = None
        if self._remind is None or self._closed:
            return
        timer = threading.Timer(self._remind, self._on_reminder, (key,))
        timer.daemon = True
        track.reminder = timer
        timer.start()

    def _on_reminder(self, key: Key) -> None:
        with self._lock:
            track = self._tracks.get(key)
            if track is None or track.alerted is None or self._closed:
                return
            now = dt.datetime.now(dt.timezone.utc)
            if not self.silenced(now):
                self._send(dataclasses.replace(track.alerted, time=now, reminder=True))
            self._schedule_reminder(key, track)

    # -- the network guard ------------------------------------------------------------

    def _guarded(self, key: Key, change: StatusChange) -> bool:
        """True when ``change`` is told as (or swallowed by) a network failure."""
        guard, changes = self._guard, self._changes
        if guard is None or changes is None or not guard.covers(key):
            return False
        if self._network_down:
            return True  # part of the network failure already told
        names = (guard.sentinel, *guard.checks)
        if any(changes.status("check", member) is not Status.FAIL for member in names):
            return False
        self._network_down = True
        reason = (
            f"this process's network looks down: {guard.sentinel} and all "
            f"{len(guard.checks)} network checks fail"
        )
        self._send(
            StatusChange(
                "check", guard.name, "failed", Status.PASS, Status.FAIL, change.time, True, reason
            )
        )
        for other, track in self._tracks.items():  # told as one: the rest wait for the recovery
            if guard.covers(other) and other != key:
                track.suppressed = None
                self._clear(track)
        return True

    def _is_down_sentinel(self, key: Key) -> bool:
        guard = self._guard
        return self._network_down and guard is not None and key == ("check", guard.sentinel)

    def _after_recovery(self, key: Key) -> None:
        guard, changes = self._guard, self._changes
        if guard is None or changes is None or not self._is_down_sentinel(key):
            return
        self._network_down = False
        now = dt.datetime.now(dt.timezone.utc)
        self._send(
            StatusChange("check", guard.name, "recovered", Status.FAIL, Status.PASS, now, True)
        )
        # A network check still failing on its own is told on its next reading.  Probes and
        # the overall status are told on their next change: mid-round, before every check's
        # reading came in, their status would still show the outage.
        for member in guard.checks:
            status = changes.status("check", member)
            if status is not None and status is not Status.PASS:
                event: Event = "failed" if status is Status.FAIL else "degraded"
                self._track(("check", member)).suppressed = StatusChange(
                    "check", member, event, None, status, now
                )

    def _track(self, key: Key) -> _Track:
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track()
        return track


def _agrees(pending: StatusChange, status: Status | None) -> bool:
    if status is None:
        return False
    if pending.event == "recovered":
        return status is Status.PASS
    return status is not Status.PASS


def _cancel(timer: threading.Timer | None) -> None:
    if timer is not None:
        timer.cancel()
