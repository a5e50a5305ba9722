"""The IETF health+json document (draft-inadarei-api-health-check-06), rendered by a pure function.

Pure function of a report and the service's identity.  Choices where the
draft leaves room:

* top-level ``status`` is the probe's *verdict* (``unknown`` resolved by the
  probe's policy), so it always agrees with the HTTP status code;
* every check with a latency is reported as ``"<name>:responseTime"`` (its
  latency in ms, public like the Kubernetes API server's check names); a
  check that reports its own observed value adds a ``"<name>"`` entry
  carrying it (details only); a check with neither (the lifecycle entries, a
  check with no reading yet) is a ``"<name>"`` entry with its status alone,
  never a ``responseTime`` without a value;
* ``observedUnit`` accompanies every ``observedValue`` (the draft: it SHOULD);
  a value whose check gave no unit is dimensionless, UCUM's ``"1"`` for a
  number, an annotation (``"{text}"``, ``"{boolean}"``, ``"{value}"``) otherwise;
* ``time`` is when the reading was taken (the check's own, if it set one);
* ``output`` (top level and per check) is only written for a non-passing
  status and only with full details, as the draft says it SHOULD be omitted
  on pass and may carry error text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from healthprobe.engine.report import CheckReport, Report
from healthprobe.engine.status import Status

from .policy import Detail
from .render_json import iso_time
from .render_text import unmatched_line

__all__ = ["IETF_MEDIA_TYPE", "render_ietf"]

IETF_MEDIA_TYPE = "application/health+json"
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def render_ietf(report: Report, detail: Detail, *, service: Mapping[str, str | None]) -> bytes:
    """Render ``report``; ``service`` holds version, releaseId, serviceId, description."""
    unknown_as = _unknown_word(report)
    doc: dict[str, Any] = {"status": report.verdict.value}
    for key in ("version", "releaseId", "serviceId", "description"):
        value = service.get(key)
        if value is not None:
            doc[key] = value
    notes = []
    if report.excluded:
        notes.append("excluded: " + ", ".join(report.excluded))
    if report.unmatched_excludes:
        notes.append(unmatched_line(report.unmatched_excludes))
    if notes:
        doc["notes"] = notes
    if detail is Detail.FULL and report.verdict is not Status.PASS:
        failing = [
            f"{name}: {entry.result.output or entry.result.status.value}"
            for name, entry in report.checks.items()
            if entry.result.status is not Status.PASS
        ]
        if failing:
            doc["output"] = "; ".join(failing)
    if detail is not Detail.NONE:
        checks: dict[str, list[dict[str, Any]]] = {}
        for name, entry in report.checks.items():
            observed = detail is Detail.FULL and entry.result.observed_value is not None
            if entry.result.latency_ms is not None:
                checks[f"{name}:responseTime"] = [_entry(entry, detail, unknown_as, observed=False)]
            elif not observed:
                checks[name] = [_entry(entry, detail, unknown_as, observed=False)]
            if observed:
                checks[name] = [_entry(entry, detail, unknown_as, observed=True)]
        doc["checks"] = checks
    return _dumps(doc).encode()


def _unknown_word(report: Report) -> str:
    # The probe's own policy for "unknown" is visible in its verdict when the
    # aggregate is unknown; otherwise fall back to the defaults (liveness: warn).
    if report.status is Status.UNKNOWN:
        return "warn" if report.verdict is Status.PASS else "fail"
    return "warn" if report.probe == "live" else "fail"


def _entry(
    entry: CheckReport, detail: Detail, unknown_as: str, *, observed: bool
) -> dict[str, Any]:
    result = entry.result
    status = unknown_as if result.status is Status.UNKNOWN else result.status.value
    out: dict[str, Any] = {
        "componentId": entry.name,
        "componentType": result.component_type or "component",
    }
    if observed:
        out["observedValue"] = result.observed_value
        out["observedUnit"] = result.observed_unit or _dimensionless(result.observed_value)
    elif result.latency_ms is not None:
        out["observedValue"] = result.latency_ms
        out["observedUnit"] = "ms"
    out["status"] = status
    if result.time is not None:
        out["time"] = iso_time(result.time)
    if detail is Detail.FULL and status != "pass" and result.output:
        out["output"] = result.output
    return out


def _dimensionless(value: object) -> str:
    """The unit of a value given without one (UCUM: ``1`` is unity, ``{...}`` an annotation)."""
    if isinstance(value, bool):
        return "{boolean}"
    if isinstance(value, (int, float)):
        return "1"
    if isinstance(value, str):
        return "{text}"
    return "{value}"
