"""Which class a config ``type`` names, and how a TOML table becomes its arguments.

The registry maps a ``type`` to a module path and a class name; the module
is imported only when a config uses that type (its driver later still, by
the check itself).  Options are read from the class's constructor: every
keyword parameter is a config key of the same name, and the first
positional parameter (a DSN, URL, host or path) gets a readable key given
here (``dsn``, ``url``...).  So a new constructor option is expressible in
the config file the day it is added, with no second list to maintain.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from healthprobe._optional import MissingDependencyError
from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.sanitize import describe_exception, sanitize

from ._errors import ConfigError, MissingDriverError

__all__ = [
    "BUILTIN_CHECKS",
    "Builtin",
    "build_check",
    "constructor_keys",
    "import_object",
    "missing_driver",
    "nearest",
    "type_problem",
]


@dataclasses.dataclass(frozen=True)
class Builtin:
    """A built-in check: ``module:cls``; ``target`` names the key of its first argument."""

    module: str
    cls: str
    target: str | None = None
    #: ``module:function`` turning the ``target`` value into what the class takes.
    convert: str | None = None

    def load(self) -> Callable[..., object]:
        factory: Callable[..., object] = getattr(importlib.import_module(self.module), self.cls)
        return factory

    def converter(self) -> Callable[[object], object] | None:
        if self.convert is None:
            return None
        module, _, name = self.convert.partition(":")
        function: Callable[[object], object] = getattr(importlib.import_module(module), name)
        return function


_C = "healthprobe.checks."
_A = "healthprobe.config._adapters:"

#: Every built-in check a config file can name with ``type = "..."``.
BUILTIN_CHECKS: Mapping[str, Builtin] = {
    "postgres": Builtin(_C + "postgres", "PostgresCheck", "dsn"),
    "mysql": Builtin(_C + "mysql", "MySQLCheck", "dsn"),
    "sqlalchemy": Builtin(_C + "sqlalchemy", "SQLAlchemyCheck", "url", _A + "sqlalchemy_engine"),
    "sqlalchemy_async": Builtin(
        _C + "sqlalchemy", "AsyncSQLAlchemyCheck", "url", _A + "async_sqlalchemy_engine"
    ),
    "alembic": Builtin(_C + "alembic", "AlembicCheck", "url", _A + "sqlalchemy_engine"),
    "alembic_async": Builtin(
        _C + "alembic", "AsyncAlembicCheck", "url", _A + "async_sqlalchemy_engine"
    ),
    "sqlite": Builtin(_C + "sqlite", "SQLiteCheck"),
    "redis": Builtin(_C + "redis", "RedisCheck", "url"),
    "rabbitmq": Builtin(_C + "rabbitmq", "RabbitMQCheck", "url"),
    "mqtt": Builtin(_C + "mqtt", "MqttCheck", "url"),
    "nats": Builtin(_C + "nats", "NatsCheck", "servers"),
    "http": Builtin(_C + "http", "HttpCheck", "url"),
    "tcp": Builtin(_C + "tcp", "TcpCheck"),
    "dns": Builtin(_C + "dns", "DnsCheck"),
    "ping": Builtin(_C + "ping", "PingCheck"),
    "tls": Builtin(_C + "tls", "TlsCheck"),
    "disk": Builtin(_C + "disk", "DiskCheck"),
    "memory": Builtin(_C + "system", "MemoryCheck"),
    "cpu": Builtin(_C + "system", "CpuCheck"),
    "load": Builtin(_C + "system", "LoadCheck"),
    "loop_lag": Builtin(_C + "loop_lag", "LoopLagCheck"),
    "django_database": Builtin(_C + "django", "DjangoDatabaseCheck"),
    "django_cache": Builtin(_C + "django", "DjangoCacheCheck"),
    "django_storage": Builtin(_C + "django", "DjangoStorageCheck"),
    "django_migrations": Builtin(_C + "django", "DjangoMigrationsCheck"),
    "writable": Builtin(_C + "files", "WritableCheck"),
    "inodes": Builtin(_C + "files", "InodesCheck"),
    "file_age": Builtin(_C + "files", "FileAgeCheck"),
    "open_files": Builtin(_C + "process", "OpenFilesCheck"),
    "threads": Builtin(_C + "process", "ThreadsCheck"),
    "grpc": Builtin(_C + "grpc", "GrpcHealthCheck"),
    "prometheus_query": Builtin(_C + "prometheus", "PrometheusQueryCheck", "url"),
    "s3": Builtin(_C + "s3", "S3BucketCheck"),
    "celery": Builtin(_C + "celery", "CeleryWorkersCheck", "broker"),
    "etcd": Builtin(_C + "etcd", "EtcdCheck", "url"),
    "ldap": Builtin(_C + "ldap", "LdapCheck", "url"),
    "memcached": Builtin(_C + "memcached", "MemcachedCheck", "address"),
    "ntp": Builtin(_C + "ntp", "NtpCheck", "host"),
    "smtp": Builtin(_C + "smtp", "SmtpCheck", "url"),
    "ssh": Builtin(_C + "ssh", "SshCheck", "host"),
    "zookeeper": Builtin(_C + "zookeeper", "ZooKeeperCheck", "hosts"),
}


def nearest(name: str, known: Sequence[str]) -> str:
    """``"; did you mean 'timeout'?"`` for a key close to one in ``known``, else ``""``."""
    found = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return f"; did you mean {found[0]!r}?" if found else ""


def missing_driver(exc: MissingDependencyError, path: str, key: str) -> MissingDriverError:
    """The :class:`MissingDriverError` at ``key`` for a missing optional package."""
    return MissingDriverError(path, key, sanitize(exc), extras=(exc.extra,) if exc.extra else ())


def import_object(spec: str) -> object:
    """Import ``package.module:attribute`` (the attribute may be dotted)."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError("must look like 'package.module:function'")
    obj: object = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def constructor_keys(
    factory: Callable[..., object], target: str | None, *, toml_only: bool = False
) -> dict[str, inspect.Parameter]:
    """The config keys ``factory`` accepts, each with the parameter it feeds.

    ``toml_only`` (built-in checks) leaves out options only code can pass
    (a client object, an ``SSLContext``): they are not config keys.
    """
    keys: dict[str, inspect.Parameter] = {}
    for index, param in enumerate(inspect.signature(factory).parameters.values()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if index == 0 and target is not None and param.kind is not param.KEYWORD_ONLY:
            keys[target] = param
        elif not toml_only or _expressible(param.annotation):
            keys[param.name] = param
    return keys


_TOML_TOKENS = ("float", "int", "bool", "str", "Any", "object")
_TOML_GENERICS = ("Sequence[", "list[", "tuple[", "Iterable[", "Mapping[", "dict[", "Literal[")


def _expressible(annotation: object) -> bool:
    """False for an option only code can pass (a client object, an SSLContext)."""
    if not isinstance(annotation, str):
        return True
    for token in (t.strip() for t in annotation.split("|")):
        if token in _TOML_TOKENS or token.startswith((*_TOML_GENERICS, "os.PathLike")):
            return True
    return False


def build_check(
    factory: Callable[..., object],
    options: Mapping[str, Any],
    *,
    target: str | None,
    path: str,
    key: str,
    secrets: Sequence[str],
    convert: Callable[[object], object] | None = None,
    toml_only: bool = False,
    engine_keys: Sequence[str] = (),
) -> object:
    """Call ``factory`` with ``options``; a problem is a :class:`ConfigError` at ``key``.

    Keys are checked against the constructor's parameters and simple
    annotated types (numbers, booleans, strings, lists) before the call, so
    the common mistakes name their exact key; an unknown key lists the
    constructor's keys and ``engine_keys`` (the options every check takes)
    and suggests the nearest.  What the constructor itself rejects is
    reported at the check's key, sanitized of ``secrets``; a missing driver
    is a :class:`MissingDriverError`.
    """

    def _converted(function: Callable[[object], object], value: object, where: str) -> object:
        try:
            return function(value)
        except MissingDependencyError as exc:
            raise missing_driver(exc, path, where) from None
        except Exception as exc:
            raise ConfigError(path, where, describe_exception(exc, secrets)) from None

    accepted = constructor_keys(factory, target, toml_only=toml_only)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, value in options.items():
        param = accepted.get(name)
        if param is None:
            own = sorted(set(accepted) - {"name"})
            hint = nearest(name, [*own, *engine_keys])
            listed = f"this check takes: {', '.join(own) or 'none'}"
            others = sorted(set(engine_keys) - set(own))
            if others:
                listed += f"; every check takes: {', '.join(others)}"
            raise ConfigError(path, f"{key}.{name}", f"unknown option{hint} ({listed})")
        problem = type_problem(param.annotation, value)
        if problem:
            raise ConfigError(path, f"{key}.{name}", problem)
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) and name == target:
            args.append(value if convert is None else _converted(convert, value, f"{key}.{name}"))
        else:
            kwargs[param.name] = value
    missing = [
        name
        for name, param in accepted.items()
        if param.default is param.empty and name not in options
    ]
    if missing:
        raise ConfigError(path, f"{key}.{missing[0]}", "is required")
    # Anything a constructor raises is a problem of this check's table: one
    # sanitized line naming the key, never a traceback.
    try:
        return factory(*args, **kwargs)
    except MissingDependencyError as exc:
        raise missing_driver(exc, path, key) from None
    except ConfigurationError as exc:
        raise ConfigError(path, key, sanitize(exc, secrets)) from None
    except Exception as exc:
        raise ConfigError(path, key, describe_exception(exc, secrets)) from None


