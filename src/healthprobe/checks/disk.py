"""Disk: free bytes and percent used of the file system holding a path (standard library)."""

from __future__ import annotations

import os
import shutil

from healthprobe.checks._levels import grade, option, thresholds, timeout_option
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

__all__ = ["DiskCheck"]


class DiskCheck:
    """``shutil.disk_usage(path)`` against thresholds on percent used and on free bytes.

    Percent used is computed as ``df`` shows it: used / (used + free), where
    free is what an unprivileged process may still write (blocks reserved for
    root do not count as free).  It is the observed value, unit ``percent``.

    * ``used_warn`` / ``used_fail``: percent used (0-100) at or above which the
      check warns / fails (defaults 90 and 95; ``None`` disables one).
    * ``free_warn`` / ``free_fail``: free bytes below which it warns / fails
      (default ``None``: not checked).

    The worse of the two gradings wins.  ``check()`` is synchronous and runs in
    the engine's worker thread, so a hung network mount cannot block the loop.
    """

    component_type = "system"

    def __init__(
        self,
        path: str | os.PathLike[str] = "/",
        *,
        name: str = "disk",
        timeout: float = 2.0,
        used_warn: float | None = 90.0,
        used_fail: float | None = 95.0,
        free_warn: int | None = None,
        free_fail: int | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.path = os.fspath(path)
        self.used_warn = option(name, "used_warn", used_warn, high=100.0)
        self.used_fail = option(name, "used_fail", used_fail, high=100.0)
        self.free_warn = option(name, "free_warn", free_warn)
        self.free_fail = option(name, "free_fail", free_fail)
        thresholds(
            name,
            ("used_warn", self.used_warn),
            ("used_fail", self.used_fail),
            higher_is_worse=True,
        )
        thresholds(
            name,
            ("free_warn", self.free_warn),
            ("free_fail", self.free_fail),
            higher_is_worse=False,
        )

    def check(self) -> CheckResult:
        """One reading; a path that cannot be read (missing, no permission) fails."""
        try:
            usage = shutil.disk_usage(self.path)
        except OSError as exc:
            # The reason only: the exception's text repeats the path.
            return CheckResult.failed(f"cannot read disk usage: {exc.strerror or 'OS error'}")
        usable = usage.used + usage.free
        percent = round(100.0 * usage.used / usable, 2) if usable else 0.0
        by_used = grade(percent, self.used_warn, self.used_fail, higher_is_worse=True)
        by_free = grade(usage.free, self.free_warn, self.free_fail, higher_is_worse=False)
        status = max(by_used, by_free, key=lambda s: s.severity)
        reasons = []
        if by_used is not Status.PASS:
            limit = self.used_fail if by_used is Status.FAIL else self.used_warn
            reasons.append(f"{by_used.value} at {limit:g}% used")
        if by_free is not Status.PASS:
            limit = self.free_fail if by_free is Status.FAIL else self.free_warn
            reasons.append(f"{by_free.value} below {limit:.0f} bytes free")
        text = f"{percent:g}% used, {_size(usage.free)} free"
        if reasons:
            text += f" ({'; '.join(reasons)})"
        return CheckResult(
            status,
            text,
            details={
                "path": self.path,
                "total_bytes": usage.total,
                "used_bytes": usage.used,
                "free_bytes": usage.free,
            },
            observed_value=percent,
            observed_unit="percent",
        )


def _size(count: float) -> str:
    """``count`` bytes in the largest binary unit that keeps it at or above 1."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
