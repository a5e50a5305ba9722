"""The saturated application overload.py serves: one uvicorn worker, a management port.

``/block?ms=N`` blocks the event loop for N ms (a sync driver call inside an
``async def`` route, the usual cause of a saturated loop); ``/burn?ms=N``
burns N ms of CPU in pure Python, holding the GIL.  ``HP_MGMT_PORT`` is the
management port.  Readiness has a trivial polled check and a polled
event-loop lag check, so that it reports the overload on purpose.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from healthprobe import Health
from healthprobe.checks import LoopLagCheck
from healthprobe.integrations.asgi import HealthMiddleware

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

health = Health(version="overload")
health.add(LoopLagCheck(warn=0.1, fail=0.5), interval=0.5)


@health.check(interval=1.0)
async def database() -> bool:
    return True


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    query = parse_qs(scope.get("query_string", b"").decode())
    seconds = float(query.get("ms", ["20"])[0]) / 1000.0
    if scope["path"] == "/block":
        time.sleep(seconds)  # noqa: ASYNC251 - the point: a blocked event loop
    elif scope["path"] == "/burn":
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:  # pure Python: holds the GIL
            pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


app = HealthMiddleware(
    inner, health, drain=None, management_port=int(os.environ.get("HP_MGMT_PORT", "0"))
)
