"""What one published reading is, in memory and on disk (see :mod:`.shared`).

The leader of a host writes one file per shared check, each a JSON document
of a :class:`HostRecord`: the latest reading (already sanitized and damped),
when it was taken on the host's monotonic clock, and the check's host-wide
memory (reading and failure counts, last success, last failure, the recent
readings), so that every worker of the host draws the same history and the
same counters, however late it started.  Files are replaced atomically
(``os.replace``): a reader sees the old document or the new one, never half.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from .result import CheckResult
from .status import Status

__all__ = ["FORMAT", "HISTORY", "HostRecord", "boot_id", "load", "publish", "record_path"]

#: The document format; a reader ignores any other (a newer library on the same host).
FORMAT = 1
#: Recent readings kept per check: as many as the default in-process history.
HISTORY = 120


@dataclasses.dataclass(frozen=True)
class HostRecord:
    """The latest reading of one shared check on this host, and the check's host-wide memory.

    ``at`` is ``time.monotonic()`` of the reading in the process that took it:
    on one host (one kernel) that clock is the same in every process, so any
    worker can age the reading exactly.  ``seq`` counts publications of this
    check on this host, across leaders.  ``entries`` are ``(time, status,
    latency seconds)``, oldest first, at most :data:`HISTORY`.
    """

    name: str
    seq: int
    pid: int
    at: float
    result: CheckResult
    runs: int
    failures: int
    last_success: dt.datetime | None
    last_failure: CheckResult | None
    entries: tuple[tuple[dt.datetime, Status, float], ...]

    def followed_by(self, result: CheckResult, *, at: float, pid: int) -> HostRecord:
        """The record after one more reading ``result``, counted as the in-process history does."""
        when = result.time or dt.datetime.now(dt.timezone.utc)
        failed = result.status is Status.FAIL
        return HostRecord(
            name=self.name,
            seq=self.seq + 1,
            pid=pid,
            at=at,
            result=result,
            runs=self.runs + 1,
            failures=self.failures + failed,
            last_success=when if result.status is Status.PASS else self.last_success,
            last_failure=result if failed else self.last_failure,
            entries=(*self.entries, (when, result.status, result.latency or 0.0))[-HISTORY:],
        )

    @classmethod
    def empty(cls, name: str) -> HostRecord:
        """The record before a check's first reading on this host."""
        return cls(name, 0, 0, -math.inf, CheckResult(Status.UNKNOWN), 0, 0, None, None, ())


def record_path(directory: str, name: str) -> str:
    """The file of check ``name`` (check names are safe file names: see spec.validate_name)."""
    return os.path.join(directory, f"check.{name}.json")


def boot_id() -> str:
    """This boot of this host, where the OS says (Linux); ``""`` elsewhere.

    A record from another boot carries a monotonic time of another clock: it
    is ignored rather than aged wrongly.
    """
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return ""


def publish(directory: str, record: HostRecord, boot: str) -> None:
    """Write ``record`` to its file atomically (a temp file in the same directory, then rename).

    No fsync: a reading is worth seconds, and a crash only loses the latest one.
    """
    document = {
        "format": FORMAT,
        "boot": boot,
        "name": record.name,
        "seq": record.seq,
        "pid": record.pid,
        "at": record.at,
        "result": _result_json(record.result),
        "runs": record.runs,
        "failures": record.failures,
        "last_success": _time_json(record.last_success),
        "last_failure": None if record.last_failure is None else _result_json(record.last_failure),
        "entries": [[_time_json(t), s.value, lat] for t, s, lat in record.entries],
    }
    data = json.dumps(document, default=str, separators=(",", ":")).encode()
    fd, temp = tempfile.mkstemp(prefix=f".check.{record.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, record_path(directory, record.name))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def load(path: str, name: str, boot: str) -> HostRecord | None:
    """The record in ``path``, or None when it is missing, unreadable, foreign or malformed."""
    try:
        with open(path, "rb") as file:
            document = json.loads(file.read())
        if (
            not isinstance(document, dict)
            or document.get("format") != FORMAT
            or document.get("boot") != boot
            or document.get("name") != name
        ):
            return None
        last_failure = document.get("last_failure")
        return HostRecord(
            name=name,
            seq=int(document["seq"]),
            pid=int(document["pid"]),
            at=float(document["at"]),
            result=_result_from(document["result"]),
            runs=int(document["runs"]),
            failures=int(document["failures"]),
            last_success=_time_from(document.get("last_success")),
            last_failure=None if last_failure is None else _result_from(last_failure),
            entries=tuple(
                (_required_time(t), Status(s), float(lat))
                for t, s, lat in document.get("entries", [])[-HISTORY:]
            ),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, half-migrated or foreign: as if nothing was published


def _result_json(result: CheckResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "output": result.output,
        "details": dict(result.details),
        "observed_value": result.observed_value,
        "observed_unit": result.observed_unit,
        "component_type": result.component_type,
        "latency": result.latency,
        "time": _time_json(result.time),
    }


def _result_from(data: Mapping[str, Any]) -> CheckResult:
    details = data.get("details") or {}
    latency = data.get("latency")
    return CheckResult(
        status=Status(data["status"]),
        output=str(data.get("output") or ""),
        details=details if isinstance(details, dict) else {},
        observed_value=data.get("observed_value"),
        observed_unit=data.get("observed_unit"),
        component_type=data.get("component_type"),
        latency=None if latency is None else float(latency),
        time=_time_from(data.get("time")),
    )


def _time_json(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time_from(value: object) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(str(value))


def _required_time(value: object) -> dt.datetime:
    when = _time_from(value)
    if when is None:
        raise ValueError("an entry without a time")
    return when
