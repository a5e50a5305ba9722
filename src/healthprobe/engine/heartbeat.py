"""Pushed status: components that report on themselves instead of being polled.

A worker's best health signal is one it pushes ("I finished a unit of
work"), not one we poll.  Two checks hold pushed status:

* :class:`Heartbeat` has a deadline: ``health.beat("consumer")`` records a
  beat, and the check reads ``fail`` once no beat came within ``max_age``.
  Before the first beat it reads ``unknown`` for a grace period (liveness
  passes, readiness waits), then ``fail``.  An explicit failing beat
  (``ok=False``) is a *reported* failure, read at once, not silence.
* :class:`Reported` has none: a component that knows its own state (a
  consumer thread saying "reconnecting") calls ``health.report(name,
  status, reason)``; the last report stands until the next one.

Both take ``recover_after``: a reported failure reads healthy (``pass``,
the reported status kept in details) until the failure has lasted that
long, the time-based recovery grace of the OpenTelemetry Collector's
``recovery_duration``; a pass in between ends the streak.  A report with
``recoverable=False`` is read at once.

Beats come from worker threads, signal handlers and event loops alike, so
every write is thread-safe; a good beat is one attribute write (a tuple
holding ``time.monotonic()``), no lock.  The read is a pure function of the
last beat and the clock (:func:`read`), run on demand by the engine like any
check, with no I/O: probing a heartbeat costs no thread.

``Heartbeat(file=...)`` also keeps a file's modification time current for
exec probes (``healthprobe check --heartbeat-file PATH --max-age N``): each
beat that reads healthy touches it (at most once per ``touch_every``), and a
failing one sets it to the epoch, so a file-age probe fails at once too.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from typing import NamedTuple

from .errors import ConfigurationError, UnknownCheckError
from .result import CheckResult
from .status import Status

__all__ = ["Heartbeat", "PushedChecks", "PushedStatus", "Reported", "read"]

logger = logging.getLogger("healthprobe")


class Beat(NamedTuple):
    """The last thing a component pushed (immutable: replaced, never mutated)."""

    at: float  # time.monotonic() of the beat or report
    status: Status
    reason: str | None
    recoverable: bool
    failing_since: float | None  # monotonic start of the current failing streak
    deadline: bool = True  # False while paused: max_age does not apply


def _seconds(name: str, option: str, value: object, *, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < float("inf")
    ):
        raise ConfigurationError(
            f"check {name!r}: {option} must be a positive number of seconds, not {value!r}"
        )
    return float(value)


class PushedStatus:
    """The shared part of :class:`Heartbeat` and :class:`Reported`: what was pushed, and its read.

    ``max_age`` (seconds, or None for no deadline), ``grace`` (seconds of
    ``unknown`` before the first push, then ``fail``; None: forever
    ``unknown``), ``recover_after`` (see the module docstring).
    """

    component_type = "component"
    timeout = 1.0  # the read does no I/O; the bound only guards against a bug

    def __init__(
        self,
        name: str,
        *,
        max_age: float | None,
        grace: float | None,
        recover_after: float | None,
    ) -> None:
        self.name = name
        self.max_age = _seconds(name, "max_age", max_age, allow_none=True)
        self.grace = _seconds(name, "grace", grace, allow_none=True)
        self.recover_after = _seconds(name, "recover_after", recover_after, allow_none=True)
        self.created = time.monotonic()
        self._last: Beat | None = None
        self._count = itertools.count(1)  # next() is atomic in CPython: no lock for a count
        self.beats = 0
        self._lock = threading.Lock()  # only the failing path reads before it writes

    @property
    def last(self) -> Beat | None:
        """The last beat or report (None before the first)."""
        return self._last

    def beat(self, ok: bool = True, reason: str | None = None) -> None:
        """Record a beat now: a good one, or (``ok=False``) a reported failure with ``reason``."""
        if ok:
            self._last = Beat(time.monotonic(), Status.PASS, reason, True, None)
            self.beats = next(self._count)
            self._pushed(Status.PASS)
        else:
            self.report(Status.FAIL, reason or "reported failing")

    def pause(self, reason: str) -> None:
        """Suspend the deadline until the next beat: the component is idle on purpose.

        For a consumer that stopped consuming for a reason that is not a
        fault of the process (reconnecting to its broker, a graceful
        shutdown waiting for its work): silence then must not fail
        liveness and get the process restarted.  Reads ``pass``, "paused:
        ``reason``"; the next :meth:`beat` or :meth:`report` resumes.
        """
        self._last = Beat(time.monotonic(), Status.PASS, reason, True, None, deadline=False)
        self.beats = next(self._count)
        self._pushed(Status.PASS)

    def report(
        self, status: Status | str, reason: str | None = None, *, recoverable: bool = True
    ) -> None:
        """Record the component's own status (a :class:`Status` or a status word).

        A ``fail`` within ``recover_after`` of the first failure of its
        streak reads ``pass`` (unless ``recoverable`` is False); ``warn`` and
        ``unknown`` are read as they are.  Raises :class:`ValueError` for a
        word that is not a status (a typo must not read as healthy).
        """
        level = Status.parse(status)
        if level is Status.PASS:
            self.beat(True, reason)
            return
        with self._lock:
            now = time.monotonic()
            previous = self._last
            since = now
            if previous is not None and previous.failing_since is not None:
                since = previous.failing_since
            self._last = Beat(now, level, reason, recoverable, since)
            self.beats = next(self._count)
        self._pushed(read(self, now).status)

    def _pushed(self, reads: Status) -> None:
        """Hook after every push, with what the check reads now (the heartbeat file)."""

    async def acheck(self) -> CheckResult:
        """What the check reads now: see :func:`read`."""
        return read(self, time.monotonic())


def read(pushed: PushedStatus, now: float) -> CheckResult:
    """The reading of ``pushed`` at monotonic time ``now``; pure, no I/O.

    * nothing pushed yet: ``unknown`` within the grace period, ``fail`` after;
    * paused (:meth:`PushedStatus.pause`): ``pass``, whatever its age;
    * the last push older than ``max_age``: ``fail`` (silence);
    * a reported ``fail``: ``fail`` with its reason, or ``pass`` while a
      recoverable failure has lasted less than ``recover_after``;
    * otherwise the pushed status, with its age as the observed value.
    """
    last = pushed.last
    details: dict[str, object] = {"beats": pushed.beats}
    if pushed.max_age is not None:
        details["max_age_seconds"] = pushed.max_age
    if last is None:
        waited = now - pushed.created
        if pushed.grace is not None and waited > pushed.grace:
            return CheckResult(
                Status.FAIL,
                f"no beat since start {waited:.0f} s ago (grace {pushed.grace:g} s)",
                details=details,
            )
        return CheckResult(Status.UNKNOWN, "no beat yet", details=details)
    age = max(0.0, now - last.at)
    details["age_seconds"] = round(age, 3)
    if not last.deadline:
        details["paused"] = True
        return CheckResult(Status.PASS, f"paused: {last.reason}", details=details)
    if pushed.max_age is not None and age > pushed.max_age:
        return CheckResult(
            Status.FAIL,
            f"no beat for {age:.1f} s (max_age {pushed.max_age:g} s)",
            details=details,
            observed_value=round(age, 3),
            observed_unit="s",
        )
    status, text = last.status, last.reason or ""
    if status is Status.FAIL:
        text = text or "reported failing"
        limit = pushed.recover_after
        failing = now - (last.failing_since if last.failing_since is not None else last.at)
        details["failing_seconds"] = round(failing, 3)
        if last.recoverable and limit is not None and failing < limit:
            details["reported_status"] = Status.FAIL.value
            status = Status.PASS
            text = f"recovering for {failing:.0f} s (fails after {limit:g} s): {text}"
    elif status is Status.PASS and not text:
        text = f"last beat {age:.1f} s ago"
    return CheckResult(
        status, text, details=details, observed_value=round(age, 3), observed_unit="s"
    )


class Heartbeat(PushedStatus):
    """A check that fails when its component stops beating.

    ``health.add(Heartbeat("consumer", max_age=30))``, then
    ``health.beat("consumer")`` after each unit of work (from any thread).

    * ``max_age``: seconds a beat stays good; silence longer than that fails.
    * ``grace``: seconds of ``unknown`` before the first beat, then ``fail``
      (default: ``max_age``, so a worker that never starts is caught).
    * ``recover_after``: see :class:`PushedStatus`.
    * ``file``: a path whose modification time follows the beats, for exec
      probes; ``touch_every`` (default ``min(1, max_age / 4)``) bounds the
      ``utime`` calls a busy worker makes.
    """

    def __init__(
        self,
        name: str,
        *,
        max_age: float,
        grace: float | None = None,
        recover_after: float | None = None,
        file: str | os.PathLike[str] | None = None,
        touch_every: float | None = None,
    ) -> None:
        if max_age is None:
            raise ConfigurationError(f"check {name!r}: a Heartbeat needs max_age (seconds)")
        super().__init__(
            name,
            max_age=max_age,
            grace=grace if grace is not None else max_age,
            recover_after=recover_after,
        )
        self.file = os.fspath(file) if file is not None else None
        every = _seconds(name, "touch_every", touch_every, allow_none=True)
        self.touch_every = every if every is not None else min(1.0, float(max_age) / 4)
        self._touched = -float("inf")
        self._file_failed = False
        self._file_warned = False

    def _pushed(self, reads: Status) -> None:
        path = self.file
        if path is None:
            return
        now = time.monotonic()
        failing = reads is Status.FAIL
        if failing == self._file_failed and (failing or now - self._touched < self.touch_every):
            return  # already marked failing, or touched recently enough
        try:
            if failing:
                os.utime(path, (0, 0))  # an ancient file: a file-age probe fails at once
            else:
                try:
                    os.utime(path)
                except FileNotFoundError:
                    with open(path, "a"):  # create it; an existing file is never truncated
                        pass
        except OSError as exc:
            if not self._file_warned:  # once: a beat must never raise into the worker
                self._file_warned = True
                logger.warning(
                    "healthprobe: heartbeat %s cannot touch its file: %s",
                    self.name,
                    exc.strerror or type(exc).__name__,
                )
            return
        self._touched = now
        self._file_failed = failing


class Reported(PushedStatus):
    """A check whose status its component reports: ``health.report(name, status, reason)``.

    No deadline: the last report stands until the next.  Before the first it
    reads ``unknown`` (liveness passes, readiness waits), or, with ``grace``,
    ``fail`` once that many seconds have passed without one.
    """

    def __init__(
        self, name: str, *, grace: float | None = None, recover_after: float | None = None
    ) -> None:
        super().__init__(name, max_age=None, grace=grace, recover_after=recover_after)


class PushedChecks:
    """The push side of :class:`~healthprobe.Health`: ``beat``, ``abeat`` and ``report``.

    A mixin: the registry sets ``_pushed = {}`` and calls
    :meth:`_register_pushed` for every check it adds; these methods look the
    name up in that one dict.
    """

    _pushed: dict[str, PushedStatus]

    def _register_pushed(self, name: str, check: object) -> None:
        if isinstance(check, PushedStatus):
            self._pushed[name] = check

    def _pushed_check(self, name: str) -> PushedStatus:
        try:
            return self._pushed[name]
        except KeyError:
            raise UnknownCheckError(name) from None

    def beat(self, name: str, ok: bool = True, reason: str | None = None) -> None:
        """Record a beat of the :class:`Heartbeat` (or :class:`Reported`) named ``name``.

        ``ok=False`` reports a failure with ``reason`` (read at once, unlike
        silence).  Thread-safe and cheap: call it after every unit of work.
        Raises :class:`~healthprobe.UnknownCheckError` for a name that is not
        a registered pushed check.
        """
        self._pushed_check(name).beat(ok, reason)

    async def abeat(self, name: str, ok: bool = True, reason: str | None = None) -> None:
        """:meth:`beat` for async code (it never blocks, so it is the same call)."""
        self._pushed_check(name).beat(ok, reason)

    def report(
        self,
        name: str,
        status: Status | str,
        reason: str | None = None,
        *,
        recoverable: bool = True,
    ) -> None:
        """Record the status a component reports on itself (see :meth:`PushedStatus.report`)."""
        self._pushed_check(name).report(status, reason, recoverable=recoverable)
