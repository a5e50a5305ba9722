"""healthprobe's default JSON document: fields per detail level, and the head/tail split."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from healthprobe import Status
from healthprobe.http.policy import Detail
from healthprobe.http.render_json import iso_time, render_json, render_json_tail

from ._reports import T0, report, result

NOW = dt.datetime(2026, 5, 6, 7, 8, 9, 10, tzinfo=dt.timezone.utc)
REP = report(
    "ready",
    {
        "db": result(Status.FAIL, "refused", component_type="datastore"),
        "disk": result(Status.PASS, observed_value=12.5, observed_unit="GiB", details={"k": 1}),
    },
    excluded=("cache",),
)


def _doc(detail: Detail) -> dict[str, object]:
    return json.loads(render_json(REP, detail, version="1.4.2", now=NOW, uptime=12.34567))  # type: ignore[no-any-return]  # a JSON object by construction


def test_summary_shows_names_statuses_latencies_but_no_reasons() -> None:
    assert _doc(Detail.SUMMARY) == {
        "status": "unhealthy",
        "version": "1.4.2",
        "timestamp": "2026-05-06T07:08:09.000Z",
        "uptime_seconds": 12.346,
        "checks": {
            "db": {"status": "unhealthy", "latency_ms": 1.2, "critical": True},
            "disk": {"status": "healthy", "latency_ms": 1.2, "critical": True},
        },
        "excluded": ["cache"],
    }


def test_full_adds_outputs_observed_values_and_details() -> None:
    checks = _doc(Detail.FULL)["checks"]
    assert checks == {
        "db": {
            "status": "unhealthy",
            "latency_ms": 1.2,
            "critical": True,
            "output": "refused",
            "component_type": "datastore",
            "time": iso_time(T0),
        },
        "disk": {
            "status": "healthy",
            "latency_ms": 1.2,
            "critical": True,
            "observed_value": 12.5,
            "observed_unit": "GiB",
            "time": "2026-01-02T03:04:05.678Z",
            "details": {"k": 1},
        },
    }


def test_never_has_no_checks_member() -> None:
    doc = _doc(Detail.NONE)
    assert set(doc) == {"status", "version", "timestamp", "uptime_seconds"}


@pytest.mark.parametrize("detail", list(Detail))
def test_the_cacheable_tail_does_not_depend_on_time(detail: Detail) -> None:
    assert render_json_tail(REP, detail) == render_json_tail(REP, detail)
    assert b"2026-05-06" not in render_json_tail(REP, detail)
