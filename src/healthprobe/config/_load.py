"""Reading and validating a ``healthprobe.toml`` file.

Layout::

    [health]                      # optional: the Health instance
    version = "1.4.2"
    deadline = 10                 # seconds, bound on a whole probe run
    groups = ["deep"]             # custom probes besides live/ready/startup
    unknown_passes = ["live"]

    [serve]                       # optional: `healthprobe serve` (see cli/_serve.py)
    host = "0.0.0.0"
    port = 8080

    [checks.postgres]             # the table key is the check's name
    type = "postgres"             # a built-in check (config.BUILTIN_CHECKS) ...
    dsn = "${PG_DSN}"             # ... and its constructor's options
    timeout = 2                   # engine options: see ENGINE_OPTIONS
    critical = true

    [checks.queue]
    callable = "myapp.health:check_queue"   # or your own check

Validation never imports a driver; :meth:`Config.build` does, lazily.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from healthprobe._optional import MissingDependencyError, require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.health import Health
from healthprobe.engine.sanitize import sanitize
from healthprobe.engine.spec import BUILTIN_PROBES, validate_name

from ._adapters import OwnedEngine
from ._env import substitute
from ._errors import ConfigError, MissingDriverError
from ._http import check_handler, http_options, serve_options
from ._registry import BUILTIN_CHECKS, Builtin, build_check, import_object, missing_driver, nearest

__all__ = ["ENGINE_OPTIONS", "CheckConfig", "Config", "load"]

#: Keys of a check table that configure the engine (``Health.add``), not the check.
#: ``timeout`` is also passed to a constructor that takes one (built-in checks
#: bound their driver with it).
ENGINE_OPTIONS = (
    "timeout",
    "critical",
    "probes",
    "interval",
    "initial_delay",
    "cache_ttl",
    "max_staleness",
    "failure_threshold",
    "success_threshold",
    "component_type",
    "secrets",
    "enabled",
)
_POSITIVE = ("timeout", "interval", "max_staleness")
_NON_NEGATIVE = ("initial_delay", "cache_ttl")
_COUNTS = ("failure_threshold", "success_threshold")
_HEALTH_KEYS = ("version", "deadline", "groups", "unknown_passes")


@dataclasses.dataclass(frozen=True)
class CheckConfig:
    """One ``[checks.NAME]`` table, validated but not yet built."""

    name: str
    type: str | None
    callable: str | None
    options: Mapping[str, Any]  # for the check's constructor or factory
    engine: Mapping[str, Any]  # for Health.add
    secrets: tuple[str, ...]  # values taken from the environment, plus declared ones


@dataclasses.dataclass(frozen=True)
class Config:
    """A validated config file; :meth:`build` turns it into a :class:`~healthprobe.Health`."""

    path: str
    health: Mapping[str, Any]
    serve: Mapping[str, Any]
    checks: tuple[CheckConfig, ...]

    def http_options(self) -> dict[str, Any]:
        """Keyword options for ``HealthApp``/``HealthMiddleware`` from ``[serve]``."""
        return http_options(self.serve, self.path)

    def build(self) -> Health:
        """A Health with every enabled check constructed and registered.

        Imports each check's module (and, through it, its driver) now; an
        option the constructor rejects is a :class:`ConfigError` naming the
        check's key.  Missing drivers are gathered: one
        :class:`~healthprobe.config.MissingDriverError` names every check that
        needs one and the single ``pip install`` that provides them all.
        """
        try:
            health = Health(**self.health)
        except ConfigurationError as exc:
            # Never repeat a value of the table (the error type's contract).
            problem = sanitize(exc, _strings_in(self.health))
            raise ConfigError(self.path, "health", problem) from None
        missing: list[MissingDriverError] = []
        for check in self.checks:
            if check.engine.get("enabled", True) is False:
                continue
            key = f"checks.{check.name}"
            try:
                target = _construct(check, self.path, key)
            except MissingDriverError as exc:
                missing.append(exc)
                continue
            engine = {k: v for k, v in check.engine.items() if k != "enabled"}
            engine["secrets"] = check.secrets
            try:
                health.add(target, name=check.name, **engine)
            except ConfigurationError as exc:
                problem = sanitize(exc, (*check.secrets, *_strings_in(check.engine)))
                raise ConfigError(self.path, key, problem) from None
        if missing:
            raise _all_missing(missing, self.path)
        return health


def _all_missing(missing: list[MissingDriverError], path: str) -> MissingDriverError:
    if len(missing) == 1:
        return missing[0]
    extras = tuple(dict.fromkeys(extra for exc in missing for extra in exc.extras))
    needs = ", ".join(f"{exc.key} ({', '.join(exc.extras) or exc.problem})" for exc in missing)
    problem = f"{len(missing)} checks need a driver that is not installed: {needs}"
    if extras:
        problem += f"; install them with: pip install 'healthprobe[{','.join(extras)}]'"
    return MissingDriverError(path, "checks", problem, extras=extras)


def load(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file at ``path`` (``${VAR}`` from ``environ``).

    Raises :class:`ConfigError` naming the file, the key and the problem.
    """
    shown = str(path)
    env = os.environ if environ is None else environ
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot read the file: {exc.strerror or exc}") from None
    toml = _toml()
    try:
        data = toml.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(shown, "", "is not UTF-8 text") from None
    except toml.TOMLDecodeError as exc:
        raise ConfigError(shown, "", f"invalid TOML: {exc}") from None
    return parse(data, path=shown, environ=env)


