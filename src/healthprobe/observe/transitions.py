"""Transition logs: one log record per change of status, never one per probe.

A kubelet polls every few seconds; logging each probe would bury the one
line that matters.  :class:`TransitionLog` subscribes to the shared
:class:`~healthprobe.observe.notify.StatusChanges` of a ``Health`` and writes one
record on logger ``healthprobe`` when a check, a probe or the overall status
fails, degrades or recovers (with the outage's length).  A recovery is logged
at the level its failure had: an operator who sees the ``ERROR`` (or the
``WARNING``) with default logging sees the recovery too.  While the service
drains on shutdown, its dependencies going away is expected: those records
drop to a quiet level instead of flooding the error log.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from healthprobe.engine.status import Status

from .notify import Scope, StatusChange, StatusChanges

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["DEFAULT_LEVELS", "TransitionLog"]

logger = logging.getLogger("healthprobe")

#: Level per event.  ``failed_noncritical`` is a non-critical check's failure
#: (it only degrades the service); ``draining`` replaces every level while the
#: service drains.  ``recovered`` at ``logging.NOTSET`` (the default) means "at
#: the level of the failure it ends" (the worst level logged during the outage);
#: any other level is used as it is.
DEFAULT_LEVELS: Mapping[str, int] = {
    "failed": logging.ERROR,
    "failed_noncritical": logging.WARNING,
    "degraded": logging.WARNING,
    "recovered": logging.NOTSET,
    "draining": logging.DEBUG,
}

_shared: weakref.WeakKeyDictionary[Health, TransitionLog] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


class TransitionLog:
    """Writes status transitions of ``health`` to logger ``healthprobe``.

    Parameters:
        levels: overrides of :data:`DEFAULT_LEVELS` (``{"failed": logging.CRITICAL}``).
        draining: a callable that says whether the service is draining; by
            default ``health.lifecycle.draining`` (set by the HTTP layer on
            SIGTERM).  :meth:`set_draining` is the alternative for code that
            holds the flag itself.
        scopes: which changes to log (default: checks and the overall status;
            add ``"probe"`` for one record per probe too).
        with_reasons: include the check's (sanitized) reason in the record.

    Each record carries ``extra`` fields for structured logging:
    ``healthprobe_event``, ``healthprobe_scope``, ``healthprobe_name``,
    ``healthprobe_status`` and ``healthprobe_outage_seconds``.
    """

    def __init__(
        self,
        health: Health,
        *,
        levels: Mapping[str, int] | None = None,
        draining: Callable[[], bool] | None = None,
        scopes: tuple[Scope, ...] = ("check", "overall"),
        with_reasons: bool = True,
    ) -> None:
        unknown = set(levels or {}) - set(DEFAULT_LEVELS)
        if unknown:
            raise ValueError(f"unknown transition level(s) {sorted(unknown)}")
        self.levels = {**DEFAULT_LEVELS, **(levels or {})}
        if draining is None:
            # The lifecycle, not the Health: the shared registries hold their
            # subscribers for as long as the Health lives, so they must not
            # hold the Health itself.
            lifecycle = health.lifecycle

            def draining() -> bool:
                return lifecycle.draining

        self._draining_source = draining
        self._draining_flag = False
        # (scope, name) -> the worst level logged since the status left pass.
        self._outages: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.with_reasons = with_reasons
        self._changes = StatusChanges.of(health)
        self._changes.subscribe(self, scopes=scopes)

    @classmethod
    def of(cls, health: Health) -> TransitionLog:
        """The default transition log of ``health``, created with default options on first use.

        The HTTP layer enables it; tune it through its attributes
        (``TransitionLog.of(health).levels["failed"] = logging.CRITICAL``)
        rather than creating a second one, which would log every change twice.
        """
        with _shared_lock:
            log = _shared.get(health)
            if log is None:
                log = _shared[health] = cls(health)
            return log

    @property
    def draining(self) -> bool:
        """Whether transitions are logged at the quiet ``draining`` level now."""
        return self._draining_flag or bool(self._draining_source())

    def set_draining(self, draining: bool = True) -> None:
        """Mark the service as draining (or not) for the transitions that follow."""
        self._draining_flag = draining

    def close(self) -> None:
        """Stop logging transitions."""
        self._changes.unsubscribe(self)

    def __call__(self, change: StatusChange) -> None:
        """Log one change (the subscriber entry point)."""
        level = self._level(change)
        if not logger.isEnabledFor(level):
            return
        message = "healthprobe: " + change.describe(with_reason=self.with_reasons)
        if self.draining:
            message += " (while draining)"
        logger.log(
            level,
            "%s",
            message,
            extra={
                "healthprobe_event": change.event,
                "healthprobe_scope": change.scope,
                "healthprobe_name": change.name,
                "healthprobe_status": change.current.value,
                "healthprobe_outage_seconds": change.outage_seconds,
            },
        )

    def _level(self, change: StatusChange) -> int:
        key = (change.scope, change.name)
        with self._lock:
            outage = self._outages.pop(key, None) if change.event == "recovered" else None
        if self.draining:
            level = self.levels["draining"]
        elif change.event == "recovered":
            level = self.levels["recovered"] or outage or self._failure_level(change)
        else:
            level = self._failure_level(change)
        if change.event != "recovered":
            with self._lock:
                self._outages[key] = max(level, self._outages.get(key, logging.NOTSET))
        return level

    def _failure_level(self, change: StatusChange) -> int:
        """The level of a failure, or (for a recovery we saw no failure of) of the previous one."""
        failed = change.event == "failed" or (
            change.event == "recovered" and change.previous is Status.FAIL
        )
        if not failed:
            return self.levels["degraded"]
        return self.levels["failed" if change.critical else "failed_noncritical"]
