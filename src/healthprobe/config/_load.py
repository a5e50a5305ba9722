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

from healthprobe._optional import require
from healthprobe.checks._dsn import dsn_secrets
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.health import Health
from healthprobe.engine.sanitize import sanitize
from healthprobe.engine.spec import validate_name

from ._adapters import OwnedEngine
from ._env import substitute
from ._errors import ConfigError
from ._http import http_options, serve_options
from ._registry import BUILTIN_CHECKS, Builtin, build_check, import_object

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

        Imports each check's module (and, through it, its driver) now; a
        missing driver, or an option the constructor rejects, is a
        :class:`ConfigError` naming the check's key.
        """
        try:
            health = Health(**self.health)
        except ConfigurationError as exc:
            raise ConfigError(self.path, "health", str(exc)) from None
        for check in self.checks:
            if check.engine.get("enabled", True) is False:
                continue
            key = f"checks.{check.name}"
            target = _construct(check, self.path, key)
            engine = {k: v for k, v in check.engine.items() if k != "enabled"}
            engine["secrets"] = check.secrets
            try:
                health.add(target, name=check.name, **engine)
            except ConfigurationError as exc:
                raise ConfigError(self.path, key, sanitize(exc, check.secrets)) from None
        return health


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
    serve = substitute(dict(_table(data, "serve", path)), environ, path=path, key="serve", found=[])
    serve_options(serve, path)
    http_options(serve, path)  # validated now: a bad [serve] is a bad config everywhere
    checks_table = _table(data, "checks", path)
    checks = tuple(_check(name, table, path, environ) for name, table in checks_table.items())
    return Config(path=path, health=health, serve=serve, checks=checks)


def _check(name: str, table: object, path: str, environ: Mapping[str, str]) -> CheckConfig:
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
                    path, f"{key}.{option}", f"must be an integer >= 1, not {value!r}"
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
        except ImportError as exc:
            raise ConfigError(path, f"{key}.type", sanitize(exc)) from None
        params = _param_names(factory)
        # The check's name and timeout feed the constructor too (built-in
        # checks bound their driver's own waits with the timeout).
        if "name" in params:
            options["name"] = check.name
        if "timeout" in params and "timeout" in check.engine:
            options["timeout"] = check.engine["timeout"]
        # A DSN written in the file (not from ${VAR}) is no less secret.
        value = options.get(entry.target) if entry.target else None
        secrets = (*check.secrets, *(dsn_secrets(value) if isinstance(value, str) else ()))
        try:
            convert = entry.converter()
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
    return build_check(obj, options, target=None, path=path, key=key, secrets=check.secrets)


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
            raise ConfigError(path, where, f"unknown key (expected one of: {', '.join(allowed)})")


def _expect(value: object, kind: type, label: str, path: str, key: str) -> None:
    if not isinstance(value, kind):
        raise ConfigError(path, key, f"must be {label}")


def _number(value: object, path: str, key: str, *, positive: bool) -> None:
    ok = False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ok = math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        what = "a positive number" if positive else "zero or a positive number"
        shown = repr(value) if isinstance(value, (int, float)) else "a " + type(value).__name__
        raise ConfigError(path, key, f"must be {what} of seconds, not {shown}")


def _strings(value: object, path: str, key: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, "must be a list of strings")
