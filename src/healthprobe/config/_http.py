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

from healthprobe.http.handler import ProbeHandler
from healthprobe.integrations._endpoints import make_handler

from ._errors import ConfigError
from ._registry import type_problem

__all__ = ["SERVE_ONLY", "http_options", "serve_options"]

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
            known = ", ".join(sorted([*accepted, "drain", *SERVE_ONLY]))
            raise ConfigError(path, key, f"unknown key (expected one of: {known})")
        problem = type_problem(param.annotation, value)
        if problem:
            raise ConfigError(path, key, problem)
        options[name] = value
    return options


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
