"""py-healthcheck checkers, with py-healthcheck's semantics.

A py-healthcheck checker returns ``(passed, output)``; passing is the
**truthiness** of ``passed`` (``(1, "ok")`` passes, ``("", "x")`` fails),
an exception fails with ``str(exc)`` as the output, and results are cached
by outcome: a pass for ``success_ttl`` seconds (27), a failure for
``failed_ttl`` (9), as py-healthcheck does so that an often-polling load
balancer does not hammer a dependency::

    from healthprobe.compat import py_healthcheck

    py_healthcheck.add_check(health, redis_available)
    py_healthcheck.add_check(health, slow_api, error_timeout=2)

``error_timeout`` (seconds; 0 = none in py-healthcheck) becomes the check's
``timeout``, which works in any thread (py-healthcheck's ``SIGALRM`` only
works in the main thread).  healthprobe has no unbounded check: with
``error_timeout=0`` the engine's timeout applies (5 s unless ``timeout=``).
The check is named after the function, as there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["add_check", "as_check"]


def _judge(value: object) -> CheckResult:
    if isinstance(value, tuple) and len(value) == 2:
        passed, output = value
    else:  # not the documented shape: py-healthcheck's unpacking would raise, a failure
        return CheckResult.failed(
            f"a checker must return (passed, output), not {type(value).__name__}"
        )
    text = "" if output is None else str(output)
    return CheckResult.passed(text) if passed else CheckResult.failed(text)


def as_check(
    checker: Callable[[], Any], *, success_ttl: float = 27.0, failed_ttl: float = 9.0
) -> Callable[[], CheckResult]:
    """A sync healthprobe check that runs ``checker`` and caches its result by outcome."""
    lock = threading.Lock()
    cached: list[tuple[CheckResult, float]] = []

    def check() -> CheckResult:
        now = time.monotonic()
        with lock:
            if cached and cached[0][1] > now:
                return cached[0][0]
        try:
            result = _judge(checker())
        except Exception as exc:
            result = CheckResult.failed(str(exc))
        ttl = success_ttl if result.status.value == "pass" else failed_ttl
        with lock:
            cached[:] = [(result, time.monotonic() + ttl)]
        return result

    check.__name__ = check.__qualname__ = getattr(checker, "__name__", "checker")
    return check


def add_check(
    health: Health,
    checker: Callable[[], Any],
    *,
    success_ttl: float = 27.0,
    failed_ttl: float = 9.0,
    error_timeout: float = 0,
    **options: Any,
) -> str:
    """Register ``checker`` (named after its ``__name__``); returns the name."""
    name = getattr(checker, "__name__", "checker")
    if error_timeout and "timeout" not in options:
        options["timeout"] = error_timeout
    health.add(
        as_check(checker, success_ttl=success_ttl, failed_ttl=failed_ttl), name=name, **options
    )
    return name