_SIMPLE: dict[str, tuple[str, Callable[[object], bool]]] = {
    "float": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "None": ("", lambda v: False),  # TOML has no null: None only means "optional"
}
_SEQUENCE_OF_STR = ("Sequence[str]", "list[str]", "tuple[str, ...]", "Iterable[str]")
_SEQUENCE_OF_INT = ("Sequence[int]", "list[int]", "tuple[int, ...]", "Iterable[int]")
_MAPPING_OF_STR = ("Mapping[str, str]", "dict[str, str]")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: annotation -> (what it wants, whether a value is one).  Each token of a union
#: (``int | Iterable[int]``) is looked up here; an unknown token is not ours to judge.
_CONTAINERS: dict[str, tuple[str, Callable[[object], bool]]] = {
    **{
        token: ("a list of integers", lambda v: isinstance(v, list) and all(map(_is_int, v)))
        for token in _SEQUENCE_OF_INT
    },
    **{
        token: (
            "a table of strings",
            lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        )
        for token in _MAPPING_OF_STR
    },
    **{
        token: (
            "a list of strings",
            lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        )
        for token in _SEQUENCE_OF_STR
    },
}


def type_problem(annotation: object, value: object) -> str | None:
    """A message when ``value`` cannot be what a simple ``annotation`` asks for."""
    if not isinstance(annotation, str):
        return None  # postponed annotations are strings; anything else is not ours to judge
    wanted: list[str] = []
    for token in (t.strip() for t in annotation.split("|")):
        # A path is written as a string.
        rule = _SIMPLE["str"] if token.startswith("os.PathLike") else None
        rule = rule or _SIMPLE.get(token) or _CONTAINERS.get(token)
        if rule is None:
            return None  # a type TOML cannot express (a client object, a Literal): let it pass
        label, accepts = rule
        if accepts(value):
            return None
        if label:
            wanted.append(label)
    if not wanted:
        return None
    return f"expected {' or '.join(dict.fromkeys(wanted))}, got {_describe(value)}"


def _describe(value: object) -> str:
    # The type only, never the value: it may be a secret.
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
