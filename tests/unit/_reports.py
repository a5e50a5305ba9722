"""Build engine Reports by hand for the pure renderer tests."""

from __future__ import annotations

import datetime as dt

from healthprobe import CheckReport, CheckResult, Report, Status
from healthprobe.engine.aggregate import aggregate

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)


def result(status: Status, output: str = "", **fields: object) -> CheckResult:
    fields.setdefault("latency", 0.0012)
    fields.setdefault("time", T0)
    return CheckResult(status, output, **fields)  # type: ignore[arg-type]  # test helper forwards fields


def report(
    probe: str | None,
    checks: dict[str, CheckResult],
    *,
    critical: tuple[str, ...] | None = None,
    excluded: tuple[str, ...] = (),
    unmatched: tuple[str, ...] = (),
    unknown_passes: bool = False,
) -> Report:
    entries = {
        name: CheckReport(name, critical is None or name in critical, res)
        for name, res in checks.items()
    }
    status = aggregate((e.status, e.critical) for e in entries.values())
    verdict = status
    if status is Status.UNKNOWN:
        verdict = Status.PASS if unknown_passes else Status.FAIL
    return Report(probe, status, verdict, entries, T0, 0.001, excluded, unmatched)
