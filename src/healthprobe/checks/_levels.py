"""Warn/fail threshold options of the system checks: validated once, graded per reading.

Two directions exist.  For a value where *more is worse* (percent used,
event-loop lag) a reading at or above a threshold trips it.  For a value where
*less is worse* (free bytes, days until a certificate expires) a reading below
a threshold trips it.  Either threshold may be ``None`` (not checked).
"""

from __future__ import annotations

import math

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.status import Status

__all__ = ["grade", "option", "thresholds", "timeout_option"]


def option(
    name: str,
    key: str,
    value: object,
    *,
    low: float | None = 0.0,
    high: float | None = None,
    strict_low: bool = False,
) -> float | None:
    """``value`` as a float, or ``None`` when unset; ConfigurationError naming ``key`` otherwise.

    ``low``/``high`` bound it inclusively (``strict_low`` makes ``low`` exclusive).
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)
        or math.isinf(value)
    ):
        raise ConfigurationError(f"check {name!r}: {key} must be a finite number, not {value!r}")
    number = float(value)
    too_low = low is not None and (number <= low if strict_low else number < low)
    if too_low or (high is not None and number > high):
        lower = "" if low is None else f"{'above' if strict_low else 'at least'} {low:g}"
        upper = "" if high is None else f"at most {high:g}"
        bounds = " and ".join(part for part in (lower, upper) if part)
        raise ConfigurationError(f"check {name!r}: {key} must be {bounds}, not {value!r}")
    return number


def timeout_option(name: str, timeout: object) -> float:
    """A check's own timeout: a positive, finite number of seconds."""
    value = option(name, "timeout", timeout, strict_low=True)
    if value is None:
        raise ConfigurationError(f"check {name!r}: timeout must be a number of seconds, not None")
    return value


def thresholds(
    name: str,
    warn: tuple[str, float | None],
    fail: tuple[str, float | None],
    *,
    higher_is_worse: bool,
) -> None:
    """Raise ConfigurationError when the warn threshold would trip after the fail one."""
    (warn_key, warn_value), (fail_key, fail_value) = warn, fail
    if warn_value is None or fail_value is None:
        return
    if higher_is_worse and warn_value > fail_value:
        raise ConfigurationError(
            f"check {name!r}: {warn_key} ({warn_value:g}) is above {fail_key} ({fail_value:g})"
        )
    if not higher_is_worse and warn_value < fail_value:
        raise ConfigurationError(
            f"check {name!r}: {warn_key} ({warn_value:g}) is below {fail_key} ({fail_value:g})"
        )


def grade(value: float, warn: float | None, fail: float | None, *, higher_is_worse: bool) -> Status:
    """The level of one reading against its thresholds (fail wins over warn)."""

    def trips(limit: float | None) -> bool:
        if limit is None:
            return False
        return value >= limit if higher_is_worse else value < limit

    if trips(fail):
        return Status.FAIL
    if trips(warn):
        return Status.WARN
    return Status.PASS


def tripped(status: Status, warn: float | None, fail: float | None, unit: str = "") -> str:
    """What to add to a graded reading's text: ``" (warn at 90%)"``, or ``""`` for a pass."""
    if status is Status.PASS:
        return ""
    limit = fail if status is Status.FAIL else warn
    return f" ({status.value} at {limit:g}{unit})"
