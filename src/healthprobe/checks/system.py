"""Memory, CPU and load of the machine (psutil, extra ``psutil``; load needs only the OS).

Each check compares one reading with a warn and a fail threshold (more is
worse) and reports it as the observed value.  None of them blocks: CPU is
measured over the time between two runs of the check, never by sleeping
inside a probe.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.checks._levels import grade, option, thresholds, timeout_option, tripped
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

__all__ = ["CpuCheck", "LoadCheck", "MemoryCheck"]


class _Threshold:
    """Options and grading shared by the three checks."""

    component_type = "system"
    unit = "percent"

    def __init__(
        self, name: str, timeout: float, warn: float | None, fail: float | None, high: float | None
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.warn = option(name, "warn", warn, high=high)
        self.fail = option(name, "fail", fail, high=high)
        thresholds(name, ("warn", self.warn), ("fail", self.fail), higher_is_worse=True)

    def result(self, value: float, text: str, details: dict[str, Any]) -> CheckResult:
        """``text`` graded against the thresholds, with ``value`` observed."""
        status = grade(value, self.warn, self.fail, higher_is_worse=True)
        text += tripped(status, self.warn, self.fail)
        return CheckResult(
            status, text, details=details, observed_value=value, observed_unit=self.unit
        )


class MemoryCheck(_Threshold):
    """Percent of physical memory in use (``psutil.virtual_memory().percent``).

    ``warn`` / ``fail``: percent used at or above which the check warns /
    fails (defaults 90 and 95; ``None`` disables one).  Constructing it without
    psutil installed raises :class:`~healthprobe._optional.MissingDependencyError`.
    """

    def __init__(
        self,
        *,
        name: str = "memory",
        timeout: float = 2.0,
        warn: float | None = 90.0,
        fail: float | None = 95.0,
    ) -> None:
        super().__init__(name, timeout, warn, fail, high=100.0)
        self._psutil = require("psutil", "psutil")

    def check(self) -> CheckResult:
        """One reading of the machine's memory."""
        memory = self._psutil.virtual_memory()
        percent = round(float(memory.percent), 2)
        return self.result(
            percent,
            f"memory {percent:g}% used",
            {"total_bytes": memory.total, "available_bytes": memory.available},
        )


class CpuCheck(_Threshold):
    """Percent of CPU time busy across all cores since the previous run, without blocking.

    The check keeps its own sample of ``psutil.cpu_times()`` (so other callers
    of ``psutil.cpu_percent()`` do not shorten its window): construction takes
    the first sample, and each run measures the window since the one before.
    A run whose window holds no CPU time yet (right after construction) reads
    ``unknown``, never a made-up number.  ``warn`` default 90; ``fail`` default
    ``None``: a busy CPU slows a service, it rarely means it should leave the
    load balancer.
    """

    def __init__(
        self,
        *,
        name: str = "cpu",
        timeout: float = 2.0,
        warn: float | None = 90.0,
        fail: float | None = None,
    ) -> None:
        super().__init__(name, timeout, warn, fail, high=100.0)
        self._psutil = require("psutil", "psutil")
        # Runs happen in worker threads; two overlapping runs must not share a window.
        self._lock = threading.Lock()
        self._previous = _busy_total(self._psutil)

    def check(self) -> CheckResult:
        """The busy percentage since the previous run."""
        current = _busy_total(self._psutil)
        with self._lock:
            (busy_before, total_before), self._previous = self._previous, current
        busy, total = current[0] - busy_before, current[1] - total_before
        if total <= 0:
            return CheckResult.unknown("no CPU time has passed since the previous sample yet")
        percent = round(max(0.0, min(100.0, 100.0 * busy / total)), 2)
        return self.result(percent, f"CPU {percent:g}% busy", {"window_cpu_seconds": total})


class LoadCheck(_Threshold):
    """The load average per usable CPU core (``os.getloadavg()``; psutil where the OS lacks it).

    ``minutes`` picks the 1-, 5- or 15-minute average.  ``warn`` / ``fail``
    are load per core (defaults 2.0 and ``None``); cores are those this process
    may run on (its CPU affinity), not every core of the host.
    """

    unit = "load per core"

    def __init__(
        self,
        *,
        name: str = "load",
        timeout: float = 2.0,
        minutes: int = 1,
        warn: float | None = 2.0,
        fail: float | None = None,
    ) -> None:
        super().__init__(name, timeout, warn, fail, high=None)
        if minutes not in (1, 5, 15):
            raise ConfigurationError(f"check {name!r}: minutes must be 1, 5 or 15, not {minutes!r}")
        self.minutes = minutes
        getloadavg: Callable[[], tuple[float, float, float]] | None
        getloadavg = getattr(os, "getloadavg", None)
        if getloadavg is None:  # Windows: psutil emulates it
            getloadavg = require("psutil", "psutil").getloadavg
        self._getloadavg: Callable[[], tuple[float, float, float]] = getloadavg

    def check(self) -> CheckResult:
        """One reading of the load average."""
        loads = self._getloadavg()
        load = float(loads[(1, 5, 15).index(self.minutes)])
        cores = _usable_cores()
        per_core = round(load / cores, 3)
        return self.result(
            per_core,
            f"{self.minutes}-minute load {load:.2f} on {cores} cores ({per_core:g} per core)",
            {"load": load, "cores": cores, "minutes": self.minutes},
        )


def _busy_total(psutil: ModuleType) -> tuple[float, float]:
    """(busy, total) CPU seconds since boot, summed over cores, as psutil counts them."""
    times = psutil.cpu_times()
    total = float(sum(times))
    if sys.platform.startswith("linux"):
        # Linux counts guest time inside user time already.
        total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    idle = float(times.idle) + float(getattr(times, "iowait", 0.0))
    return total - idle, total


def _usable_cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return os.cpu_count() or 1
