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
    (
        "(0, msg) fails, saying why",
        (0, "zero"),
        Status.FAIL,
        "check returned an unsupported value of type int as the first item of"
        " (status, message): zero",
        {},
    ),
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
    # issue 13.12: the tutorial shape {"status": "unhealthy", "error": str(e)}
    ("dict error", {"status": "unhealthy", "error": "no route"}, Status.FAIL, "no route", {}),
    (
        "dict error exception",
        {"status": "down", "error": ConnectionError("refused")},
        Status.FAIL,
        "ConnectionError: refused",
        {},
    ),
    (
        "dict output wins over error",
        {"output": "o", "error": "e"},
        Status.PASS,
        "o",
        {"error": "e"},
    ),
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


# issue 17.1: the first item of a pair is read like a result of its own, never by truthiness.
PAIRS: list[tuple[str, object, Status, str, dict[str, Any]]] = [
    ("(fail word, msg)", ("fail", "db down"), Status.FAIL, "db down", {}),
    ("(down word, msg)", ("down", "db down"), Status.FAIL, "db down", {}),
    ("(warn word, msg)", ("degraded", "slow"), Status.WARN, "slow", {}),
    ("(ok word, msg)", ("ok", "fine"), Status.PASS, "fine", {}),
    ("(fail dict, msg)", ({"status": "fail"}, "db down"), Status.FAIL, "db down", {}),
    (
        "(dict with output, None)",
        ({"status": "unhealthy", "error": "refused", "n": 1}, None),
        Status.FAIL,
        "refused",
        {"n": 1},
    ),
    ("(fail dict, details)", ({"status": "down"}, {"n": 2}), Status.FAIL, "", {"n": 2}),
    ("(dict without status, msg)", ({"rows": 3}, "m"), Status.PASS, "m", {"rows": 3}),
    ("(CheckResult, msg)", (CheckResult.warned("w"), "m"), Status.WARN, "m", {}),
    ("(True, msg) kept", (True, "all good"), Status.PASS, "all good", {}),
    ("(False, msg) kept", (False, "no route"), Status.FAIL, "no route", {}),
    (
        "(unknown word, msg)",
        ("sorta", "m"),
        Status.FAIL,
        "check returned an unrecognized status 'sorta': m",
        {},
    ),
    (
        "(None, msg) fails, not a pass",
        (None, "m"),
        Status.FAIL,
        "check returned an unsupported value of type NoneType as the first item of"
        " (status, message): m",
        {},
    ),
    (
        "(1, msg) fails",
        (1, ""),
        Status.FAIL,
        "check returned an unsupported value of type int as the first item of (status, message)",
        {},
    ),
    (
        "(list, msg) fails",
        (["ok"], None),
        Status.FAIL,
        "check returned an unsupported value of type list as the first item of (status, message)",
        {},
    ),
]


@pytest.mark.parametrize(
    ("value", "status", "output", "details"),
    [case[1:] for case in PAIRS],
    ids=[case[0] for case in PAIRS],
)
def test_the_first_item_of_a_pair_is_read_like_a_result(
    value: object, status: Status, output: str, details: dict[str, Any]
) -> None:
    result = interpret(value)
    assert result.status is status
    assert result.output == output
    assert dict(result.details) == details


@pytest.mark.asyncio
async def test_a_check_returning_a_failing_pair_fails_the_probe() -> None:
    from healthprobe import Health

    health = Health()
    health.add(lambda: ("fail", "db down"), name="c")
    health.lifecycle.mark_started()
    report = await health.arun("ready")
    await health.astop()
    assert report.verdict is Status.FAIL
    assert report.checks["c"].result.output == "db down"
