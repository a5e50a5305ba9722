"""The application the Prometheus and Chromium e2e tests serve with a real uvicorn process.

Three polled checks (so the history fills by itself): ``database`` passes,
``search`` fails (non-critical), ``queue`` alternates.  Probes, ``/metrics``
and ``/health/ui`` are served by healthprobe's own ASGI layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from healthprobe import CheckResult, Health
from healthprobe.integrations.asgi import HealthMiddleware
from healthprobe.observability import History

health = Health(version="e2e")
History.of(health)  # attached before the first reading
_flips = itertools.count()


@health.check(interval=0.2)
async def database() -> CheckResult:
    return CheckResult.passed(observed_value=3, observed_unit="connections")


@health.check(interval=0.2, critical=False)
async def search() -> CheckResult:
    return CheckResult.failed("connection refused")


@health.check(interval=0.2)
async def queue() -> bool:
    return next(_flips) % 2 == 0


async def inner(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return  # no lifespan support: the middleware speaks it for us
    # /metrics and /health/ui are answered by the middleware: they never get here.
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app ok"})


app = HealthMiddleware(inner, health, drain=None)
