"""The application the drain test serves with a real uvicorn process.

A plain ASGI app whose every route answers 200, behind HealthMiddleware
with a 2 s drain and one background-polled check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware

health = Health(version="e2e")


@health.check(interval=0.2)
async def always_up() -> bool:
    return True


async def inner(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return  # no lifespan support: the middleware speaks it for us
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app ok"})


app = HealthMiddleware(inner, health, drain=2.0)
