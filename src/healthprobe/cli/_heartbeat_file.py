"""``healthprobe check --heartbeat-file PATH --max-age N``: an exec probe for workers.

A worker whose :class:`~healthprobe.Heartbeat` has ``file=PATH`` keeps that
file's modification time current while it beats, and sets it to the epoch
on a failing beat; the kubelet runs this command as an exec probe.  It
needs no config file.  The one check reads that convention: a missing
file fails (the worker never beat, or its volume is gone), an epoch mtime
is a failure the worker *reported*, an mtime older than ``max_age`` is
silence.  (A plain file-age check in a config file is the ``file_age``
type of the checks catalogue; this reader knows the heartbeat's own
convention and says which of the three it is.)
"""

from __future__ import annotations

import math
import os
import time

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.health import Health
from healthprobe.engine.result import CheckResult

__all__ = ["NAME", "HeartbeatFile", "heartbeat_health"]

#: The check's name in the report.
NAME = "heartbeat"


class HeartbeatFile:
    """The age of a heartbeat file written by ``Heartbeat(file=...)``."""

    component_type = "component"
    timeout = 2.0  # a stat on a hung network mount must not hold the probe

    def __init__(self, path: str, max_age: float) -> None:
        self.name = NAME
        self.path = path
        self.max_age = max_age

    def check(self) -> CheckResult:
        details = {"max_age_seconds": self.max_age}
        try:
            modified = os.stat(self.path).st_mtime
        except OSError as exc:  # the reason only: the path is configuration
            reason = exc.strerror or type(exc).__name__
            return CheckResult.failed(f"no heartbeat file: {reason}", details=details)
        if modified == 0:
            return CheckResult.failed("the worker reported a failing beat", details=details)
        age = max(0.0, time.time() - modified)  # a future mtime (clock skew) is age 0
        value = {"observed_value": round(age, 3), "observed_unit": "s", "details": details}
        if age > self.max_age:
            return CheckResult.failed(
                f"no beat for {age:.0f} s (max_age {self.max_age:g} s)", **value
            )
        return CheckResult.passed(f"last beat {age:.1f} s ago", **value)


def heartbeat_health(path: str, max_age: float | None) -> Health:
    """A :class:`Health` whose one check (liveness and readiness) is the heartbeat file.

    Raises :class:`ConfigurationError` when ``max_age`` is missing or not a
    positive number of seconds.
    """
    if max_age is None:
        raise ConfigurationError("--heartbeat-file needs --max-age SECONDS")
    if not max_age > 0 or math.isinf(max_age):
        raise ConfigurationError(f"--max-age must be a positive number of seconds, not {max_age}")
    health = Health()
    health.add(HeartbeatFile(path, max_age), probes=("live", "ready"))
    return health
