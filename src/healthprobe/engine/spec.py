"""A registered check's options, validated once at registration."""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from . import driver_logs
from .errors import ConfigurationError

__all__ = [
    "BUILTIN_PROBES",
    "DEFAULT_TIMEOUT",
    "CallKind",
    "CheckSpec",
    "make_spec",
    "validate_name",
]

#: The probes every :class:`~healthprobe.Health` knows, named as Kubernetes names them.
BUILTIN_PROBES = ("live", "ready", "startup")
DEFAULT_TIMEOUT = 5.0

# Letters, digits, and ``_ . -`` inside; no ``/`` (it would split the URL path)
# and no ``:`` (it separates component from measurement in IETF health+json).
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9])?")


class CallKind(enum.Enum):
    """How the engine calls a check."""

    ASYNC = "async"  # awaited on the event loop
    SYNC = "sync"  # called in a worker thread; an awaitable it returns is awaited


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """Everything the engine needs to know about one registered check."""

    name: str
    call: Callable[[], Any]
    kind: CallKind
    target: object
    timeout: float
    critical: bool
    probes: frozenset[str]
    interval: float | None
    initial_delay: float
    cache_ttl: float
    max_staleness: float | None
    failure_threshold: int
    success_threshold: int
    component_type: str | None
    secrets: tuple[str, ...]


