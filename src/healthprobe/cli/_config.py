"""What ``check`` and ``serve`` share: reading the config file, and finding the user's code.

A ``callable = "myapp.health:check"`` names the user's own module, usually in
the directory the command runs from.  ``python -m healthprobe`` puts that
directory first on ``sys.path``; the installed ``healthprobe`` script puts
its own ``bin/`` there instead, so the same config would import under one and
not the other.  :func:`import_from_cwd` makes both behave like ``python -m``.
"""

from __future__ import annotations

import os
import sys

from healthprobe.config import Config, ConfigError, load
from healthprobe.engine.health import Health

__all__ = ["import_from_cwd", "load_and_build"]


def import_from_cwd() -> None:
    """Put the current directory first on ``sys.path``, as ``python -m`` does."""
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)


def load_and_build(path: str, *, require_checks: bool) -> tuple[Config, Health]:
    """Load, validate and build the config at ``path``.

    Raises :class:`~healthprobe.config.ConfigError` (or another
    ``ConfigurationError``) naming the file, the key and the problem.  With
    ``require_checks`` (``healthprobe check``) a file with no enabled check
    is refused too: a CI gate that checks nothing would pass forever, saying
    nothing.
    """
    import_from_cwd()
    config = load(path)
    health = config.build()
    if require_checks and not health.names():
        health.stop()
        some = any(check.engine.get("enabled", True) is False for check in config.checks)
        problem = (
            "every check is disabled (enabled = false)"
            if some
            else "none configured; add a [checks.NAME] table (type = ... or callable = ...)"
        )
        raise ConfigError(config.path, "checks", problem)
    return config, health
