"""The outcome of running a probe: one status and the result of each check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from .result import CheckResult
from .status import Status

__all__ = ["CheckReport", "Report"]


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """One check's place in a report: its name, whether it is critical, and its result."""

    name: str
    critical: bool
    result: CheckResult

    @property
    def status(self) -> Status:
        """The check's own status (before the non-critical cap)."""
        return self.result.status


@dataclasses.dataclass(frozen=True)
class Report:
    """What a probe says.

    ``status`` is the aggregate of the checks (``unknown`` when a critical
    check has no trustworthy reading).  ``verdict`` is what consumers act on:
    the same, except that ``unknown`` is resolved to this probe's policy
    (``pass`` for liveness, ``fail`` for every other probe, unless
    configured otherwise), so a verdict is always pass, warn or fail.
    """

    probe: str | None
    status: Status
    verdict: Status
    checks: Mapping[str, CheckReport]
    time: dt.datetime
    duration: float
    excluded: tuple[str, ...] = ()
    unmatched_excludes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the verdict lets traffic through (pass or warn)."""
        return self.verdict is not Status.FAIL
