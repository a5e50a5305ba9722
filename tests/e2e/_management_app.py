"""Apps with a management listener, served by a real uvicorn in the e2e tests.

``HP_MGMT_PORT`` is the management port, ``HP_DRAIN`` the SIGTERM drain and
``HP_STARTUP`` how long the app's own startup takes.  ``/block?ms=N`` blocks
the app's event loop for N ms (a sync call inside ``async def``, the usual
cause of a saturated loop); ``/burn?ms=N`` burns N ms of CPU holding the GIL.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MGMT_PORT = int(os.environ.get("HP_MGMT_PORT", "0"))
DRAIN = float(os.environ.get("HP_DRAIN", "2.0"))
STARTUP = float(os.environ.get("HP_STARTUP", "0"))

health = Health(version="e2e")


@health.check(interval=0.2)
async def always_up() -> bool:
    return True


def _ms(scope: Scope) -> float:
    query = parse_qs(scope.get("query_string", b"").decode())
    return float(query.get("ms", ["20"])[0]) / 1000.0


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await asyncio.sleep(STARTUP)  # the app's own warm-up
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/block":
        time.sleep(_ms(scope))  # noqa: ASYNC251 - the point: a blocked event loop
    elif scope["path"] == "/burn":
        end = time.perf_counter() + _ms(scope)
        while time.perf_counter() < end:  # pure Python: holds the GIL
            pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app ok"})


app = HealthMiddleware(
    inner, health, drain=DRAIN, management_port=MGMT_PORT, management_host="127.0.0.1"
)


def fastapi_app() -> Any:
    """The same, as FastAPI with ``install(..., management_port=...)`` (a factory)."""
    from fastapi import FastAPI

    from healthprobe.integrations.fastapi import install

    api = FastAPI()

    @api.get("/block")
    async def block(ms: float = 20) -> str:
        time.sleep(ms / 1000)  # noqa: ASYNC251 - the point: a blocked event loop
        return "app ok"

    install(api, Health(version="e2e-fastapi"), drain=DRAIN, management_port=MGMT_PORT)
    return api
