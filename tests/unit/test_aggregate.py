"""Aggregation: table-driven rules, then properties over every combination."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthprobe import Status
from healthprobe.engine.aggregate import aggregate, contribution

P, W, U, F = Status.PASS, Status.WARN, Status.UNKNOWN, Status.FAIL

TABLE: list[tuple[list[tuple[Status, bool]], Status]] = [
    ([], P),
    ([(P, True)], P),
    ([(P, True), (P, False)], P),
    ([(W, True)], W),
    ([(F, True)], F),
    ([(U, True)], U),
    ([(F, False)], W),  # a non-critical failure degrades, never fails
    ([(U, False)], W),
    ([(W, False)], W),
    ([(F, False), (P, True)], W),
    ([(U, True), (W, True)], U),
    ([(U, True), (F, True)], F),
    ([(F, True), (U, False), (W, True)], F),
    ([(U, False), (F, False), (P, True)], W),
]


@pytest.mark.parametrize(("entries", "expected"), TABLE)
def test_aggregation_table(entries: list[tuple[Status, bool]], expected: Status) -> None:
    assert aggregate(entries) is expected


entries_strategy = st.lists(st.tuples(st.sampled_from(list(Status)), st.booleans()), max_size=12)


@given(entries_strategy)
def test_aggregate_is_the_worst_contribution(entries: list[tuple[Status, bool]]) -> None:
    result = aggregate(entries)
    expected = max((contribution(s, c) for s, c in entries), key=lambda s: s.severity, default=P)
    assert result is expected


@given(entries_strategy, st.randoms())
def test_aggregate_ignores_order(entries: list[tuple[Status, bool]], rnd: object) -> None:
    shuffled = list(entries)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]  # hypothesis Random
    assert aggregate(shuffled) is aggregate(entries)


@given(st.lists(st.sampled_from(list(Status)), max_size=12))
def test_non_critical_checks_never_fail_the_aggregate(statuses: list[Status]) -> None:
    result = aggregate((s, False) for s in statuses)
    assert result in (P, W)
    assert (result is P) == all(s is P for s in statuses)


@given(entries_strategy)
def test_any_critical_failure_fails(entries: list[tuple[Status, bool]]) -> None:
    if any(s is F and c for s, c in entries):
        assert aggregate(entries) is F
    else:
        assert aggregate(entries) is not F


@given(entries_strategy, st.sampled_from(list(Status)), st.booleans())
def test_adding_a_check_never_improves_the_aggregate(
    entries: list[tuple[Status, bool]], status: Status, critical: bool
) -> None:
    before = aggregate(entries)
    after = aggregate([*entries, (status, critical)])
    assert after.severity >= before.severity
