"""Checks from a TOML file: ``healthprobe check``, ``healthprobe serve`` and your app.

::

    from healthprobe.config import load

    health = load("healthprobe.toml").build()

See :mod:`healthprobe.config._load` for the file's layout.  Every built-in
check (:data:`BUILTIN_CHECKS`) and every one of its constructor's options can
be written there; secrets come from the environment (``dsn = "${PG_DSN}"``).
"""

from __future__ import annotations

from ._errors import ConfigError
from ._load import ENGINE_OPTIONS, CheckConfig, Config, load, parse
from ._registry import BUILTIN_CHECKS, Builtin

__all__ = [
    "BUILTIN_CHECKS",
    "ENGINE_OPTIONS",
    "Builtin",
    "CheckConfig",
    "Config",
    "ConfigError",
    "load",
    "parse",
]
