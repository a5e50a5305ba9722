"""``management_port=`` of the ASGI, Starlette, WSGI and Flask integrations, in process.

(The same under a real uvicorn, with SIGTERM and overload: tests/e2e/test_management_port.py.)
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from flask import Flask
from starlette.applications import Starlette

from healthprobe import ConfigurationError
from healthprobe.integrations.asgi import HealthMiddleware
from healthprobe.integrations.flask import HealthProbe
from healthprobe.integrations.management import ManagementListener
from healthprobe.integrations.starlette import install as starlette_install
from healthprobe.integrations.wsgi import HealthMiddleware as WsgiHealthMiddleware
from healthprobe.integrations.wsgi import StartResponse

from ._apps import running, standard_health, starlette_app
from ._wsgi_client import call_wsgi

pytestmark = pytest.mark.timeout(60)

TOKEN = "s3cret-token-0123456789"


def _listener(value: ManagementListener | None) -> ManagementListener:
    assert value is not None
    return value


def _listening(listener: ManagementListener) -> bool:
    return listener.server.running


async def _aget(url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url, **kwargs)


@pytest.mark.asyncio
async def test_asgi_middleware_listens_for_the_lifespan_with_the_same_options() -> None:
    health, _db, mail = standard_health()
    mail.result = (False, "smtp refused")
    app = HealthMiddleware(starlette_app(), health, drain=None, token=TOKEN, management_port=0)
    listener = _listener(app.management)
    assert not _listening(listener)  # nothing binds before the lifespan
    async with running(app):
        assert _listening(listener)
        url = listener.server.url
        assert (await _aget(f"{url}/readyz")).status_code == 200
        verbose = await _aget(f"{url}/health?verbose", headers={"authorization": f"Bearer {TOKEN}"})
        assert "mail" in verbose.text
        assert "smtp refused" in verbose.text
        withheld = await _aget(f"{url}/health?verbose")
        assert "smtp refused" not in withheld.text
        health.lifecycle.begin_drain()  # what SIGTERM does: seen on both ports
        assert (await _aget(f"{url}/readyz")).status_code == 503
        assert (await _aget(f"{url}/livez")).status_code == 200
    assert not _listening(listener)
    with pytest.raises(httpx.ConnectError):
        await _aget(f"{url}/livez")


@pytest.mark.asyncio
async def test_a_port_that_cannot_be_bound_fails_the_lifespan_startup_with_its_message() -> None:
    health, _, _ = standard_health()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = HealthMiddleware(starlette_app(), health, drain=None, management_port=port)
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(dict(message))

        await inbox.put({"type": "lifespan.startup"})
        await asyncio.wait_for(app({"type": "lifespan", "state": {}}, inbox.get, send), 10)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert f"127.0.0.1:{port}: Address already in use" in sent[0]["message"]
    assert not health.lifecycle.started


@pytest.mark.asyncio
async def test_starlette_install_listens_for_the_lifespan() -> None:
    health, _, _ = standard_health()
    app = Starlette()
    starlette_install(app, health, drain=None, management_port=0)
    listeners = [t for t in _threads() if t.startswith("healthprobe-server")]
    assert listeners == []
    async with running(app):
        (name,) = (t for t in _threads() if t.startswith("healthprobe-server"))
        assert name == "healthprobe-server:0"
    assert not any(t.startswith("healthprobe-server") for t in _threads())


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate()]


def _hello(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"hello"]


def test_wsgi_middleware_starts_the_listener_explicitly_or_on_the_first_request() -> None:
    health, _, _ = standard_health()
    explicit = WsgiHealthMiddleware(_hello, health, management_port=0)
    listener = _listener(explicit.management)
    assert not _listening(listener)  # not at creation: a fork may follow
    listener.start()
    listener.start()  # once per process
    try:
        assert httpx.get(f"{listener.server.url}/livez", timeout=5).status_code == 200
    finally:
        listener.close()

    lazy = WsgiHealthMiddleware(_hello, health, management_port=0)
    lazy_listener = _listener(lazy.management)
    assert call_wsgi(lazy, "/").body == b"hello"
    try:
        assert _listening(lazy_listener)
        assert httpx.get(f"{lazy_listener.server.url}/readyz", timeout=5).status_code == 200
    finally:
        lazy_listener.close()
        health.stop()


def test_flask_extension_passes_the_management_options_on() -> None:
    health, _, _ = standard_health()
    app = Flask(__name__)
    extension = HealthProbe(app, health=health, management_port=0, prefix="/_")
    assert extension.middleware is not None
    listener = _listener(extension.middleware.management)
    listener.start()
    try:
        assert httpx.get(f"{listener.server.url}/_/livez", timeout=5).status_code == 200
        assert httpx.get(f"{listener.server.url}/livez", timeout=5).status_code == 404
    finally:
        listener.close()
        health.stop()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"management_port": -1}, "port must be an integer from 0 to 65535"),
        ({"management_port": "9090"}, "port must be an integer"),
        ({"management_port": 0, "management_host": ""}, "host must be a non-empty string"),
    ],
)
def test_bad_management_options_fail_where_the_app_is_built(
    options: dict[str, Any], message: str
) -> None:
    health, _, _ = standard_health()
    with pytest.raises(ConfigurationError, match=message):
        HealthMiddleware(starlette_app(), health, **options)
    with pytest.raises(ConfigurationError, match=message):
        WsgiHealthMiddleware(_hello, health, **options)
