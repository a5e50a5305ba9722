"""Flap damping: failure and success thresholds (a small pure state machine)."""

from __future__ import annotations

import dataclasses

from .result import CheckResult
from .status import Status

__all__ = ["Damper"]


class Damper:
    """Holds a check's reported state steady until a run of readings confirms a change.

    * ``failure_threshold`` consecutive failing readings are needed before a
      passing check is reported as failing; the failures before that are
      reported with the last good status and the suppressed reason in details.
    * ``success_threshold`` consecutive good readings (pass or warn) are needed
      before a failing check is reported as good again; until then it is
      reported as failing, "recovering".
    * A check that has never settled (its first readings) is reported as read:
      a check that has never passed is never reported passing.
    * ``unknown`` readings pass through and do not touch the counters.

    With both thresholds at 1 (the default) every reading is reported as is.
    """

    def __init__(self, failure_threshold: int = 1, success_threshold: int = 1) -> None:
        self.failure_threshold = failure_threshold
        self.success_threshold = success_threshold
        self._settled: CheckResult | None = None
        self._failures = 0
        self._successes = 0

    def settle(self, reported: CheckResult) -> None:
        """Take ``reported`` (damped elsewhere: another worker of the host) as the settled state.

        A worker that takes over polling then goes on from the host's state
        instead of reporting its first reading as read.
        """
        if reported.status is not Status.UNKNOWN:
            self._settled = reported
            self._failures = self._successes = 0

    def feed(self, reading: CheckResult) -> CheckResult:
        """Take one reading and return what should be reported for it."""
        if reading.status is Status.UNKNOWN:
            return reading
        if reading.status is Status.FAIL:
            self._failures += 1
            self._successes = 0
            settled = self._settled
            if (
                settled is None
                or settled.status is Status.FAIL
                or self._failures >= self.failure_threshold
            ):
                self._settled = reading
                return reading
            return dataclasses.replace(
                reading,
                status=settled.status,
                output=settled.output,
                details={
                    **settled.details,
                    "suppressed_failures": self._failures,
                    "failure_threshold": self.failure_threshold,
                    "last_failure": reading.output,
                },
            )
        self._successes += 1
        self._failures = 0
        settled = self._settled
        if (
            settled is None
            or settled.status is not Status.FAIL
            or self._successes >= self.success_threshold
        ):
            self._settled = reading
            return reading
        return dataclasses.replace(
            reading,
            status=Status.FAIL,
            output=f"recovering: {self._successes} of {self.success_threshold} "
            f"successful runs needed; last failure: {settled.output}",
            details={**reading.details, "consecutive_successes": self._successes},
        )