def parse(data: Mapping[str, Any], *, path: str, environ: Mapping[str, str]) -> Config:
    """Validate already-parsed TOML ``data`` (what :func:`load` does after reading)."""
    _only(data, ("health", "serve", "checks"), path, "")
    health = dict(_table(data, "health", path))
    _only(health, _HEALTH_KEYS, path, "health")
    health = substitute(health, environ, path=path, key="health", found=[])
    if "version" in health:
        _expect(health["version"], str, "a string", path, "health.version")
    if "deadline" in health:
        _number(health["deadline"], path, "health.deadline", positive=True)
    for key in ("groups", "unknown_passes"):
        if key in health:
            _strings(health[key], path, f"health.{key}")
    probes = _probes(health, path)
    serve = substitute(dict(_table(data, "serve", path)), environ, path=path, key="serve", found=[])
    serve_options(serve, path)
    # Validated now, to the end (the handler is built once, on a throwaway Health):
    # a bad [serve] is a bad config for `check` as much as for `serve`.
    check_handler(http_options(serve, path), health, path, _strings_in(serve))
    checks_table = _table(data, "checks", path)
    checks = tuple(
        _check(name, table, path, environ, probes) for name, table in checks_table.items()
    )
    return Config(path=path, health=health, serve=serve, checks=checks)


_KNOWN_PROBES = f"known: {', '.join(BUILTIN_PROBES)} and the [health] groups"


def _probes(health: Mapping[str, Any], path: str) -> frozenset[str]:
    """The probes ``[health]`` declares, validated without repeating a name."""
    probes = list(BUILTIN_PROBES)
    for group in health.get("groups", ()):
        try:
            validate_name(group, what="probe")
        except ConfigurationError:
            raise ConfigError(
                path, "health.groups", "holds an invalid name (1-64 of A-Za-z0-9_.-)"
            ) from None
        if group in probes:
            raise ConfigError(
                path,
                "health.groups",
                f"declares a probe twice, or a built-in one ({', '.join(BUILTIN_PROBES)})",
            )
        probes.append(group)
    if not set(health.get("unknown_passes", ())) <= set(probes):
        raise ConfigError(
            path, "health.unknown_passes", f"names an unknown probe ({_KNOWN_PROBES})"
        )
    return frozenset(probes)


def _check(
    name: str, table: object, path: str, environ: Mapping[str, str], probes: frozenset[str]
) -> CheckConfig:
    key = f"checks.{name}"
    try:
        validate_name(name)
    except ConfigurationError as exc:
        raise ConfigError(path, key, str(exc)) from None
    if not isinstance(table, dict):
        raise ConfigError(path, key, "must be a table ([checks.NAME] with type = ...)")
    found: list[str] = []
    table = dict(substitute(table, environ, path=path, key=key, found=found))
    kind, factory = table.pop("type", None), table.pop("callable", None)
    if "name" in table:
        raise ConfigError(path, f"{key}.name", "the check's name is its table key; remove it")
    if (kind is None) == (factory is None):
        raise ConfigError(path, key, "needs exactly one of type = ... or callable = ...")
    if kind is not None and (not isinstance(kind, str) or kind not in BUILTIN_CHECKS):
        known = ", ".join(BUILTIN_CHECKS)
        raise ConfigError(path, f"{key}.type", f"unknown check type (known: {known})")
    if factory is not None and (not isinstance(factory, str) or ":" not in factory):
        raise ConfigError(path, f"{key}.callable", "must look like 'package.module:function'")
    engine = {k: table.pop(k) for k in ENGINE_OPTIONS if k in table}
    _engine_options(engine, path, key)
    if not set(engine.get("probes", ())) <= probes:
        raise ConfigError(path, f"{key}.probes", f"names an unknown probe ({_KNOWN_PROBES})")
    declared = tuple(engine.pop("secrets", ()))
    return CheckConfig(
        name=name,
        type=kind,
        callable=factory,
        options=table,
        engine=engine,
        secrets=tuple(dict.fromkeys((*found, *declared))),
    )


