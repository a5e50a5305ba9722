"""Small real applications the HTTP integration tests drive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from healthprobe import CheckResult, Health


class Switch:
    """A check whose outcome the test sets (async: it runs on the request's loop)."""

    def __init__(self, name: str, result: Any = True) -> None:
        self.name = name
        self.result = result
        self.calls = 0

    async def acheck(self) -> Any:
        self.calls += 1
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


class RejectAll(BaseHTTPMiddleware):
    """The app's own auth: every request is 401."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        return PlainTextResponse("unauthorized", status_code=401)


async def home(request: Request) -> Response:
    return PlainTextResponse("home")


def starlette_app(*, reject_all: bool = False, lifespan: Any = None) -> Starlette:
    middleware = [Middleware(RejectAll)] if reject_all else []
    return Starlette(routes=[Route("/", home)], middleware=middleware, lifespan=lifespan)


def standard_health() -> tuple[Health, Switch, Switch]:
    """db (critical) and mail (not critical), both in readiness."""
    health = Health(version="9.9.9")
    db, mail = Switch("db"), Switch("mail")
    health.add(db, timeout=2.0)
    health.add(mail, critical=False, timeout=2.0)
    return health, db, mail


__all__ = ["CheckResult", "RejectAll", "Switch", "running", "standard_health", "starlette_app"]


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """Drive ``app``'s ASGI lifespan as a server would (startup, then shutdown on exit)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: Any) -> None:
        await outbox.put(dict(message))

    task = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outbox.get(), 10)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(outbox.get(), 10)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        await asyncio.wait_for(task, 10)
