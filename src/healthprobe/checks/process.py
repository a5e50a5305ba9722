"""Process limits: open file descriptors against the soft limit, and the thread count.

Standard library only.  A service leaking sockets or files fails every
``accept()`` and ``open()`` once it reaches ``RLIMIT_NOFILE`` ("Too many open
files"); a service leaking threads runs out of memory or of the kernel's
``threads-max``.  Both are read for *this* process, cheaply (a directory
listing, one file read), so they suit liveness: a process that has leaked
itself into the ground is best restarted.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Literal

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

from ._levels import grade, option, thresholds, timeout_option, tripped

__all__ = ["OpenFilesCheck", "ThreadsCheck"]

resource: ModuleType | None
try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

#: Where each OS lists a process's open descriptors (Linux, then macOS/BSD).
_FD_DIRS = ("/proc/self/fd", "/dev/fd")


def open_descriptors() -> int:
    """How many file descriptors this process has open."""
    for directory in _FD_DIRS:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        # The listing itself held one descriptor (the directory), shut by now.
        return max(0, len(entries) - 1)
    raise OSError("this system lists no open file descriptors (no /proc/self/fd or /dev/fd)")


def soft_limit() -> int | None:
    """``RLIMIT_NOFILE``'s soft limit, or None where unlimited or not known."""
    if resource is None:  # pragma: no cover - Windows has no resource module
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


class OpenFilesCheck:
    """Open file descriptors as a percent of the soft ``RLIMIT_NOFILE`` (observed value).

    ``used_warn`` / ``used_fail`` are percents of the limit (defaults 80 and
    95; ``None`` disables one).  Without a limit (unlimited), the check passes
    and reports the count.  The count and the limit are in details.
    """

    component_type = "system"

    def __init__(
        self,
        *,
        name: str = "open_files",
        timeout: float = 2.0,
        used_warn: float | None = 80.0,
        used_fail: float | None = 95.0,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.used_warn = option(name, "used_warn", used_warn, high=100.0)
        self.used_fail = option(name, "used_fail", used_fail, high=100.0)
        thresholds(
            name, ("used_warn", self.used_warn), ("used_fail", self.used_fail), higher_is_worse=True
        )

    def check(self) -> CheckResult:
        """One count against the limit."""
        count = open_descriptors()
        limit = soft_limit()
        if limit is None or limit <= 0:
            return CheckResult.passed(
                f"{count} open file descriptors (no limit)",
                details={"open": count, "limit": None},
                observed_value=count,
                observed_unit="descriptors",
            )
        percent = round(100.0 * count / limit, 2)
        status = grade(percent, self.used_warn, self.used_fail, higher_is_worse=True)
        text = f"{count} of {limit} file descriptors open ({percent:g}%)"
        if status is not Status.PASS:
            at = self.used_fail if status is Status.FAIL else self.used_warn
            text += f", {status.value} at {at:g}%"
        return CheckResult(
            status,
            text,
            details={"open": count, "limit": limit},
            observed_value=percent,
            observed_unit="percent",
        )


class ThreadsCheck:
    """The number of threads of this process against ``warn`` / ``fail`` counts.

    ``source="os"`` (default) counts every OS thread (``/proc/self/status``
    on Linux), including those of C extensions (gRPC, database drivers);
    ``source="python"`` counts ``threading.active_count()``, the threads
    Python started or knows.  Where the OS count cannot be read, the Python
    count is used, and ``details["source"]`` says which one it is.  With
    neither threshold the check reports the count and passes.
    """

    component_type = "system"

    def __init__(
        self,
        *,
        name: str = "threads",
        timeout: float = 2.0,
        warn: int | None = None,
        fail: int | None = None,
        source: Literal["os", "python"] = "os",
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        if source not in ("os", "python"):
            raise ConfigurationError(f"check {name!r}: source must be 'os' or 'python'")
        self.source = source
        self.warn = option(name, "warn", warn, low=1)
        self.fail = option(name, "fail", fail, low=1)
        thresholds(name, ("warn", self.warn), ("fail", self.fail), higher_is_worse=True)

    def check(self) -> CheckResult:
        """One count graded against the thresholds."""
        count, source = self._count()
        status = grade(count, self.warn, self.fail, higher_is_worse=True)
        text = f"{count} threads" + tripped(status, self.warn, self.fail)
        return CheckResult(
            status,
            text,
            details={"source": source},
            observed_value=count,
            observed_unit="threads",
        )

    def _count(self) -> tuple[int, str]:
        if self.source == "os":
            counted = os_thread_count()
            if counted is not None:
                return counted, "os"
        return threading.active_count(), "python"


def os_thread_count() -> int | None:
    """This process's OS threads (Linux ``/proc/self/status``), or None where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
