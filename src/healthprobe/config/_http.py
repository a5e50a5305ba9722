"""The ``[serve]`` table: options of the HTTP layer and of ``healthprobe serve``.

The same table configures the probe endpoints whether they are served by
``healthprobe serve`` (a sidecar) or mounted in your own ASGI app::

    app = HealthMiddleware(app, health, **config.http_options())

Keys: ``drain`` (seconds between SIGTERM and shutdown, readiness failing
meanwhile; see :mod:`healthprobe.http.serve`), every keyword option of
:class:`~healthprobe.http.handler.ProbeHandler` that TOML can express (``prefix``,
``details``, ``token``, ``warn_status``, ``draining_status``, ``service_id``,
``release_id``, ``description``), and, for ``healthprobe serve`` only,
``host``, ``port`` and ``access_log`` (keep probe requests in the access log).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from healthprobe.engine.errors import ConfigurationError
from healthprobe.engine.health import Health
from healthprobe.engine.sanitize import sanitize
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.policy import DetailsPolicy
from healthprobe.integrations._endpoints import make_handler

from ._errors import ConfigError
from ._registry import nearest, type_problem

__all__ = ["SERVE_ONLY", "check_handler", "http_options", "serve_options"]

#: Keys only ``healthprobe serve`` reads (an app chooses its own host and port).
SERVE_ONLY = {"host": "a string", "port": "an integer", "access_log": "true or false"}
# Set from code only: a callable, or a mapping with None values TOML cannot write.
_NOT_IN_TOML = ("health", "paths", "authorize", "endpoints")


def _handler_options() -> dict[str, inspect.Parameter]:
    # make_handler's own keywords (the observability endpoints), then the handler's.
    params = [
        *inspect.signature(make_handler).parameters.values(),
        *inspect.signature(ProbeHandler).parameters.values(),
    ]
    return {
        param.name: param
        for param in params
        if param.name not in _NOT_IN_TOML and param.kind is param.KEYWORD_ONLY
    }


def http_options(serve: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Keyword arguments for ``HealthApp``/``HealthMiddleware`` from a ``[serve]`` table."""
    accepted = _handler_options()
    options: dict[str, Any] = {}
    for name, value in serve.items():
        key = f"serve.{name}"
        if name in SERVE_ONLY:
            continue
        if name == "drain":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                raise ConfigError(path, key, "must be zero or a positive number of seconds")
            options["drain"] = float(value)
            continue
        param = accepted.get(name)
        if param is None:
            known = sorted([*accepted, "drain", *SERVE_ONLY])
            hint = nearest(name, known)
            raise ConfigError(path, key, f"unknown key{hint} (expected one of: {', '.join(known)})")
        problem = type_problem(param.annotation, value) or _value_problem(name, value)
        if problem:
            raise ConfigError(path, key, problem)
        options[name] = value
    return options


_PATH_RULE = "must start with '/' and not end with one"
_PATHS = ("prefix", "metrics_path", "ui_path")
_CODES = {"warn_status": (200, 429), "draining_status": (503, 404)}


def _value_problem(name: str, value: object) -> str | None:  # noqa: PLR0911 - one rule per option
    """What is wrong with an option's value, in words that never repeat a string value."""
    if name == "details" and value not in DetailsPolicy.MODES:
        return f"must be one of {', '.join(DetailsPolicy.MODES)}"
    if name == "token" and isinstance(value, str) and len(value) < 16:
        return "must be at least 16 characters long"
    if name in _PATHS and isinstance(value, str):
        if name == "prefix" and value == "":
            return None
        if not value.startswith("/") or value.endswith("/"):
            return _PATH_RULE + (" (or be empty)" if name == "prefix" else "")
    if name in _CODES and value not in _CODES[name]:
        first, second = _CODES[name]
        return f"must be {first} or {second}, not {value!r}"
    if name == "ui_refresh" and isinstance(value, int) and value < 1:
        return f"must be a whole number of seconds >= 1, not {value!r}"
    return None


def check_handler(
    options: Mapping[str, Any], health: Mapping[str, Any], path: str, secrets: list[str]
) -> None:
    """Build the probe handler ``options`` describe once, so nothing is left for later to reject.

    ``health`` is the ``[health]`` table (its groups are probes a path may
    name); a problem there is reported when the config is built.  The
    message never repeats a value of ``[serve]`` (``secrets``).
    """
    try:
        throwaway = Health(**health)
    except (ConfigurationError, TypeError):
        return
    handler_options = {k: v for k, v in options.items() if k != "drain"}
    try:
        make_handler(throwaway, **handler_options)
    except (ConfigurationError, ValueError, TypeError) as exc:
        raise ConfigError(path, "serve", sanitize(exc, secrets)) from None


def serve_options(serve: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``host``, ``port`` and ``access_log`` from a ``[serve]`` table, validated."""
    found: dict[str, Any] = {}
    for name, label in SERVE_ONLY.items():
        if name not in serve:
            continue
        value = serve[name]
        problem = type_problem({"a string": "str", "an integer": "int"}.get(label, "bool"), value)
        if problem:
            raise ConfigError(path, f"serve.{name}", problem)
        found[name] = value
    port = found.get("port")
    if port is not None and not 0 <= port <= 65535:
        raise ConfigError(path, "serve.port", f"must be 0-65535, not {port!r}")
    return found
