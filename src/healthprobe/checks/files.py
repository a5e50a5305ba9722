"""Files: a directory is writable, a file system has free inodes, a heartbeat file is fresh.

Standard library only.  Each check is synchronous and runs in the engine's
worker thread, so a hung network mount holds only that check, never the
event loop.  Error text carries the OS reason (``No such file or
directory``), never the path, which is in details.
"""

from __future__ import annotations

import os
import time
import uuid

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult
from healthprobe.engine.status import Status

from ._levels import grade, option, thresholds, timeout_option, tripped

__all__ = ["FileAgeCheck", "InodesCheck", "WritableCheck"]


def _reason(exc: OSError) -> str:
    # The reason only: the exception's text repeats the path.
    return exc.strerror or type(exc).__name__


class WritableCheck:
    """Create, write, fsync and delete a small probe file in ``path`` (a directory).

    A read-only remount, a full disk, a lost permission or a dead NFS server
    all fail it.  The probe file's name is unique per run
    (``.healthprobe-<uuid>.tmp``), so several workers can share the
    directory; it is removed even when the write failed.  The time taken
    (create to delete) is the observed value, unit ``ms``.
    """

    component_type = "system"

    def __init__(
        self, path: str | os.PathLike[str], *, name: str = "writable", timeout: float = 2.0
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.path = os.fspath(path)

    def check(self) -> CheckResult:
        """One probe file; any OS error fails with its reason."""
        probe = os.path.join(self.path, f".healthprobe-{uuid.uuid4().hex}.tmp")
        details = {"path": self.path}
        started = time.monotonic()
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            return CheckResult.failed(f"cannot create a file: {_reason(exc)}", details=details)
        try:
            try:
                os.write(fd, b"healthprobe\n")
                os.fsync(fd)  # the write reached the device, not only the page cache
            finally:
                os.close(fd)
        except OSError as exc:
            return CheckResult.failed(f"cannot write a file: {_reason(exc)}", details=details)
        finally:
            try:
                os.unlink(probe)
            except OSError as exc:
                unlinked: OSError | None = exc
            else:
                unlinked = None
        if unlinked is not None:
            return CheckResult.failed(f"cannot delete a file: {_reason(unlinked)}", details=details)
        elapsed = round((time.monotonic() - started) * 1000, 3)
        return CheckResult.passed(
            "created, wrote, synced and deleted a file",
            details=details,
            observed_value=elapsed,
            observed_unit="ms",
        )


class InodesCheck:
    """Percent of inodes used on the file system holding ``path`` (``os.statvfs``).

    A file system can run out of inodes with gigabytes free (millions of
    small cache or session files); every create then fails with "No space
    left on device".  ``used_warn`` / ``used_fail`` are percents (defaults 90
    and 95; ``None`` disables one), counted as ``df -i`` does from the inodes
    an unprivileged process may still use.  A file system that does not
    count inodes (btrfs, some FUSE and network mounts report 0) passes with
    no observed value.
    """

    component_type = "system"

    def __init__(
        self,
        path: str | os.PathLike[str] = "/",
        *,
        name: str = "inodes",
        timeout: float = 2.0,
        used_warn: float | None = 90.0,
        used_fail: float | None = 95.0,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.path = os.fspath(path)
        self.used_warn = option(name, "used_warn", used_warn, high=100.0)
        self.used_fail = option(name, "used_fail", used_fail, high=100.0)
        thresholds(
            name, ("used_warn", self.used_warn), ("used_fail", self.used_fail), higher_is_worse=True
        )

    def check(self) -> CheckResult:
        """One ``statvfs`` reading graded against the thresholds."""
        try:
            stats = os.statvfs(self.path)
        except OSError as exc:
            return CheckResult.failed(f"cannot read inode counts: {_reason(exc)}")
        total = stats.f_files
        if total == 0:
            return CheckResult.passed(
                "the file system does not count inodes", details={"path": self.path}
            )
        used = total - stats.f_ffree
        usable = used + stats.f_favail
        percent = round(100.0 * used / usable, 2) if usable else 100.0
        status = grade(percent, self.used_warn, self.used_fail, higher_is_worse=True)
        text = f"{percent:g}% of inodes used, {stats.f_favail} free"
        text += tripped(status, self.used_warn, self.used_fail, "%")
        return CheckResult(
            status,
            text,
            details={
                "path": self.path,
                "inodes_total": total,
                "inodes_used": used,
                "inodes_free": stats.f_favail,
            },
            observed_value=percent,
            observed_unit="percent",
        )


class FileAgeCheck:
    """Fails when the file at ``path`` was last modified more than ``max_age`` seconds ago.

    For heartbeat files: a cron job or worker that ``touch``-es a file each
    time it completes is alive while the file is fresh.  A missing file
    fails (the job never ran, or its volume is gone).  ``warn_age`` (seconds,
    optional, at most ``max_age``) warns first.  The age in seconds is the
    observed value; a modification time in the future (clock skew between
    the writer and this host) reads as age 0.
    """

    component_type = "system"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_age: float,
        warn_age: float | None = None,
        name: str = "file_age",
        timeout: float = 2.0,
    ) -> None:
        self.name = name
        self.timeout = timeout_option(name, timeout)
        self.path = os.fspath(path)
        max_value = option(name, "max_age", max_age, strict_low=True)
        if max_value is None:
            raise ConfigurationError(f"check {name!r}: max_age is required (seconds)")
        self.max_age = max_value
        self.warn_age = option(name, "warn_age", warn_age, strict_low=True)
        thresholds(
            name, ("warn_age", self.warn_age), ("max_age", self.max_age), higher_is_worse=True
        )

    def check(self) -> CheckResult:
        """One ``stat``: fresh passes, older than ``max_age`` or missing fails."""
        details: dict[str, object] = {"path": self.path, "max_age_seconds": self.max_age}
        try:
            modified = os.stat(self.path).st_mtime
        except OSError as exc:
            return CheckResult.failed(f"cannot read the file: {_reason(exc)}", details=details)
        age = round(max(0.0, time.time() - modified), 3)
        status = grade(age, self.warn_age, self.max_age, higher_is_worse=True)
        text = f"modified {age:.0f} s ago"
        if status is Status.FAIL:
            text += f" (older than {self.max_age:g} s)"
        elif status is Status.WARN:
            text += f" (warn after {self.warn_age:g} s)"
        return CheckResult(
            status, text, details=details, observed_value=age, observed_unit="seconds"
        )
