"""fastapi-health's conditions, with fastapi-health's semantics.

fastapi-health (``health([cond, ...])``) passes when **every condition's
result is truthy** and answers the conditions' dicts merged into one body::

    from healthprobe.compat import fastapi_health

    fastapi_health.add_conditions(health, [database_online, cache_warm])
    ...
    fastapi_health.merged(report)   # {"database": "online", "cache": "warm"}

Read as fastapi-health reads them: ``"connected"``, ``1`` and
``{"status": "online"}`` pass (they are truthy; healthprobe's own reading
would fail an unknown status word), ``False``, ``None``, ``{}``, ``0`` and
``""`` fail.  A dict's keys become the check's details (so :func:`merged`
can rebuild the peer's body).  A parameter whose default is
``Depends(other)`` is resolved by calling ``other`` first (recursively, sync
or async), as FastAPI would for these argument-free conditions; a
parameter without a default cannot be resolved and is refused at
registration.  Each condition is named after its ``__name__``, as there.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.result import CheckResult

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.report import Report

__all__ = ["add_conditions", "condition", "merged"]


def _dependencies(func: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """``{parameter: dependency}`` for every ``Depends(...)`` default of ``func``."""
    found: dict[str, Callable[..., Any]] = {}
    for name, parameter in inspect.signature(func).parameters.items():
        dependency = getattr(parameter.default, "dependency", None)
        if callable(dependency):
            found[name] = dependency
        elif parameter.default is inspect.Parameter.empty:
            raise ConfigurationError(
                f"condition {getattr(func, '__name__', func)!r}: parameter {name!r} has no "
                "default; only Depends(...) defaults can be resolved outside FastAPI"
            )
    return found


def _any_async(func: Callable[..., Any], depth: int = 0) -> bool:
    if depth > 16:
        raise ConfigurationError("Depends(...) chain deeper than 16 (a cycle?)")
    return inspect.iscoroutinefunction(func) or any(
        _any_async(dep, depth + 1) for dep in _dependencies(func).values()
    )


def _resolve_sync(func: Callable[..., Any]) -> Any:
    return func(**{name: _resolve_sync(dep) for name, dep in _dependencies(func).items()})


async def _resolve(func: Callable[..., Any]) -> Any:
    arguments = {name: await _resolve(dep) for name, dep in _dependencies(func).items()}
    if inspect.iscoroutinefunction(func):
        return await func(**arguments)
    # A sync dependency of an async condition: off the loop, as FastAPI runs it.
    value = await asyncio.to_thread(func, **arguments)
    return await value if inspect.isawaitable(value) else value


def _judge(value: object) -> CheckResult:
    details = dict(value) if isinstance(value, Mapping) else {}
    if value:
        return CheckResult.passed(details=details)
    return CheckResult.failed(f"the condition returned {_short(value)}", details=details)


def condition(func: Callable[..., Any]) -> Callable[[], Any]:
    """A healthprobe check that reads ``func``'s result as fastapi-health does.

    Sync when ``func`` and its dependencies are all sync (the engine runs it
    in its worker thread), async otherwise.
    """
    name = getattr(func, "__name__", "condition")
    if _any_async(func):  # also refuses unresolvable parameters now

        async def acheck() -> CheckResult:
            return _judge(await _resolve(func))

        acheck.__name__ = acheck.__qualname__ = name
        return acheck

    def check() -> CheckResult:
        return _judge(_resolve_sync(func))

    check.__name__ = check.__qualname__ = name
    return check


def add_conditions(
    health: Health, conditions: Iterable[Callable[..., Any]], **options: Any
) -> list[str]:
    """Register each condition (named after its ``__name__``); returns the names.

    ``options`` go to :meth:`Health.add` for every condition (``timeout``,
    ``critical``, ``probes``...).
    """
    names = []
    for func in conditions:
        name = getattr(func, "__name__", "condition")
        health.add(condition(func), name=name, **options)
        names.append(name)
    return names


def merged(report: Report, names: Iterable[str] | None = None) -> dict[str, Any]:
    """fastapi-health's default body: the dicts of the conditions in ``report``, merged in order.

    Details are read from the report, so they are the sanitized ones.
    """
    wanted = None if names is None else set(names)
    out: dict[str, Any] = {}
    for name, entry in report.checks.items():
        if wanted is None or name in wanted:
            out.update(entry.result.details)
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
