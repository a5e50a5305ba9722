"""The ASGI fast path (plans memoized per handler) answers exactly as the full path does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware
from healthprobe.integrations.fastapi import install

from ._apps import standard_health, starlette_app

pytestmark = pytest.mark.timeout(30)

TOKEN = "s3cret-token-0123456789"


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe.test")


@pytest.mark.asyncio
async def test_headers_decide_each_answer_although_the_plan_is_memoized() -> None:
    health, _db, mail = standard_health()
    mail.result = (False, "smtp refused")
    health.lifecycle.mark_started()
    app = HealthMiddleware(starlette_app(), health, drain=None, token=TOKEN)
    bearer = {"authorization": f"Bearer {TOKEN}"}
    async with _client(app) as client:
        for _ in range(3):  # the second and third rounds take the memoized plans
            plain = await client.get("/health", headers={"accept": "text/plain"})
            assert plain.headers["content-type"].startswith("text/plain")
            ietf = await client.get("/health", headers={"accept": "application/health+json"})
            assert ietf.headers["content-type"] == "application/health+json"
            withheld = await client.get("/health")
            assert "smtp refused" not in withheld.text
            full = await client.get("/health", headers=bearer)
            assert "smtp refused" in full.text
            wrong = await client.get("/health", headers={"authorization": "Bearer wrong"})
            assert "smtp refused" not in wrong.text
            head = await client.head("/readyz")
            assert (head.status_code, head.content) == (200, b"")
            assert (await client.post("/readyz")).status_code == 405
            assert (await client.get("/health/nope")).status_code == 404
            assert (await client.get("/health/db")).status_code == 200


@pytest.mark.asyncio
async def test_a_state_change_shows_at_once_through_a_memoized_plan() -> None:
    health, db, _mail = standard_health()
    health.lifecycle.mark_started()
    app = HealthMiddleware(starlette_app(), health, drain=None)
    async with _client(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        db.result = False
        assert (await client.get("/readyz")).status_code == 503
        db.result = True
        health.lifecycle.begin_drain()
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/livez")).status_code == 200


class RejectAll(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        return PlainTextResponse("unauthorized", status_code=401)


@pytest.mark.asyncio
async def test_fastapi_probes_are_answered_in_front_of_the_apps_middleware() -> None:
    health = Health(version="1")
    health.lifecycle.mark_started()
    app = FastAPI()

    @app.get("/")
    async def home() -> str:
        return "home"

    install(app, health, drain=None)
    app.add_middleware(RejectAll)  # added after install(): the stack is built on first call
    async with _client(app) as client:
        assert (await client.get("/")).status_code == 401
        assert (await client.get("/livez")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 401


@pytest.mark.asyncio
async def test_a_wrapper_changing_the_messages_in_place_never_alters_the_next_answer() -> None:
    health, _, _ = standard_health()
    health.lifecycle.mark_started()
    inner = HealthMiddleware(starlette_app(), health, drain=None)

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        async def appending(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-extra", b"1"))  # in place, as some do
            await send(message)

        await inner(scope, receive, appending)

    async with _client(wrapper) as client:
        for _ in range(4):  # the same plan and encoded headers every time
            response = await client.get("/livez")
            assert response.headers.get_list("x-extra") == ["1"]
