"""What one run of one check produced."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from .status import Status

__all__ = ["CheckResult"]


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check run.

    A check may return one itself to say more than pass/fail: an ``output``
    (a human-readable reason, shown only where the details policy allows), an
    ``observed_value`` with its ``observed_unit`` (IETF health+json), a
    ``component_type`` (``datastore``, ``component``, ``system`` or a URI) and
    free-form ``details``.  ``latency`` (seconds) is filled in by the engine
    (a value a check sets there is overwritten); so is ``time`` (when the
    reading was taken), unless the check set an aware datetime of its own.
    """

    status: Status
    output: str = ""
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    observed_value: Any = None
    observed_unit: str | None = None
    component_type: str | None = None
    latency: float | None = None
    time: dt.datetime | None = None

    @classmethod
    def passed(cls, output: str = "", **fields: Any) -> CheckResult:
        """A passing result."""
        return cls(Status.PASS, output, **fields)

    @classmethod
    def warned(cls, output: str = "", **fields: Any) -> CheckResult:
        """A result that degrades the service without failing it."""
        return cls(Status.WARN, output, **fields)

    @classmethod
    def failed(cls, output: str = "", **fields: Any) -> CheckResult:
        """A failing result."""
        return cls(Status.FAIL, output, **fields)

    @classmethod
    def unknown(cls, output: str = "", **fields: Any) -> CheckResult:
        """No trustworthy reading (not run yet, or stale)."""
        return cls(Status.UNKNOWN, output, **fields)

    @property
    def latency_ms(self) -> float | None:
        """``latency`` in milliseconds, rounded to 0.001 ms."""
        return None if self.latency is None else round(self.latency * 1000.0, 3)
