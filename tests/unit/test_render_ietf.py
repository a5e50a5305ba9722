"""IETF health+json (draft-06), validated against a JSON Schema written from the draft."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from healthprobe import Status
from healthprobe.http.policy import Detail
from healthprobe.http.render_ietf import render_ietf

from ._reports import report, result

SCHEMA = json.loads((Path(__file__).parent / "ietf_health_schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SERVICE = {"version": "1", "releaseId": "1.2.2", "serviceId": "authz", "description": None}

# The draft's section 5 example (abridged to one node per measurement where it repeats).
DRAFT_EXAMPLE: dict[str, Any] = {
    "status": "pass",
    "version": "1",
    "releaseId": "1.2.2",
    "notes": [""],
    "output": "",
    "serviceId": "f03e522f-1f44-4062-9b55-9587f91c9c41",
    "description": "health of authz service",
    "checks": {
        "cassandra:responseTime": [
            {
                "componentId": "dfd6cf2b-1b6e-4412-a0b8-f6f7797a60d2",
                "componentType": "datastore",
                "observedValue": 250,
                "observedUnit": "ms",
                "status": "pass",
                "affectedEndpoints": ["/users/{userId}", "/customers/{customerId}/status"],
                "time": "2019-01-20T10:03:06Z",
                "output": "",
            }
        ],
        "cassandra:connections": [
            {
                "componentId": "dfd6cf2b-1b6e-4412-a0b8-f6f7797a60d2",
                "componentType": "datastore",
                "observedValue": 75,
                "status": "warn",
                "time": "2019-01-20T10:03:06Z",
                "output": "",
                "links": {"self": "http://api.example.com/dbnode/dfd6cf2b/health"},
            }
        ],
        "uptime": [
            {
                "componentType": "system",
                "observedValue": 1209600.245,
                "observedUnit": "s",
                "status": "pass",
                "time": "2018-01-17T03:36:48Z",
            }
        ],
        "cpu:utilization": [
            {
                "componentId": "6fd4",
                "node": 1,
                "componentType": "system",
                "observedValue": 85,
                "observedUnit": "percent",
                "status": "warn",
                "time": "2018-01-17T03:36:48Z",
                "output": "",
            },
            {
                "componentId": "6fd4",
                "node": 2,
                "componentType": "system",
                "observedValue": 85,
                "observedUnit": "percent",
                "status": "warn",
                "time": "2018-01-17T03:36:48Z",
                "output": "",
            },
        ],
    },
    "links": {"about": "http://api.example.com/about/authz"},
}


def test_the_schema_accepts_the_drafts_own_example() -> None:
    VALIDATOR.validate(DRAFT_EXAMPLE)


@pytest.mark.parametrize(
    "broken",
    [
        {"version": "1"},  # status is required
        {"status": "healthy"},  # not a draft status word
        {"status": "pass", "checks": {"db:a:b": []}},  # two colons in a key
        {"status": "pass", "checks": {"db:responseTime": {"status": "pass"}}},  # not an array
        {"status": "pass", "checks": {"db": [{"status": "pass", "time": "yesterday"}]}},
        {"status": "pass", "notes": "one string"},
    ],
)
def test_the_schema_rejects_what_the_draft_forbids(broken: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(broken)


REPORTS = {
    "pass": report("ready", {"db": result(Status.PASS, "fine", component_type="datastore")}),
    "warn": report(
        "ready", {"db": result(Status.PASS), "mail": result(Status.FAIL, "x")}, critical=("db",)
    ),
    "fail": report("ready", {"db": result(Status.FAIL, "refused")}),
    "unknown-ready": report(
        "ready", {"db": result(Status.UNKNOWN, "no result yet", latency=None, time=None)}
    ),
    "unknown-live": report(
        "live", {"db": result(Status.UNKNOWN, "no result yet")}, unknown_passes=True
    ),
    "observed": report(
        None, {"disk": result(Status.WARN, "90% full", observed_value=90, observed_unit="percent")}
    ),
    "excluded": report(
        "ready", {"db": result(Status.PASS)}, excluded=("cache",), unmatched=("nope",)
    ),
    "empty": report("ready", {}),
}


@pytest.mark.parametrize("detail", list(Detail))
@pytest.mark.parametrize("key", list(REPORTS))
def test_every_rendered_document_is_valid(key: str, detail: Detail) -> None:
    doc = json.loads(render_ietf(REPORTS[key], detail, service=SERVICE))
    VALIDATOR.validate(doc)
    assert "description" not in doc  # None fields are left out
    if detail is Detail.NONE:
        assert "checks" not in doc
    if detail is not Detail.FULL:
        assert "output" not in json.dumps(doc)


@pytest.mark.parametrize(
    ("key", "status", "check_key", "check_status"),
    [
        ("pass", "pass", "db:responseTime", "pass"),
        ("warn", "warn", "mail:responseTime", "fail"),
        ("fail", "fail", "db:responseTime", "fail"),
        ("unknown-ready", "fail", "db", "fail"),  # no latency: no responseTime entry
        ("unknown-live", "pass", "db:responseTime", "warn"),
    ],
)
def test_statuses_follow_the_verdict(
    key: str, status: str, check_key: str, check_status: str
) -> None:
    doc = json.loads(render_ietf(REPORTS[key], Detail.SUMMARY, service=SERVICE))
    assert doc["status"] == status
    assert doc["checks"][check_key][0]["status"] == check_status


def test_full_details_carry_output_only_when_not_passing_and_observed_values() -> None:
    passing = json.loads(render_ietf(REPORTS["pass"], Detail.FULL, service=SERVICE))
    assert "output" not in passing
    assert "output" not in passing["checks"]["db:responseTime"][0]
    assert passing["checks"]["db:responseTime"][0] == {
        "componentId": "db",
        "componentType": "datastore",
        "observedValue": 1.2,
        "observedUnit": "ms",
        "status": "pass",
        "time": "2026-01-02T03:04:05.678Z",
    }
    failing = json.loads(render_ietf(REPORTS["fail"], Detail.FULL, service=SERVICE))
    assert failing["output"] == "db: refused"
    assert failing["checks"]["db:responseTime"][0]["output"] == "refused"
    observed = json.loads(render_ietf(REPORTS["observed"], Detail.FULL, service=SERVICE))
    assert observed["checks"]["disk"][0]["observedValue"] == 90
    assert observed["checks"]["disk"][0]["observedUnit"] == "percent"


def test_exclusions_become_notes() -> None:
    doc = json.loads(render_ietf(REPORTS["excluded"], Detail.SUMMARY, service=SERVICE))
    assert doc["notes"] == [
        "excluded: cache",
        'some health checks cannot be excluded: no matches for "nope"',
    ]
