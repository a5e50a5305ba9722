"""A DSN in a failure: hidden from unauthorized clients, sanitized for authorized ones."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from healthprobe import Health
from healthprobe.http.messages import Request
from healthprobe.integrations.asgi import HealthMiddleware

from ._apps import Switch, starlette_app

pytestmark = pytest.mark.timeout(30)

DSN = "postgresql://app:S3cret@db.internal:5432/app"
TOKEN = "t0ken-for-the-health-details"
# Nothing of the failure may reach an unauthorized client: not the secret, not
# the host, not even the (sanitized) error text.
SECRET_PARTS = ("S3cret", "db.internal", "postgresql", "ConnectionRefusedError", "refused")
REQUESTS = [
    ("/readyz", {}),
    ("/readyz", {"accept": "application/health+json"}),
    ("/readyz?format=ietf", {}),
    ("/readyz?verbose", {}),
    ("/readyz?format=text", {}),
    ("/health", {}),
    ("/health?verbose", {}),
    ("/health?format=ietf", {}),
    ("/health/db", {}),
    ("/readyz/db?format=ietf", {}),
    ("/readyz/db?verbose", {}),
]


def _app(**options: Any) -> tuple[Health, HealthMiddleware]:
    health = Health(version="1")
    health.add(Switch("db", ConnectionRefusedError(f"connect to {DSN} refused")))
    health.lifecycle.mark_started()
    return health, HealthMiddleware(starlette_app(), health, drain=None, **options)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe.test")


UNAUTHORIZED = [
    {},
    {"authorization": "Bearer wrong-token-of-some-length"},
    {"authorization": f"Basic {TOKEN}"},
    {"authorization": f"Bearer {TOKEN}x"},
    {"authorization": f"bearer{TOKEN}"},
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "headers"), REQUESTS)
@pytest.mark.parametrize("auth", UNAUTHORIZED)
async def test_unauthorized_clients_see_no_error_text(
    path: str, headers: dict[str, str], auth: dict[str, str]
) -> None:
    _, app = _app(token=TOKEN)
    async with _client(app) as client:
        response = await client.get(path, headers={**headers, **auth})
    assert response.status_code == 503
    for part in SECRET_PARTS:
        assert part not in response.text, (part, response.text)
    assert b"db" in response.content  # the check's name and status are public


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "headers"), REQUESTS)
async def test_authorized_clients_see_the_sanitized_error(
    path: str, headers: dict[str, str]
) -> None:
    _, app = _app(token=TOKEN)
    async with _client(app) as client:
        response = await client.get(path, headers={**headers, "authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503
    body = response.text
    # every format, the bare text one too (a failure is always verbose)
    assert "ConnectionRefusedError: connect to postgresql://***@***" in body, body
    assert "S3cret" not in body
    assert "db.internal" not in body


@pytest.mark.asyncio
async def test_never_hides_even_the_check_names() -> None:
    _, app = _app(details="never")
    async with _client(app) as client:
        for path in ("/readyz", "/readyz?verbose", "/readyz?format=ietf", "/health"):
            response = await client.get(path, headers={"authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 503
            assert b"db" not in response.content.replace(b"readyz", b""), response.content


@pytest.mark.asyncio
async def test_always_and_a_callable_authorizer() -> None:
    _, always = _app(details="always")
    seen: list[Request] = []

    def from_the_mesh(request: Request) -> bool:
        seen.append(request)
        return request.headers.get("authorization") == "Bearer mesh-identity-0123456789"

    _, custom = _app(authorize=from_the_mesh)
    async with _client(always) as client:
        assert b"***@***" in (await client.get("/readyz")).content
    async with _client(custom) as client:
        assert b"***@***" not in (await client.get("/readyz")).content
        ok = await client.get(
            "/readyz", headers={"authorization": "Bearer mesh-identity-0123456789"}
        )
        assert b"***@***" in ok.content
    assert len(seen) == 2
    assert all(r.path == "/readyz" for r in seen)


@pytest.mark.asyncio
async def test_the_authorizer_sees_every_header_and_its_failure_denies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def by_client_cert(request: Request) -> bool:
        if "x-boom" in request.headers:
            raise RuntimeError(f"lookup failed for {DSN}")
        return request.headers.get("x-client-cert-subject") == "CN=prometheus"

    _, app = _app(authorize=by_client_cert)
    with caplog.at_level(logging.WARNING, logger="healthprobe"):
        async with _client(app) as client:
            ok = await client.get("/readyz", headers={"x-client-cert-subject": "CN=prometheus"})
            boom = await client.get("/readyz", headers={"x-boom": "1"})
    assert b"***@***" in ok.content
    assert boom.status_code == 503
    assert b"***@***" not in boom.content
    [record] = [r for r in caplog.records if "authorize" in r.getMessage()]
    assert "authorize callable failed: RuntimeError" in record.getMessage()
    assert all("S3cret" not in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_the_decision_is_made_before_any_check_runs() -> None:
    order: list[str] = []

    def deny(request: Request) -> bool:
        order.append("authorize")
        return False

    health = Health()

    async def db() -> bool:
        order.append("check")
        return True

    health.add(db)
    health.lifecycle.mark_started()
    app = HealthMiddleware(starlette_app(), health, drain=None, authorize=deny)
    async with _client(app) as client:
        await client.get("/readyz")
    assert order == ["authorize", "check"]


def test_a_short_token_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        _app(token="short")


@pytest.mark.asyncio
async def test_a_failing_sync_check_leaks_nothing_into_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Guards the engine: a sync check's exception once reached asyncio's "Future exception
    # was never retrieved" log with the raw traceback and the unsanitized DSN.
    import gc

    health = Health()

    def db() -> bool:
        raise ConnectionRefusedError(f"connect to {DSN} refused")

    health.add(db)
    health.lifecycle.mark_started()
    app = HealthMiddleware(starlette_app(), health, drain=None)
    with caplog.at_level(logging.DEBUG):
        async with _client(app) as client:
            assert (await client.get("/readyz")).status_code == 503
        gc.collect()
        await asyncio.sleep(0)
    leaked = [r.getMessage() for r in caplog.records if "S3cret" in r.getMessage()]
    leaked += [str(r.exc_info) for r in caplog.records if r.exc_info]
    assert not leaked, leaked


@pytest.mark.asyncio
async def test_a_dsn_split_over_lines_reaches_no_format_and_no_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # issue 17.3: the text was flattened to one line after the URL match, so the password
    # and host of a DSN a driver wrapped over lines reached every authorized format.
    health = Health(version="1")
    health.add(Switch("db", RuntimeError("could not connect\npostgresql://app:PW\n@dbhost/app")))
    health.lifecycle.mark_started()
    app = HealthMiddleware(starlette_app(), health, drain=None, details="always")
    with caplog.at_level(logging.DEBUG):
        async with _client(app) as client:
            for path, headers in [*REQUESTS, ("/health/ui", {})]:
                response = await client.get(path, headers=headers)
                assert "PW" not in response.text, (path, response.text)
                assert "dbhost" not in response.text, (path, response.text)
            body = (await client.get("/readyz?verbose")).text
    assert "postgresql://***@***/app" in body
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "could not connect postgresql://***@***/app" in logged
    assert "PW" not in logged
    assert "dbhost" not in logged
