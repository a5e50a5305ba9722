"""healthprobe: health checks for Python services.

The core is framework-free and imports only the standard library.  Register
checks on a :class:`Health`, then ask a probe for its :class:`Report`::

    from healthprobe import Health

    health = Health(version="1.4.2")

    @health.check(timeout=2.0)
    async def database() -> bool:
        return await pool.fetchval("SELECT 1") == 1

    report = await health.arun("ready")
"""

from __future__ import annotations

from ._version import __version__

# The public names are imported on first use (PEP 562), not at import time:
# `healthprobe probe` runs in every container's HEALTHCHECK every few seconds,
# and must not pay for asyncio, threading and the engine it never touches.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .engine.errors import ConfigurationError, UnknownCheckError, UnknownProbeError
    from .engine.health import Health
    from .engine.heartbeat import Heartbeat, Reported
    from .engine.interpret import interpret
    from .engine.report import CheckReport, Report
    from .engine.result import CheckResult
    from .engine.runtime import Reading
    from .engine.sanitize import sanitize
    from .engine.spec import BUILTIN_PROBES, CheckSpec
    from .engine.status import Status
    from .integrations.thread_server import serve_in_thread

_LAZY = {
    "BUILTIN_PROBES": ".engine.spec",
    "CheckReport": ".engine.report",
    "CheckResult": ".engine.result",
    "CheckSpec": ".engine.spec",
    "ConfigurationError": ".engine.errors",
    "Health": ".engine.health",
    "Heartbeat": ".engine.heartbeat",
    "Reading": ".engine.runtime",
    "Reported": ".engine.heartbeat",
    "Report": ".engine.report",
    "Status": ".engine.status",
    "UnknownCheckError": ".engine.errors",
    "UnknownProbeError": ".engine.errors",
    "interpret": ".engine.interpret",
    "sanitize": ".engine.sanitize",
    "serve_in_thread": ".integrations.thread_server",
}

__all__ = [
    "BUILTIN_PROBES",
    "CheckReport",
    "CheckResult",
    "CheckSpec",
    "ConfigurationError",
    "Health",
    "Heartbeat",
    "Reading",
    "Report",
    "Reported",
    "Status",
    "UnknownCheckError",
    "UnknownProbeError",
    "__version__",
    "interpret",
    "sanitize",
    "serve_in_thread",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'healthprobe' has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - only when a public name is first used

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
