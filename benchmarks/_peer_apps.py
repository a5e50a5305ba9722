"""The applications peers.py serves, one per uvicorn process, in the peers' own venv.

``PEER_APP`` picks the framework, ``PEER_CHECKS`` the workload:

* apps: ``floor`` (raw ASGI fixed JSON), ``fastapi`` (a bare route, same
  JSON), ``hp_middleware`` (healthprobe's ``HealthMiddleware`` in front of
  the floor), ``hp_fastapi`` (healthprobe's ``install()`` routes),
  ``fastapi_health``, ``fastapi_healthchecks``, ``py_healthcheck`` (the
  peers, each mounted the way its README shows; py-healthcheck has no
  FastAPI integration, so its ``HealthCheck.run()`` sits in a sync route);
* workloads: ``trivial10`` (10 checks that pass at once; healthprobe polls
  them every second), ``trivial10_request`` (the same, run on each request),
  ``sleep3`` (3 checks of 50 ms each, on each request), ``deps`` (PostgreSQL
  ``SELECT 1`` and Redis ``PING``; ``PEER_PG`` and ``PEER_REDIS`` say where;
  healthprobe polls them every ``PEER_INTERVAL`` s, or with ``PEER_DEPS_MODE=
  cached`` runs them on request behind a cache of that age).

Every probe answers at ``/probe``, whatever the framework, so that the
driver needs one URL per app.  This module is not part of the package: it
imports the peers, which are installed only in ``benchmarks/.venv-peers``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi_health import health as fastapi_health  # type: ignore[import-untyped]  # peers ship no types
from fastapi_healthchecks.api.router import HealthcheckRouter, Probe  # type: ignore[import-untyped]  # peers ship no types
from fastapi_healthchecks.checks import Check, CheckResult  # type: ignore[import-untyped]  # peers ship no types
from fastapi_healthchecks.checks.postgres import PostgreSqlCheck  # type: ignore[import-untyped]  # peers ship no types
from fastapi_healthchecks.checks.redis import RedisCheck as PeerRedisCheck  # type: ignore[import-untyped]  # peers ship no types
from healthcheck import HealthCheck  # type: ignore[import-untyped]  # peers ship no types

from healthprobe import Health
from healthprobe.checks import PostgresCheck, RedisCheck
from healthprobe.integrations.asgi import HealthMiddleware
from healthprobe.integrations.fastapi import install

BODY = b'{"status":"healthy"}'
KIND = os.environ.get("PEER_APP", "floor")
CHECKS = os.environ.get("PEER_CHECKS", "trivial10")
INTERVAL = float(os.environ.get("PEER_INTERVAL", "1.0"))
SLEEP = 0.05


async def floor(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"20")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def _healthprobe() -> Any:
    health = Health(version="bench")
    if CHECKS in ("trivial10", "trivial10_request"):
        polled = CHECKS == "trivial10"
        for index in range(10):

            async def trivial() -> bool:
                return True

            health.add(trivial, name=f"dep{index}", interval=1.0 if polled else None)
    elif CHECKS == "sleep3":
        for index in range(3):

            async def slow() -> bool:
                await asyncio.sleep(SLEEP)
                return True

            health.add(slow, name=f"slow{index}")
    elif CHECKS == "deps":
        cached = os.environ.get("PEER_DEPS_MODE") == "cached"
        options: dict[str, Any] = {"cache_ttl": INTERVAL} if cached else {"interval": INTERVAL}
        health.add(
            PostgresCheck(os.environ["PEER_PG"], application_name="healthprobe-bench"), **options
        )
        health.add(RedisCheck(os.environ["PEER_REDIS"]), **options)
    return health


def _hp_middleware() -> Any:
    return HealthMiddleware(floor, _healthprobe(), drain=None, paths={"/probe": "ready"})


def _fastapi() -> FastAPI:
    app = FastAPI()

    @app.get("/json")
    async def fixed() -> Response:
        return Response(BODY, media_type="application/json")

    return app


def _hp_fastapi() -> Any:
    app = _fastapi()
    install(app, _healthprobe(), drain=None, paths={"/probe": "ready"})
    return app


def _fastapi_health() -> Any:
    conditions: list[Callable[..., Any]] = []
    count = 3 if CHECKS == "sleep3" else 10
    for index in range(count):
        if CHECKS == "sleep3":

            async def condition() -> bool:
                await asyncio.sleep(SLEEP)
                return True

        else:

            async def condition() -> bool:
                return True

        condition.__name__ = f"dep{index}"  # fastapi-health names parameters after them
        conditions.append(condition)
    app = _fastapi()
    app.add_api_route("/probe", fastapi_health(conditions))
    return app


def _fastapi_healthchecks() -> Any:
    class Trivial(Check):  # type: ignore[misc]  # Check is untyped (Any)
        def __init__(self, name: str, sleep: float = 0.0) -> None:
            self.name, self.sleep = name, sleep

        async def __call__(self) -> CheckResult:
            if self.sleep:
                await asyncio.sleep(self.sleep)
            return CheckResult(name=self.name, passed=True)

    checks: list[Any]
    if CHECKS == "deps":
        checks = [
            PostgreSqlCheck.from_url(os.environ["PEER_PG"], timeout=5.0),
            PeerRedisCheck.from_url(url=os.environ["PEER_REDIS"], timeout=5.0),
        ]
    elif CHECKS == "sleep3":
        checks = [Trivial(f"slow{i}", SLEEP) for i in range(3)]
    else:
        checks = [Trivial(f"dep{i}") for i in range(10)]
    app = _fastapi()
    app.include_router(HealthcheckRouter(Probe(name="probe", checks=checks)))
    return app


def _py_healthcheck() -> Any:
    count = 3 if CHECKS == "sleep3" else 10
    # Its per-check cache (27 s after a pass) is its answer to frequent
    # polling; the 50 ms workload turns it off to compare checks run on request.
    health = HealthCheck(success_ttl=0 if CHECKS == "sleep3" else 27)
    for index in range(count):

        def check() -> tuple[bool, str]:
            if CHECKS == "sleep3":
                time.sleep(SLEEP)  # it calls checks synchronously, one after another
            return True, "ok"

        check.__name__ = f"dep{index}"
        health.add_check(check)
    app = _fastapi()

    @app.get("/probe")
    def probe() -> Response:  # sync: FastAPI runs it in its thread pool
        body, status, headers = health.run()
        return Response(body, status_code=status, headers=headers)

    return app


BUILDERS: dict[str, Callable[[], Any]] = {
    "floor": lambda: floor,
    "fastapi": _fastapi,
    "hp_middleware": _hp_middleware,
    "hp_fastapi": _hp_fastapi,
    "fastapi_health": _fastapi_health,
    "fastapi_healthchecks": _fastapi_healthchecks,
    "py_healthcheck": _py_healthcheck,
}
app = BUILDERS[KIND]()
