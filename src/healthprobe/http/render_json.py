"""healthprobe's default JSON document (pure functions).

::

    {"status": "healthy", "version": "1.4.2", "timestamp": "2026-01-01T00:00:00.000Z",
     "uptime_seconds": 12.5,
     "checks": {"database": {"status": "healthy", "latency_ms": 1.2, "critical": true}}}

The document is built in two parts so that the expensive one can be cached:
:func:`render_json_head` (status, version, the request's timestamp and uptime;
cheap, per request) and :func:`render_json_tail` (the checks; the same bytes
while the check results are the same objects).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from healthprobe.engine.report import CheckReport, Report

from .policy import Detail

__all__ = [
    "iso_time",
    "json_head",
    "render_json",
    "render_json_head",
    "render_json_tail",
    "utc_timestamp",
]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def iso_time(moment: dt.datetime) -> str:
    """UTC ISO 8601 with milliseconds and a ``Z`` (what monitoring tools parse best)."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def render_json_head(
    report: Report, *, version: str | None, now: dt.datetime, uptime: float
) -> bytes:
    """The per-request start of the document (an unclosed JSON object)."""
    return json_head(report.status.label, _dumps(version), iso_time(now), uptime)


def json_head(label: str, version_json: str, timestamp: str, uptime: float) -> bytes:
    """:func:`render_json_head` from ready parts, for the hot path (no encoder call).

    ``label`` and ``timestamp`` are plain words and digits, ``version_json``
    is already JSON-encoded, so string formatting yields valid JSON.
    """
    return (
        f'{{"status":"{label}","version":{version_json},"timestamp":"{timestamp}",'
        f'"uptime_seconds":{round(uptime, 3)!r}'
    ).encode()


_last_stamp: tuple[int, str] = (-1, "")


def utc_timestamp() -> str:
    """The current UTC time as :func:`iso_time` writes it (formatted once per millisecond)."""
    global _last_stamp  # noqa: PLW0603 - a one-entry cache; a race only formats twice
    now = time.time()
    millis = int(now * 1000)
    cached = _last_stamp
    if cached[0] == millis:
        return cached[1]
    text = iso_time(dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc))
    _last_stamp = (millis, text)
    return text


def render_json_tail(report: Report, detail: Detail) -> bytes:
    """The cacheable rest of the document (checks, exclusions), closing the object.

    With ``Detail.NONE`` there is no ``checks`` member at all.
    """
    tail: dict[str, Any] = {}
    if detail is not Detail.NONE:
        tail["checks"] = {name: _check(entry, detail) for name, entry in report.checks.items()}
        if report.excluded:
            tail["excluded"] = list(report.excluded)
        if report.unmatched_excludes:
            tail["unmatched_excludes"] = list(report.unmatched_excludes)
    if not tail:
        return b"}"
    return b"," + _dumps(tail)[1:].encode()


def render_json(
    report: Report, detail: Detail, *, version: str | None, now: dt.datetime, uptime: float
) -> bytes:
    """The whole document in one call (head + tail)."""
    return render_json_head(report, version=version, now=now, uptime=uptime) + render_json_tail(
        report, detail
    )


def _check(entry: CheckReport, detail: Detail) -> dict[str, Any]:
    result = entry.result
    out: dict[str, Any] = {
        "status": result.status.label,
        "latency_ms": result.latency_ms,
        "critical": entry.critical,
    }
    if detail is Detail.FULL:
        if result.output:
            out["output"] = result.output
        if result.observed_value is not None:
            out["observed_value"] = result.observed_value
            out["observed_unit"] = result.observed_unit
        if result.component_type:
            out["component_type"] = result.component_type
        if result.time is not None:
            out["time"] = iso_time(result.time)
        if result.details:
            out["details"] = dict(result.details)
    return out
