"""The ASGI middleware and app through a real Starlette application (in process)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from healthprobe import Health
from healthprobe.integrations.asgi import HealthApp, HealthMiddleware

from ._apps import Switch, running, standard_health, starlette_app

pytestmark = pytest.mark.timeout(30)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe.test")


async def _started(**options: Any) -> tuple[Health, Switch, Switch, httpx.AsyncClient]:
    health, db, mail = standard_health()
    health.lifecycle.mark_started()  # ASGITransport sends no lifespan
    app = HealthMiddleware(starlette_app(), health, drain=None, **options)
    return health, db, mail, _client(app)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("db_ok", "mail_ok", "path", "status", "content_type", "body_start"),
    [
        (True, True, "/readyz", 200, "application/json", b'{"status":"healthy","version":"9.9.9"'),
        (True, True, "/ready", 200, "application/json", b'{"status":"healthy"'),
        (True, False, "/readyz", 200, "application/json", b'{"status":"degraded"'),
        (False, True, "/readyz", 503, "application/json", b'{"status":"unhealthy"'),
        (
            False,
            True,
            "/livez",
            200,
            "application/json",
            b'{"status":"healthy"',
        ),  # no dependency in liveness
        (False, True, "/live", 200, "application/json", b'{"status":"healthy"'),
        (True, True, "/startupz", 200, "application/json", b'{"status":"healthy"'),
        (False, True, "/health", 503, "application/json", b'{"status":"unhealthy"'),
        (True, True, "/health/db", 200, "application/json", b'{"status":"healthy"'),
        (False, True, "/readyz/db", 503, "application/json", b'{"status":"unhealthy"'),
        (True, True, "/health/nope", 404, "text/plain; charset=utf-8", b"no check named 'nope'"),
        (
            True,
            True,
            "/readyz?verbose",
            200,
            "text/plain; charset=utf-8",
            b"[+]db ok\n[+]mail ok\n",
        ),
        (True, True, "/readyz?format=text", 200, "text/plain; charset=utf-8", b"ok"),
        (True, True, "/readyz?format=ietf", 200, "application/health+json", b'{"status":"pass"'),
        (True, False, "/readyz?format=ietf", 200, "application/health+json", b'{"status":"warn"'),
        (False, True, "/readyz?format=ietf", 503, "application/health+json", b'{"status":"fail"'),
        (
            True,
            True,
            "/readyz?format=xml",
            400,
            "text/plain; charset=utf-8",
            b"bad request: format must be",
        ),
        # kube-apiserver: an empty exclude matches nothing (a warning), never a 400
        (True, True, "/readyz?exclude=", 200, "application/json", b'{"status":"healthy"'),
        # exclude on one check's path is ignored, as Kubernetes does
        (True, True, "/readyz/db?exclude=db", 200, "application/json", b'{"status":"healthy"'),
        (
            True,
            True,
            "/readyz?exclude=%ff",
            400,
            "text/plain; charset=utf-8",
            b"bad request: the query",
        ),
        (True, True, "/readyz?cachebuster=123", 200, "application/json", b'{"status":"healthy"'),
        (False, True, "/readyz?exclude=db", 200, "application/json", b'{"status":"healthy"'),
    ],
)
async def test_paths_statuses_and_formats(  # noqa: PLR0917 - one parameter per table column
    db_ok: bool, mail_ok: bool, path: str, status: int, content_type: str, body_start: bytes
) -> None:
    _, db, mail, client = await _started()
    db.result, mail.result = db_ok, mail_ok
    async with client:
        response = await client.get(path)
    assert (response.status_code, response.headers["content-type"]) == (status, content_type)
    assert response.content.startswith(body_start), response.content
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/health+json", "application/health+json"),
        ("application/json, application/health+json;q=0.5", "application/json"),
        ("application/json;q=0.1, application/health+json", "application/health+json"),
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),  # a browser
        ("image/png", "application/json"),  # nothing acceptable: the default, not a 406
    ],
)
async def test_content_negotiation(accept: str, content_type: str) -> None:
    _, _, _, client = await _started()
    async with client:
        response = await client.get("/readyz", headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


@pytest.mark.asyncio
async def test_head_has_the_get_headers_and_no_body_and_other_methods_get_405() -> None:
    _, _, _, client = await _started()
    async with client:
        get = await client.get("/readyz?verbose")  # stable bytes: no latency in it
        head = await client.head("/readyz?verbose")
        post = await client.post("/readyz")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"


@pytest.mark.asyncio
async def test_middleware_probes_answer_while_the_apps_own_middleware_rejects_everything() -> None:
    health, _, _ = standard_health()
    health.lifecycle.mark_started()
    app = HealthMiddleware(starlette_app(reject_all=True), health, drain=None)
    async with _client(app) as client:
        assert (await client.get("/")).status_code == 401  # the app really rejects
        assert (await client.get("/livez")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/readyz/db")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("options", "mail_ok", "drain", "path", "status"),
    [
        ({}, False, False, "/readyz", 200),
        ({"warn_status": 429}, False, False, "/readyz", 429),
        ({"warn_status": 429}, True, False, "/readyz", 200),
        ({}, True, True, "/readyz", 503),
        ({}, True, True, "/livez", 200),
        ({"draining_status": 404}, True, True, "/readyz", 404),
        ({"draining_status": 404}, True, True, "/health", 503),  # 404 is readiness only
        ({"draining_status": 404}, True, True, "/livez", 200),
    ],
)
async def test_opt_in_status_codes(
    options: dict[str, Any], mail_ok: bool, drain: bool, path: str, status: int
) -> None:
    health, _, mail, client = await _started(**options)
    mail.result = mail_ok
    if drain:
        health.lifecycle.begin_drain()
    async with client:
        assert (await client.get(path)).status_code == status


@pytest.mark.asyncio
async def test_manual_states_and_their_kubernetes_lines() -> None:
    health, _, _, client = await _started()
    async with client:
        health.lifecycle.mark_not_ready()
        response = await client.get("/readyz?verbose")
        assert response.status_code == 503
        assert b"[-]lifecycle/ready failed: reason withheld\n" in response.content
        health.lifecycle.mark_ready()
        assert (await client.get("/readyz")).status_code == 200
        health.lifecycle.mark_broken("lost the pool")
        response = await client.get("/livez?verbose")
        assert response.status_code == 503
        assert (
            response.content == b"[-]lifecycle/live failed: reason withheld\nlivez check failed\n"
        )
        health.lifecycle.begin_drain()
        response = await client.get("/readyz?verbose&exclude=nope")
        assert response.content.endswith(
            b"[-]lifecycle/shutdown failed: reason withheld\n[+]lifecycle/ready ok\n"
            b'warn: some health checks cannot be excluded: no matches for "nope"\n'
            b"readyz check failed\n"
        )


@pytest.mark.asyncio
async def test_an_unchanged_report_is_not_rendered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import healthprobe.http.handler as http_module
    from healthprobe.http.render_ietf import render_ietf

    calls = 0
    real = render_ietf

    def counting(*args: Any, **kwargs: Any) -> bytes:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(http_module, "render_ietf", counting)
    async with _polled_once() as (health, client):
        bodies = {(await client.get("/readyz?format=ietf")).content for _ in range(20)}
    assert len(bodies) == 1, bodies
    assert calls == 1, (calls, health.executions("db"))


@contextlib.asynccontextmanager
async def _polled_once() -> AsyncIterator[tuple[Health, httpx.AsyncClient]]:
    """A started middleware app whose one check (``db``, polled hourly) has its first reading."""
    health = Health(version="2.0", jitter=False)  # its first poll comes at start
    health.add(Switch("db"), interval=3600.0)
    health.lifecycle.mark_started()
    async with health, _client(HealthMiddleware(starlette_app(), health, drain=None)) as client:
        for _ in range(100):
            if health.executions("db"):
                break
            await asyncio.sleep(0.01)  # let the first poll run
        yield health, client


@pytest.mark.asyncio
async def test_a_broken_healthprobe_is_a_500_with_a_generic_body_and_one_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    health, _, _, client = await _started()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal state broken at postgresql://app:S3cret@db.internal/app")

    monkeypatch.setattr(health, "arun", broken)
    with caplog.at_level(logging.ERROR, logger="healthprobe"):
        async with client:
            response = await client.get("/readyz")
    assert response.status_code == 500
    assert response.content == b"internal error in the health endpoint\n"
    [record] = [r for r in caplog.records if "endpoint failed" in r.getMessage()]
    message = record.getMessage()
    assert "RuntimeError" in message
    assert "S3cret" not in message
    assert "\n" not in message
    assert record.exc_info is None


@pytest.mark.asyncio
async def test_prefix_and_custom_paths() -> None:
    health, _, _ = standard_health()
    health.lifecycle.mark_started()
    app = HealthMiddleware(
        starlette_app(), health, drain=None, prefix="/_", paths={"/healthz": "ready"}
    )
    async with _client(app) as client:
        assert (await client.get("/_/healthz?verbose")).content.endswith(b"healthz check passed\n")
        assert (await client.get("/_/healthz/db")).status_code == 200
        assert (await client.get("/readyz")).status_code == 404  # the app's own 404


@pytest.mark.asyncio
async def test_mounted_app_serves_relative_paths() -> None:
    health, _, _ = standard_health()
    health.lifecycle.mark_started()
    app = Starlette(routes=[Mount("/ops", app=HealthApp(health, drain=None))])
    async with _client(app) as client:
        assert (await client.get("/ops/readyz")).status_code == 200
        assert (await client.get("/ops/health/db")).status_code == 200
        assert (await client.get("/ops/nothing")).status_code == 404


@pytest.mark.asyncio
async def test_lifespan_order_polling_and_clean_stop() -> None:
    events: list[str] = []
    health = Health()
    poll = Switch("poll")
    health.add(poll, interval=0.05)

    @contextlib.asynccontextmanager
    async def app_lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append(f"app startup (started={health.lifecycle.started})")
        yield
        events.append(f"app shutdown (draining={health.lifecycle.draining})")

    app = HealthMiddleware(starlette_app(lifespan=app_lifespan), health, drain=None)
    async with _client(app) as client:
        # before the lifespan: alive, but neither started nor ready
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/startupz")).status_code == 503
        assert (await client.get("/livez")).status_code == 200
        async with running(app):
            assert events == ["app startup (started=False)"]  # the app's startup ran first
            assert health.lifecycle.started
            for _ in range(100):  # the first poll lands within about one interval
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.02)
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/startupz")).status_code == 200
        calls = poll.calls
        assert calls >= 1
        # polling stopped and readiness failed *before* the app's own shutdown ran
        assert events[-1] == "app shutdown (draining=True)"
        assert (await client.get("/readyz")).status_code == 503
        await asyncio.sleep(0.2)
        assert poll.calls == calls


@pytest.mark.asyncio
async def test_a_second_lifespan_of_the_same_app_serves_again() -> None:
    health, _, _ = standard_health()
    app = HealthMiddleware(starlette_app(), health, drain=None)
    async with _client(app) as client:
        for _ in range(2):
            async with running(app):
                assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/readyz")).status_code == 503


@pytest.mark.asyncio
async def test_an_app_without_lifespan_support_still_gets_started() -> None:
    health = Health()

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("lifespan not supported")

    app = HealthMiddleware(bare, health, drain=None)
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert health.lifecycle.started
    assert health.lifecycle.draining


@pytest.mark.asyncio
async def test_the_json_head_is_current_although_the_rest_is_cached() -> None:
    async with _polled_once() as (health, client):
        documents = []
        for _ in range(5):
            response = await client.get("/readyz")
            assert int(response.headers["content-length"]) == len(response.content)
            documents.append(response.json())
            await asyncio.sleep(0.005)  # past the millisecond the head is formatted for
    stamps = [document["timestamp"] for document in documents]
    uptimes = [document["uptime_seconds"] for document in documents]
    assert len(set(stamps)) == 5, stamps
    assert stamps == sorted(stamps)
    assert uptimes == sorted(uptimes)
    assert len(set(uptimes)) == 5, uptimes
    assert all(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) for stamp in stamps)
    assert {document["checks"]["db"]["status"] for document in documents} == {"healthy"}
    assert health.executions("db") == 1
