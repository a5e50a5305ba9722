"""The applications http_bench.py serves, one per uvicorn process (``BENCH_APP`` picks one).

* ``floor``: a raw ASGI callable returning fixed JSON (what no framework costs);
* ``fastapi``: a bare FastAPI route returning the same JSON;
* ``middleware``: HealthMiddleware in front of the floor app, 10 polled checks in readiness;
* ``fastapi_probes``: healthprobe's FastAPI routes, the same 10 polled checks.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware
from healthprobe.integrations.fastapi import install

BODY = b'{"status":"healthy"}'
POLLED_CHECKS = 10


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


def _health() -> Health:
    health = Health(version="bench")
    for index in range(POLLED_CHECKS):

        async def dependency() -> bool:
            return True

        health.add(dependency, name=f"dep{index}", interval=1.0)
    return health


def _build() -> Any:
    kind = os.environ.get("BENCH_APP", "floor")
    if kind == "floor":
        return floor
    if kind == "middleware":
        return HealthMiddleware(floor, _health(), drain=None)
    app = FastAPI()

    @app.get("/json")
    async def fixed() -> Response:
        return Response(BODY, media_type="application/json")

    if kind == "fastapi_probes":
        install(app, _health(), drain=None)
    return app


app = _build()
