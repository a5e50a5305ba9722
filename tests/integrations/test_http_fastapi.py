"""FastAPI and Starlette sugar: routes, OpenAPI, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from healthprobe import Health
from healthprobe.integrations import fastapi as hp_fastapi
from healthprobe.integrations import starlette as hp_starlette

from ._apps import Switch, running, standard_health, starlette_app

pytestmark = pytest.mark.timeout(30)

PROBE_PATHS = ["/livez", "/live", "/readyz", "/ready", "/startupz", "/health"]


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe.test")


def _fastapi(**options: Any) -> tuple[FastAPI, Health, Switch]:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.state.events = events

    @app.get("/items")
    async def items() -> dict[str, int]:
        return {"n": 1}

    health, db, _ = standard_health()
    hp_fastapi.install(app, health, drain=None, **options)
    return app, health, db


def test_openapi_lists_every_probe_route_with_its_codes_and_media_types() -> None:
    app, _, _ = _fastapi(warn_status=429)
    doc = app.openapi()
    for path in PROBE_PATHS:
        for route in (path, path + "/{name}"):
            operation = doc["paths"][route]["get"]
            codes = set(operation["responses"])
            assert {"200", "503", "400", "429"} <= codes, (route, codes)
            assert set(operation["responses"]["200"]["content"]) == {
                "application/json",
                "application/health+json",
                "text/plain",
            }
            names = {p["name"] for p in operation["parameters"]}
            assert {"verbose", "format"} <= names
        assert "404" in doc["paths"][path + "/{name}"]["get"]["responses"]
        assert "exclude" in {p["name"] for p in doc["paths"][path]["get"]["parameters"]}
    schema = doc["paths"]["/readyz"]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"]["properties"]["status"]["enum"] == [
        "healthy",
        "degraded",
        "unknown",
        "unhealthy",
    ]
    assert "/items" in doc["paths"]  # the app's own routes are untouched


@pytest.mark.asyncio
async def test_fastapi_routes_serve_probes_after_the_apps_own_startup() -> None:
    app, health, db = _fastapi()
    async with _client(app) as client:
        assert (await client.get("/readyz")).status_code == 503  # not started
        async with running(app):
            assert app.state.events == ["startup"]
            assert health.lifecycle.started
            ready = await client.get("/readyz?verbose")
            assert ready.status_code == 200
            assert ready.content.endswith(b"readyz check passed\n")
            assert (await client.get("/readyz?format=xml")).status_code == 400  # ours, not a 422
            assert (await client.get("/health/nope")).status_code == 404
            head = await client.head("/readyz?verbose")
            assert head.content == b""
            assert head.headers["content-length"] == str(len(ready.content))
            assert head.headers["cache-control"] == "no-store"
            db.result = False
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/health/db?format=ietf")).json()["status"] == "fail"
            assert (await client.get("/items")).json() == {"n": 1}
        assert app.state.events == ["startup", "shutdown"]
        assert health.lifecycle.draining


@pytest.mark.asyncio
async def test_starlette_install_mounts_first_and_wraps_the_lifespan() -> None:
    events: list[str] = []
    health = Health()
    poll = Switch("poll")
    health.add(poll, interval=0.05)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append(f"shutdown (draining={health.lifecycle.draining})")

    app = starlette_app(lifespan=lifespan)
    hp_starlette.install(app, health, drain=None)
    async with _client(app) as client, running(app):
        for _ in range(100):
            if (await client.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.02)
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/readyz/poll")).status_code == 200
        assert (await client.get("/")).text == "home"
    assert events == ["startup", "shutdown (draining=True)"]


def _reject(request: Request) -> None:
    raise HTTPException(status_code=401, detail="no token")


@pytest.mark.asyncio
async def test_fastapi_probes_come_first_and_skip_the_apps_dependencies() -> None:
    # An app-wide auth dependency and a catch-all route, both declared before
    # install(): neither may stand between kubelet and the probes.
    app = FastAPI(dependencies=[Depends(_reject)])

    @app.get("/{anything:path}")
    async def catch_all(anything: str) -> dict[str, str]:
        return {"caught": anything}

    health, _, _ = standard_health()
    hp_fastapi.install(app, health, drain=None)
    async with _client(app) as client, running(app):
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["db"]["status"] == "healthy"
        assert (await client.get("/health/db")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        # The app's own routes still see their dependency and catch-all.
        assert (await client.get("/readyzz")).status_code == 401
        assert (await client.get("/items")).status_code == 401
        # Other methods: healthprobe's 405, as from the middleware.
        posted = await client.post("/readyz")
        assert posted.status_code == 405
        assert posted.headers["allow"] == "GET, HEAD"
        head = await client.head("/livez")
        assert head.status_code == 200
        assert head.content == b""


@pytest.mark.asyncio
async def test_a_mounted_fastapi_app_serves_its_probes_under_the_mount() -> None:
    inner, health, _ = _fastapi()
    outer = Starlette(routes=[Mount("/svc", app=inner)])
    health.lifecycle.mark_started()
    async with _client(outer) as client:
        ready = await client.get("/svc/readyz?verbose")
        assert ready.status_code == 200
        assert ready.text.endswith("readyz check passed\n")
        assert (await client.get("/svc/readyz/db")).status_code == 200
        assert (await client.get("/svc/items")).json() == {"n": 1}
        assert (await client.get("/readyz")).status_code == 404  # not outside the mount


@pytest.mark.asyncio
async def test_starlette_probes_come_before_a_catch_all_route() -> None:
    async def caught(request: Request) -> Response:
        return PlainTextResponse("caught")

    app = Starlette(routes=[Route("/{anything:path}", caught)])
    health, _, _ = standard_health()
    hp_starlette.install(app, health, drain=None)
    async with _client(app) as client, running(app):
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/livez/lifecycle")).status_code == 404  # no such check
        assert (await client.get("/elsewhere")).text == "caught"
        assert (await client.get("/readyz/db/extra")).text == "caught"