def _engine_options(engine: dict[str, Any], path: str, key: str) -> None:  # noqa: PLR0912 - one flat pass over the options
    for option in _POSITIVE:
        if option in engine:
            _number(engine[option], path, f"{key}.{option}", positive=True)
    for option in _NON_NEGATIVE:
        if option in engine:
            _number(engine[option], path, f"{key}.{option}", positive=False)
    for option in _COUNTS:
        if option in engine:
            value = engine[option]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    path, f"{key}.{option}", f"must be an integer >= 1, not {_shown(value)}"
                )
    for option in ("critical", "enabled"):
        if option in engine:
            _expect(engine[option], bool, "true or false", path, f"{key}.{option}")
    if "component_type" in engine:
        _expect(engine["component_type"], str, "a string", path, f"{key}.component_type")
    for option in ("probes", "secrets"):
        if option in engine:
            if isinstance(engine[option], str):
                engine[option] = [engine[option]]
            _strings(engine[option], path, f"{key}.{option}")


def _construct(check: CheckConfig, path: str, key: str) -> object:
    options = dict(check.options)
    if check.type is not None:
        entry: Builtin = BUILTIN_CHECKS[check.type]
        try:
            factory = entry.load()
        except MissingDependencyError as exc:
            raise missing_driver(exc, path, f"{key}.type") from None
        except ImportError as exc:
            raise ConfigError(path, f"{key}.type", sanitize(exc)) from None
        params = _param_names(factory)
        # The check's name and timeout feed the constructor too (built-in
        # checks bound their driver's own waits with the timeout).
        if "name" in params:
            options["name"] = check.name
        if "timeout" in params and "timeout" in check.engine:
            options["timeout"] = check.engine["timeout"]
        # A DSN written in the file (not from ${VAR}) is no less secret; and no
        # message repeats a value of the table, written there or substituted.
        value = options.get(entry.target) if entry.target else None
        secrets = (
            *check.secrets,
            *(dsn_secrets(value) if isinstance(value, str) else ()),
            *_strings_in(options),
        )
        try:
            convert = entry.converter()
        except MissingDependencyError as exc:
            raise missing_driver(exc, path, f"{key}.type") from None
        except ImportError as exc:
            raise ConfigError(path, f"{key}.type", sanitize(exc)) from None
        created: list[object] = []  # what the converter made (an engine) is ours to close

        def keep(value: object) -> object:
            assert convert is not None
            made = convert(value)
            created.append(made)
            return made

        built = build_check(
            factory,
            options,
            target=entry.target,
            path=path,
            key=key,
            secrets=secrets,
            convert=None if convert is None else keep,
            toml_only=True,
            engine_keys=ENGINE_OPTIONS,
        )
        return OwnedEngine(built, created[0]) if created else built
    assert check.callable is not None
    try:
        obj = import_object(check.callable)
    except (ImportError, AttributeError, ValueError) as exc:
        problem = f"cannot import it: {sanitize(exc, check.secrets)}"
        raise ConfigError(path, f"{key}.callable", problem) from None
    if not options:
        return obj  # the check itself
    if not callable(obj):
        raise ConfigError(path, f"{key}.callable", "has options, so it must be a factory")
    # Options given: the object is a factory (a class or function) called with them.
    return build_check(
        obj,
        options,
        target=None,
        path=path,
        key=key,
        secrets=(*check.secrets, *_strings_in(options)),
        engine_keys=ENGINE_OPTIONS,
    )


def _param_names(factory: Callable[..., object]) -> set[str]:
    return set(inspect.signature(factory).parameters)


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only the running version's parser is imported

        return tomllib
    return require("tomli", "toml")


def _table(data: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(path, name, f"must be a table ([{name}])")
    return table


def _only(table: Mapping[str, Any], allowed: tuple[str, ...], path: str, prefix: str) -> None:
    for name in table:
        if name not in allowed:
            where = f"{prefix}.{name}" if prefix else name
            hint = nearest(name, allowed)
            problem = f"unknown key{hint} (expected one of: {', '.join(allowed)})"
            raise ConfigError(path, where, problem)


def _shown(value: object) -> str:
    """How a message shows a bad value: a number as itself, anything else by its type only."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "a " + type(value).__name__


def _strings_in(value: object) -> list[str]:
    """Every string value inside ``value`` (what no message may repeat)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings_in(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings_in(item)]
    return []


def _expect(value: object, kind: type, label: str, path: str, key: str) -> None:
    if not isinstance(value, kind):
        raise ConfigError(path, key, f"must be {label}")


def _number(value: object, path: str, key: str, *, positive: bool) -> None:
    ok = False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ok = math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        what = "a positive number" if positive else "zero or a positive number"
        raise ConfigError(path, key, f"must be {what} of seconds, not {_shown(value)}")


def _strings(value: object, path: str, key: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, "must be a list of strings")
