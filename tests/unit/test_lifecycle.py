"""Process lifecycle folded into reports (pure) and the thread-safe state holder."""

from __future__ import annotations

import pytest

from healthprobe import Status
from healthprobe.engine.lifecycle import Lifecycle, LifecycleState, apply_lifecycle

from ._reports import report, result

OK = report("ready", {"db": result(Status.PASS)})


@pytest.mark.parametrize(
    ("state", "probe", "verdict", "failing"),
    [
        (LifecycleState(), "ready", Status.FAIL, ["lifecycle/startup"]),
        (LifecycleState(), "startup", Status.FAIL, ["lifecycle/startup"]),
        (LifecycleState(), "live", Status.PASS, []),  # liveness does not wait for startup
        (LifecycleState(started=True), "ready", Status.PASS, []),
        (LifecycleState(started=True, draining=True), "ready", Status.FAIL, ["lifecycle/shutdown"]),
        (LifecycleState(started=True, draining=True), "live", Status.PASS, []),
        (
            LifecycleState(started=True, marked_not_ready=True),
            "ready",
            Status.FAIL,
            ["lifecycle/ready"],
        ),
        (LifecycleState(started=True, marked_not_ready=True), "live", Status.PASS, []),
        (LifecycleState(started=True, draining=True), "startup", Status.PASS, []),
    ],
)
def test_state_by_probe(
    state: LifecycleState, probe: str, verdict: Status, failing: list[str]
) -> None:
    rep = apply_lifecycle(report(probe, {"db": result(Status.PASS)}), state)
    assert rep.verdict is verdict
    assert [n for n, c in rep.checks.items() if c.status is Status.FAIL] == failing
    assert "db" in rep.checks


def test_broken_fails_liveness_with_a_sanitized_reason() -> None:
    life = Lifecycle()
    life.mark_started()
    life.mark_broken("pool lost: postgresql://app:S3cret@db.internal/app")
    rep = apply_lifecycle(report("live", {}), life.state)
    assert rep.verdict is Status.FAIL
    output = rep.checks["lifecycle/live"].result.output
    assert "S3cret" not in output
    assert "db.internal" not in output
    life.mark_fixed()
    assert apply_lifecycle(report("live", {}), life.state).verdict is Status.PASS


def test_manual_marks_round_trip_and_excludes_apply() -> None:
    life = Lifecycle()
    life.mark_started()
    life.mark_not_ready()
    assert apply_lifecycle(OK, life.state).verdict is Status.FAIL
    skipped = apply_lifecycle(OK, life.state, exclude=["lifecycle/ready"])
    assert skipped.verdict is Status.PASS
    assert "lifecycle/ready" in skipped.excluded
    life.mark_ready()
    assert apply_lifecycle(OK, life.state).verdict is Status.PASS


def test_unchanged_state_hands_out_the_same_result_objects() -> None:
    life = Lifecycle()
    life.mark_started()
    first = apply_lifecycle(OK, life.state)
    second = apply_lifecycle(OK, life.state)
    assert all(
        a.result is b.result
        for a, b in zip(first.checks.values(), second.checks.values(), strict=True)
    )


def test_custom_probes_are_left_alone() -> None:
    rep = report("nightly", {"db": result(Status.PASS)})
    assert apply_lifecycle(rep, LifecycleState()) is rep
