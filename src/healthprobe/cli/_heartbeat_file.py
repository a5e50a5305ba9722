"""``healthprobe check --heartbeat-file PATH --max-age N``: an exec probe for workers.

A worker whose :class:`~healthprobe.Heartbeat` has ``file=PATH`` keeps that
file's modification time current while it beats, and sets it to the epoch
on a failing beat; the kubelet runs this command as an exec probe.  It
needs no config file: its one check is
:class:`~healthprobe.checks.files.FileAgeCheck` (the ``file_age`` config
type), which fails on a missing file (the worker never beat, or its volume
is gone), on silence longer than ``max_age``, and so at once on a failing
beat (an epoch mtime is older than any ``max_age``).
"""

from __future__ import annotations

import math

from healthprobe.checks.files import FileAgeCheck
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.health import Health

__all__ = ["NAME", "heartbeat_health"]

#: The check's name in the report.
NAME = "heartbeat"


def heartbeat_health(path: str, max_age: float | None) -> Health:
    """A :class:`Health` whose one check (liveness and readiness) is the file's age.

    Raises :class:`ConfigurationError` when ``max_age`` is missing or not a
    positive number of seconds.
    """
    if max_age is None:
        raise ConfigurationError("--heartbeat-file needs --max-age SECONDS")
    if not max_age > 0 or math.isinf(max_age):
        raise ConfigurationError(f"--max-age must be a positive number of seconds, not {max_age}")
    health = Health()
    health.add(FileAgeCheck(path, max_age=max_age, name=NAME), probes=("live", "ready"))
    return health
