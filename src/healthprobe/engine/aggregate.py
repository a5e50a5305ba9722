"""Aggregation of check statuses into one probe status (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable

from .status import Status

__all__ = ["aggregate", "contribution"]


def contribution(status: Status, critical: bool) -> Status:
    """What one check's status adds to the aggregate.

    A critical check counts as it is.  A non-critical check can degrade the
    service but never fail it: anything other than ``pass`` counts as ``warn``
    (``unknown`` included: an optional dependency we know nothing about is a
    degradation, not an outage).
    """
    if critical or status is Status.PASS:
        return status
    return Status.WARN


def aggregate(entries: Iterable[tuple[Status, bool]]) -> Status:
    """The worst contribution of ``(status, critical)`` pairs; ``pass`` when empty.

    Severity order: ``pass < warn < unknown < fail``.  The result does not
    depend on the order of the entries.
    """
    worst = Status.PASS
    for status, critical in entries:
        counted = contribution(status, critical)
        if counted.severity > worst.severity:
            worst = counted
            if worst is Status.FAIL:
                break
    return worst
