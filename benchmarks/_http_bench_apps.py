"""The applications http_bench.py serves, one per uvicorn process (``BENCH_APP`` picks one).

* ``floor``: a raw ASGI callable returning a fixed 20-byte JSON (what no framework costs);
* ``same_answer``: a raw ASGI callable sending healthprobe's own ``/livez`` body and
  headers (the same bytes on the wire: the limit for our answer);
* ``starlette``: a bare Starlette route returning the fixed JSON;
* ``fastapi``: a bare FastAPI route returning the fixed JSON;
* ``middleware``: HealthMiddleware in front of the floor app, 10 polled checks in readiness;
* ``middleware_on_request``: the same with 3 trivial async checks run on every request;
* ``fastapi_probes``: healthprobe's FastAPI ``install()``, the same 10 polled checks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from healthprobe import Health
from healthprobe.http.messages import Request
from healthprobe.integrations._endpoints import make_handler
from healthprobe.integrations.asgi import HealthMiddleware

BODY = b'{"status":"healthy"}'
POLLED_CHECKS = 10
ON_REQUEST_CHECKS = 3

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_FLOOR_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"20")]


async def floor(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _FLOOR_HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def _livez_answer() -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers and body healthprobe answers to ``GET /livez`` (computed once)."""
    health = Health(version="bench")
    handler = make_handler(health)
    # On a thread of its own: the in-process benchmark imports this inside a running loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        response = pool.submit(asyncio.run, handler.ahandle(Request("GET", "/livez"))).result()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers()]
    return headers, response.body


def _same_answer_app() -> Any:
    headers, body = _livez_answer()

    async def same_answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return same_answer


def _health(*, polled: bool = True) -> Health:
    health = Health(version="bench")
    count = POLLED_CHECKS if polled else ON_REQUEST_CHECKS
    for index in range(count):

        async def dependency() -> bool:
            return True

        health.add(dependency, name=f"dep{index}", interval=1.0 if polled else None)
    return health


def _build() -> Any:
    kind = os.environ.get("BENCH_APP", "floor")
    if kind == "floor":
        return floor
    if kind == "same_answer":
        return _same_answer_app()
    if kind == "middleware":
        return HealthMiddleware(floor, _health(), drain=None)
    if kind == "middleware_on_request":
        return HealthMiddleware(floor, _health(polled=False), drain=None)
    if kind == "starlette":
        from starlette.applications import Starlette  # noqa: PLC0415 - per application
        from starlette.responses import Response as StarletteResponse  # noqa: PLC0415
        from starlette.routing import Route  # noqa: PLC0415

        async def fixed_starlette(request: Any) -> StarletteResponse:
            return StarletteResponse(BODY, media_type="application/json")

        return Starlette(routes=[Route("/json", fixed_starlette)])
    from fastapi import FastAPI  # noqa: PLC0415
    from fastapi.responses import Response  # noqa: PLC0415

    from healthprobe.integrations.fastapi import install  # noqa: PLC0415

    app = FastAPI()

    @app.get("/json")
    async def fixed() -> Response:
        return Response(BODY, media_type="application/json")

    if kind == "fastapi_probes":
        install(app, _health(), drain=None)
    return app


app = _build()
