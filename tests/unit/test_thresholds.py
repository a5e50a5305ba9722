"""Flap damping: a table of reading sequences and what gets reported."""

from __future__ import annotations

import pytest

from healthprobe import CheckResult, Status
from healthprobe.engine.thresholds import Damper

P, W, U, F = Status.PASS, Status.WARN, Status.UNKNOWN, Status.FAIL

TABLE = [
    ("no damping", 1, 1, [P, F, P, F], [P, F, P, F]),
    ("failures below threshold stay passing", 3, 1, [P, F, F, F, F], [P, P, P, F, F]),
    ("a pass resets the failure count", 3, 1, [P, F, F, P, F, F], [P, P, P, P, P, P]),
    ("never passed: failures show at once", 3, 1, [F, F, P], [F, F, P]),
    ("recovery needs successes", 1, 2, [P, F, P, P, P], [P, F, F, P, P]),
    ("a failure resets recovery", 1, 2, [F, P, F, P, P], [F, F, F, F, P]),
    ("warn counts as good", 2, 1, [W, F, W], [W, W, W]),
    ("unknown passes through untouched", 2, 1, [P, U, F, U, F], [P, U, P, U, F]),
]


@pytest.mark.parametrize(
    ("failures", "successes", "readings", "reported"),
    [case[1:] for case in TABLE],
    ids=[case[0] for case in TABLE],
)
def test_damping(
    failures: int, successes: int, readings: list[Status], reported: list[Status]
) -> None:
    damper = Damper(failures, successes)
    got = [damper.feed(CheckResult(s, f"reading {i}")).status for i, s in enumerate(readings)]
    assert got == reported


def test_suppressed_failure_keeps_the_reason_in_details() -> None:
    damper = Damper(failure_threshold=2)
    damper.feed(CheckResult.passed())
    held = damper.feed(CheckResult.failed("connection refused"))
    assert held.status is P
    assert held.details["suppressed_failures"] == 1
    assert held.details["last_failure"] == "connection refused"


def test_recovering_result_says_so() -> None:
    damper = Damper(success_threshold=3)
    damper.feed(CheckResult.failed("down"))
    held = damper.feed(CheckResult.passed())
    assert held.status is F
    assert held.output.startswith("recovering: 1 of 3")


def test_settle_makes_a_takeover_go_on_from_the_hosts_state() -> None:
    damper = Damper(failure_threshold=3)
    damper.settle(CheckResult(Status.PASS, "fine"))
    held = damper.feed(CheckResult(Status.FAIL, "refused"))
    assert held.status is Status.PASS  # one failure of three: still suppressed
    assert held.details["suppressed_failures"] == 1
    damper.settle(CheckResult(Status.UNKNOWN))  # no state to go on from: ignored
    assert damper.feed(CheckResult(Status.FAIL, "refused")).status is Status.PASS
