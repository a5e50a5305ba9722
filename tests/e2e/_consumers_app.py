"""The one application every consumer in test_consumer_table.py reads (HTTP and gRPC).

``HealthMiddleware`` in front of a plain ASGI app, ``draining_status=404``
(for HAProxy's ``disable-on-404``) and a long drain, plus an asyncio gRPC
server started in the app's lifespan on ``HP_E2E_GRPC_PORT``.  Two polled
checks read flag files in ``HP_E2E_DIR``: ``db`` (critical) fails while
``db-down`` exists, ``mail`` (not critical) while ``mail-down`` exists.
gRPC services: ``""`` (readiness), ``shop.Db`` (the ``db`` check) and
``shop.Mail`` (the ``mail`` check).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import grpc.aio

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware
from healthprobe.integrations.grpc import AsyncHealthServicer

FLAGS = Path(os.environ["HP_E2E_DIR"])
GRPC_PORT = int(os.environ["HP_E2E_GRPC_PORT"])
DRAIN = float(os.environ.get("HP_E2E_DRAIN", "30"))

health = Health(version="e2e-consumers")


def db() -> bool:
    return not (FLAGS / "db-down").exists()


def mail() -> tuple[bool, str]:
    return not (FLAGS / "mail-down").exists(), "smtp"


health.add(db, interval=0.2, timeout=1.0)
health.add(mail, interval=0.2, timeout=1.0, critical=False)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        server: Any = None
        servicer: AsyncHealthServicer | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                server = grpc.aio.server()
                servicer = AsyncHealthServicer(
                    health,
                    services={"shop.Db": "ready/db", "shop.Mail": "ready/mail"},
                    mark_started=False,  # the middleware marks startup
                )
                servicer.add_to_server(server)
                server.add_insecure_port(f"127.0.0.1:{GRPC_PORT}")
                await server.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if server is not None:
                    await server.stop(1.0)
                if servicer is not None:
                    servicer.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app ok"})


app = HealthMiddleware(inner, health, drain=DRAIN, draining_status=404)
