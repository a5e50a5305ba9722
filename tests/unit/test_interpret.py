"""Every return convention a check may use, and what it reads as."""

from __future__ import annotations

from typing import Any

import pytest

from healthprobe import CheckResult, Status, interpret

CASES: list[tuple[str, object, Status, str, dict[str, Any]]] = [
    ("None passes", None, Status.PASS, "", {}),
    ("True passes", True, Status.PASS, "", {}),
    ("False fails", False, Status.FAIL, "", {}),
    ("(True, msg) passes with msg", (True, "all good"), Status.PASS, "all good", {}),
    ("(False, msg) fails with msg", (False, "no route"), Status.FAIL, "no route", {}),
    ("(0, msg) fails", (0, "zero"), Status.FAIL, "zero", {}),
    ("(ok, dict) gives details", (True, {"rows": 3}), Status.PASS, "", {"rows": 3}),
    ("(Status, msg)", (Status.WARN, "slow"), Status.WARN, "slow", {}),
    ("dict without status passes", {"db": "ok", "n": 1}, Status.PASS, "", {"db": "ok", "n": 1}),
    ("dict healthy", {"status": "healthy"}, Status.PASS, "", {}),
    ("dict ok", {"status": "ok", "version": "15"}, Status.PASS, "", {"version": "15"}),
    ("dict up", {"status": "UP"}, Status.PASS, "", {}),
    ("dict warn", {"status": "warn"}, Status.WARN, "", {}),
    ("dict degraded", {"status": "degraded"}, Status.WARN, "", {}),
    ("dict down", {"status": "down"}, Status.FAIL, "", {}),
    ("dict unhealthy", {"status": "unhealthy"}, Status.FAIL, "", {}),
    ("dict fail + output", {"status": "fail", "output": "x"}, Status.FAIL, "x", {}),
    ("dict message", {"status": "pass", "message": "m", "k": 2}, Status.PASS, "m", {"k": 2}),
    (
        "dict bad status fails",
        {"status": "sorta"},
        Status.FAIL,
        "check returned an unrecognized status 'sorta'",
        {},
    ),
    ("status word ok", "ok", Status.PASS, "", {}),
    ("status word down", "down", Status.FAIL, "", {}),
    (
        "unknown word fails",
        "maybe",
        Status.FAIL,
        "check returned an unrecognized status 'maybe'",
        {},
    ),
    ("Status value", Status.WARN, Status.WARN, "", {}),
    ("int is unsupported", 1, Status.FAIL, "check returned an unsupported value of type int", {}),
    (
        "list is unsupported",
        [1],
        Status.FAIL,
        "check returned an unsupported value of type list",
        {},
    ),
    (
        "3-tuple is unsupported",
        (True, "a", "b"),
        Status.FAIL,
        "check returned an unsupported value of type tuple",
        {},
    ),
]


@pytest.mark.parametrize(
    ("value", "status", "output", "details"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_return_values_are_read_by_convention(
    value: object, status: Status, output: str, details: dict[str, Any]
) -> None:
    result = interpret(value)
    assert result.status is status
    assert result.output == output
    assert dict(result.details) == details


def test_check_result_is_taken_as_it_is() -> None:
    given = CheckResult.warned("disk 91% full", observed_value=91, observed_unit="percent")
    assert interpret(given) is given