def validate_name(name: object, *, what: str = "check") -> str:
    """Return ``name`` if it is a valid check (or probe) name, else raise ConfigurationError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"{what} name {name!r} is invalid: use 1-64 letters, digits, '_', '.' or '-', "
            "starting and ending with a letter or digit"
        )
    return name


def probe_options(
    groups: Iterable[str], unknown_passes: Iterable[str], deadline: float | None
) -> tuple[tuple[str, ...], frozenset[str]]:
    """Validate ``Health``'s probe options: (every probe, the probes whose unknown passes).

    Raises ConfigurationError naming the probe or the option.
    """
    if isinstance(groups, str):
        groups = (groups,)
    probes = list(BUILTIN_PROBES)
    for group in groups:
        validate_name(group, what="probe")
        if group in probes:
            raise ConfigurationError(f"probe {group!r} is declared twice")
        probes.append(group)
    unknown = frozenset((unknown_passes,) if isinstance(unknown_passes, str) else unknown_passes)
    for probe in unknown - set(probes):
        raise ConfigurationError(f"unknown_passes names unknown probe {probe!r}")
    if deadline is not None and (
        isinstance(deadline, bool)
        or not isinstance(deadline, (int, float))
        or not deadline > 0
        or math.isinf(deadline)
    ):
        raise ConfigurationError(f"deadline must be a positive number of seconds, not {deadline!r}")
    return tuple(probes), unknown


def make_spec(
    target: object,
    *,
    name: str | None,
    timeout: float | None,
    critical: bool,
    probes: Iterable[str],
    known_probes: Iterable[str],
    interval: float | None,
    initial_delay: float,
    cache_ttl: float,
    max_staleness: float | None,
    failure_threshold: int,
    success_threshold: int,
    component_type: str | None,
    secrets: Iterable[str],
) -> CheckSpec:
    """Validate the options of one check and bind how it is called.

    Every problem raises :class:`ConfigurationError` whose message starts with
    the check's name (or its repr when it has none).
    """
    label = name if isinstance(name, str) and name else _describe(target)
    call, kind = _bind(target, label)
    resolved_name = validate_name(name if name is not None else _default_name(target, label))

    def problem(text: str) -> ConfigurationError:
        return ConfigurationError(f"check {resolved_name!r}: {text}")

    if timeout is None:
        declared = getattr(target, "timeout", None)
        usable = isinstance(declared, (int, float)) and not isinstance(declared, bool)
        timeout = declared if usable else DEFAULT_TIMEOUT
    timeout = _positive(timeout, "timeout", problem)
    if not isinstance(critical, bool):
        raise problem(f"critical must be True or False, not {critical!r}")
    if isinstance(probes, str):
        probes = (probes,)
    probe_set = frozenset(probes)
    known = frozenset(known_probes)
    for probe in sorted(probe_set):
        if probe not in known:
            raise problem(
                f"unknown probe {probe!r}; known probes are {', '.join(sorted(known))} "
                "(declare custom groups with Health(groups=...))"
            )
    if interval is not None:
        interval = _positive(interval, "interval", problem)
    initial_delay = _non_negative(initial_delay, "initial_delay", problem)
    cache_ttl = _non_negative(cache_ttl, "cache_ttl", problem)
    max_staleness = _staleness(max_staleness, interval, timeout, cache_ttl, problem)
    for option, value in (
        ("failure_threshold", failure_threshold),
        ("success_threshold", success_threshold),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise problem(f"{option} must be an integer of at least 1, not {value!r}")
    if component_type is None:
        declared = getattr(target, "component_type", None)
        component_type = declared if isinstance(declared, str) else None
    elif not isinstance(component_type, str):
        raise problem(f"component_type must be a string, not {type(component_type).__name__}")
    given = _secrets(secrets, problem)
    declared_secrets = getattr(target, "secrets", ())
    all_secrets = tuple(s for s in (*given, *(declared_secrets or ())) if isinstance(s, str) and s)
    # The check's driver logs too (httpcore at DEBUG names its host): scrub those records.
    driver_logs.declare(all_secrets)
    return CheckSpec(
        name=resolved_name,
        call=call,
        kind=kind,
        target=target,
        timeout=timeout,
        critical=critical,
        probes=probe_set,
        interval=interval,
        initial_delay=initial_delay,
        cache_ttl=cache_ttl,
        max_staleness=max_staleness,
        failure_threshold=failure_threshold,
        success_threshold=success_threshold,
        component_type=component_type,
        secrets=all_secrets,
    )


def _secrets(secrets: object, problem: Callable[[str], ConfigurationError]) -> tuple[str, ...]:
    if isinstance(secrets, str):
        return (secrets,)  # one secret, not its characters ("abc" is not "a", "b", "c")
    if not isinstance(secrets, Iterable):
        raise problem(f"secrets must be a list of strings, not {type(secrets).__name__}")
    given = tuple(secrets)
    if not all(isinstance(s, str) for s in given):
        raise problem("secrets must be a list of strings")
    return given


def _staleness(
    max_staleness: float | None,
    interval: float | None,
    timeout: float,
    cache_ttl: float,
    problem: Callable[[str], ConfigurationError],
) -> float | None:
    if max_staleness is None and interval is not None:
        # A polled reading is refreshed every interval (+ at most one timeout);
        # twice that is late enough to be sure polling has stalled.
        max_staleness = 2 * interval + timeout
    if max_staleness is None:
        return None
    max_staleness = _positive(max_staleness, "max_staleness", problem)
    if max_staleness < cache_ttl:
        raise problem(
            f"max_staleness ({max_staleness:g} s) is shorter than cache_ttl "
            f"({cache_ttl:g} s): cached results would always read unknown"
        )
    if interval is not None and max_staleness < interval:
        raise problem(
            f"max_staleness ({max_staleness:g} s) is shorter than interval "
            f"({interval:g} s): polled results would always read unknown"
        )
    return max_staleness


def _bind(target: object, label: str) -> tuple[Callable[[], Any], CallKind]:
    """Find the callable of a check and whether it is a coroutine function."""
    acheck = getattr(target, "acheck", None)
    if callable(acheck):
        return acheck, CallKind.ASYNC
    check = getattr(target, "check", None)
    if callable(check) and not inspect.isfunction(target):
        return check, (CallKind.ASYNC if _is_async(check) else CallKind.SYNC)
    if callable(target):
        return target, (CallKind.ASYNC if _is_async(target) else CallKind.SYNC)
    raise ConfigurationError(
        f"check {label!r}: expected a callable or an object with check()/acheck(), "
        f"got {type(target).__name__}"
    )


def _is_async(func: object) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - looking for an async __call__
    return call is not None and not inspect.isroutine(func) and inspect.iscoroutinefunction(call)


def _default_name(target: object, label: str) -> str:
    declared = getattr(target, "name", None)
    if isinstance(declared, str) and declared:
        return declared
    name = getattr(target, "__name__", None)
    if isinstance(name, str) and _NAME.fullmatch(name):
        return name
    raise ConfigurationError(
        f"check {label!r}: cannot derive a name from it (lambdas and partials have none); "
        "pass name=..."
    )


def _describe(target: object) -> str:
    name = getattr(target, "__name__", None)
    return name if isinstance(name, str) else repr(target)


def _number(value: object, option: str, problem: Callable[[str], ConfigurationError]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise problem(f"{option} must be a number of seconds, not {value!r}")
    return float(value)


def _positive(value: object, option: str, problem: Callable[[str], ConfigurationError]) -> float:
    number = _number(value, option, problem)
    if number <= 0 or math.isinf(number):
        raise problem(f"{option} must be a positive, finite number of seconds, not {value!r}")
    return number


def _non_negative(
    value: object, option: str, problem: Callable[[str], ConfigurationError]
) -> float:
    number = _number(value, option, problem)
    if number < 0 or math.isinf(number):
        raise problem(
            f"{option} must be zero or a positive, finite number of seconds, not {value!r}"
        )
    return number
