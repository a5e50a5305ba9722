"""fastapi-healthchecks ``Check`` objects, read through their own ``CheckResult``.

A fastapi-healthchecks check is an object whose async ``__call__`` returns
``CheckResult(name, passed, details)``::

    from healthprobe.compat import fastapi_healthchecks as fhc

    fhc.add_check(health, MaintenanceCheck())          # named "maintenance_check"

``passed`` decides pass or fail; ``details`` (a string, or anything else
shown as text) is the output.  A traceback that a check puts in its details
(the library's own checks return ``traceback.format_exc()``) is reduced to
its last line, the exception itself: frames and file paths never leave the
process.  The check is named after its class unless ``name=`` is given
(the result's own ``name`` is only known after a run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthprobe.engine.result import CheckResult

from ._naming import snake_name

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["add_check", "as_check"]


def _output(details: object) -> str:
    if details is None:
        return ""
    text = str(details).strip()
    if text.startswith("Traceback (most recent call last):"):
        return text.splitlines()[-1].strip()
    return text


def as_check(peer_check: Any) -> Any:
    """An async healthprobe check awaiting ``peer_check()`` and reading its result."""

    async def acheck() -> CheckResult:
        result = await peer_check()
        output = _output(getattr(result, "details", None))
        if getattr(result, "passed", False) is True:
            return CheckResult.passed(output)
        return CheckResult.failed(output or "the check did not pass")

    return acheck


def add_check(health: Health, peer_check: Any, *, name: str | None = None, **options: Any) -> str:
    """Register ``peer_check`` (named after its class unless ``name``); returns the name."""
    chosen = name or snake_name(type(peer_check).__name__)
    health.add(as_check(peer_check), name=chosen, **options)
    return chosen
