"""django-health-check backends (``HealthCheck`` subclasses), with their warn-vs-fail kept.

A django-health-check 4 backend is a dataclass whose ``run()`` (sync or
async) returns to pass and raises to report::

    from healthprobe.compat import django_health_check as dhc

    dhc.add_check(health, SearchIndex())                 # named "search_index"
    dhc.add_check(health, QueueBacklog(limit=100), name="backlog")

Read as the backend means it: ``ServiceWarning`` (and its subclasses, such
as ``StatusPageWarning``) is a **warn** (the service is degraded, still
200), every other ``HealthCheckException`` (``ServiceUnavailable``,
``ServiceReturnedUnexpectedResult``) a **fail** with its text
(``"Unavailable: search index down"``), and any other exception a fail
whose text is django-health-check's ``"Unknown Error: unknown error"``:
the peer never shows an unexpected exception's message, and neither does
the adapter.  One backend that warns in one state and fails in another
keeps both.  The check is named after the class (``SearchIndex`` ->
``search_index``), not ``run``; pass ``name=`` for two instances of one class.

The exceptions are recognised by their class names, so the peer (and
Django) need not be importable where the checks run.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from healthprobe.engine.result import CheckResult

from ._naming import snake_name

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["add_check", "as_check", "judge_exception"]

_UNEXPECTED = "Unknown Error: unknown error"


def _is(exc: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def judge_exception(exc: BaseException) -> CheckResult:
    """The result of a backend whose ``run()`` raised ``exc``."""
    if _is(exc, "ServiceWarning"):
        return CheckResult.warned(str(exc))
    if _is(exc, "HealthCheckException"):
        return CheckResult.failed(str(exc))
    return CheckResult.failed(_UNEXPECTED)


def as_check(backend: Any) -> Any:
    """A healthprobe check running ``backend.run()`` (async or sync, as the backend is)."""
    run = backend.run
    if inspect.iscoroutinefunction(run):

        async def acheck() -> CheckResult:
            try:
                await run()
            except Exception as exc:
                return judge_exception(exc)
            return CheckResult.passed()

        return acheck

    def check() -> CheckResult:
        try:
            run()
        except Exception as exc:
            return judge_exception(exc)
        return CheckResult.passed()

    return check


def add_check(health: Health, backend: Any, *, name: str | None = None, **options: Any) -> str:
    """Register ``backend`` (named after its class unless ``name``); returns the name.

    ``options`` go to :meth:`Health.add` (``timeout``, ``critical``...).
    """
    chosen = name or snake_name(type(backend).__name__)
    health.add(as_check(backend), name=chosen, **options)
    return chosen
