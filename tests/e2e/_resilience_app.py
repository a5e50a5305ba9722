"""The application the resilience e2e tests serve with real uvicorn processes.

A plain ASGI app (every route answers 200 ``app ok``) behind
``HealthMiddleware``.  Environment variables choose what it checks, so one
module serves the outage, HAProxy and blackbox_exporter tests:

* ``HP_E2E_REDIS``: a Redis URL, checked by ``RedisCheck`` (polled);
* ``HP_E2E_PG``: a PostgreSQL DSN, checked by ``PostgresCheck`` (polled);
* ``HP_E2E_FLAG``: a file path; the ``flag`` check fails while that file exists,
  so a test can turn readiness off and on without touching a server;
* ``HP_E2E_INTERVAL`` / ``HP_E2E_TIMEOUT``: polling interval and check timeout
  in seconds (defaults 0.5 and 1.0);
* ``HP_E2E_DRAIN``: the SIGTERM drain in seconds (default: no drain);
* ``HP_E2E_NAME``: appended to the app's body, to tell replicas apart.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware

INTERVAL = float(os.environ.get("HP_E2E_INTERVAL", "0.5"))
TIMEOUT = float(os.environ.get("HP_E2E_TIMEOUT", "1.0"))
_drain = os.environ.get("HP_E2E_DRAIN")
BODY = f"app ok {os.environ.get('HP_E2E_NAME', '')}".strip().encode()

health = Health(version="e2e-resilience")

if redis_url := os.environ.get("HP_E2E_REDIS"):
    from healthprobe.checks import RedisCheck

    health.add(RedisCheck(redis_url, timeout=TIMEOUT), interval=INTERVAL)

if pg_dsn := os.environ.get("HP_E2E_PG"):
    from healthprobe.checks import PostgresCheck

    health.add(PostgresCheck(pg_dsn, timeout=TIMEOUT), interval=INTERVAL)

if flag := os.environ.get("HP_E2E_FLAG"):
    flag_path = Path(flag)

    def flag_absent() -> bool:
        """Fails while the flag file exists: the test's switch for readiness."""
        return not flag_path.exists()

    health.add(flag_absent, name="flag", interval=INTERVAL, timeout=TIMEOUT)


async def inner(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return  # no lifespan of its own: the middleware speaks it
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": BODY})


app = HealthMiddleware(inner, health, drain=float(_drain) if _drain else None)
