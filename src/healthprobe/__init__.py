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

from ._errors import ConfigurationError, UnknownCheckError, UnknownProbeError
from ._health import Health
from ._interpret import interpret
from ._report import CheckReport, Report
from ._result import CheckResult
from ._runtime import Reading
from ._sanitize import sanitize
from ._spec import BUILTIN_PROBES, CheckSpec
from ._status import Status
from ._version import __version__

__all__ = [
    "BUILTIN_PROBES",
    "CheckReport",
    "CheckResult",
    "CheckSpec",
    "ConfigurationError",
    "Health",
    "Reading",
    "Report",
    "Status",
    "UnknownCheckError",
    "UnknownProbeError",
    "__version__",
    "interpret",
    "sanitize",
]
