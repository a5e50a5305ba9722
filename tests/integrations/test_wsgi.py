"""The WSGI app and middleware, called the way a WSGI server calls them (in process)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from healthprobe import Health
from healthprobe.integrations.asgi import HealthApp as AsgiHealthApp
from healthprobe.integrations.wsgi import HealthApp, HealthMiddleware, StartResponse

from ._apps import Switch, standard_health
from ._wsgi_client import call_wsgi

pytestmark = pytest.mark.timeout(30)

TOKEN = "s3cret-token-0123456789"


def reject_all(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """The application's own auth: every request is 401."""
    start_response("401 Unauthorized", [("content-type", "text/plain")])
    return [b"unauthorized"]


@pytest.fixture
def standard() -> Iterator[tuple[Health, Switch, Switch]]:
    health, db, mail = standard_health()
    yield health, db, mail
    health.stop()


def _started(health: Health) -> bool:
    # A call, not the property: mypy would narrow the property across the request.
    return health.lifecycle.started


def _engine_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "healthprobe-engine")


# The same requests go through the ASGI app and the WSGI app: same statuses,
# headers and bodies (but the JSON timestamp and uptime).
PARITY = [
    ("GET", "/livez", {}),
    ("GET", "/live", {}),
    ("GET", "/readyz", {}),
    ("GET", "/ready", {}),
    ("GET", "/startupz", {}),
    ("GET", "/health", {}),
    ("GET", "/health/db", {}),
    ("GET", "/readyz/db", {}),
    ("GET", "/health/nope", {}),
    ("GET", "/readyz?verbose", {}),
    ("GET", "/readyz?verbose&exclude=mail", {}),
    ("GET", "/readyz?format=text", {}),
    ("GET", "/readyz?format=ietf", {}),
    ("GET", "/readyz", {"accept": "application/health+json"}),
    ("GET", "/readyz", {"accept": "text/plain"}),
    ("GET", "/readyz?format=xml", {}),
    ("GET", "/readyz?exclude=", {}),
    ("GET", "/health", {"authorization": f"Bearer {TOKEN}"}),
    ("GET", "/health?verbose", {"authorization": f"Bearer {TOKEN}"}),
    ("GET", "/health?verbose", {"authorization": "Bearer wrong"}),
    ("HEAD", "/readyz", {}),
    ("POST", "/readyz", {}),
    ("DELETE", "/health/db", {}),
    ("GET", "/nothing-here", {}),
]


def _comparable(body: bytes, content_type: str) -> Any:
    if content_type.startswith("application/json") and body.startswith(b"{"):
        document = json.loads(body)
        document.pop("timestamp", None)
        document.pop("uptime_seconds", None)
        for check in document.get("checks", {}).values():
            check.pop("latency_ms", None)
            check.pop("time", None)
        return document
    if content_type.startswith("application/health+json"):
        document = json.loads(body)
        for entries in document.get("checks", {}).values():
            for entry in entries:
                entry.pop("time", None)
                entry.pop("observedValue", None)  # latency differs run to run
        return document
    return body


def _normalized(status: int, headers: dict[str, str], body: bytes) -> tuple[Any, ...]:
    content_type = headers["content-type"]
    length = headers["content-length"]
    if content_type.startswith(("application/json", "application/health+json")):
        length = "varies"  # timestamp, uptime and latency digits
    rest = {k: v for k, v in headers.items() if k not in ("content-length", "date", "server")}
    return status, rest, length, _comparable(body, content_type)


def test_same_answers_as_the_asgi_layer(standard: tuple[Health, Switch, Switch]) -> None:
    health, _db, mail = standard
    mail.result = (False, "smtp refused")
    health.lifecycle.mark_started()
    wsgi = HealthApp(health, token=TOKEN, poll=False)
    asgi = AsgiHealthApp(health, token=TOKEN, drain=None)

    async def asgi_answers() -> list[tuple[Any, ...]]:
        out = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(asgi), base_url="http://probe.test"
        ) as client:
            for method, target, headers in PARITY:
                response = await client.request(method, target, headers=headers)
                out.append(
                    _normalized(response.status_code, dict(response.headers), response.content)
                )
        return out

    expected = asyncio.run(asgi_answers())
    for (method, target, headers), want in zip(PARITY, expected, strict=True):
        got = call_wsgi(wsgi, target, method=method, headers=headers)
        assert _normalized(got.status, got.headers, got.body) == want, (method, target)
    # A sanity check that the table covers the interesting codes.
    assert {row[0] for row in expected} >= {200, 400, 404, 405}


@pytest.mark.parametrize(
    ("db_ok", "path", "status", "body_start"),
    [
        (True, "/readyz", 200, b'{"status":"healthy","version":"9.9.9"'),
        (False, "/readyz", 503, b'{"status":"unhealthy"'),
        (False, "/livez", 200, b'{"status":"healthy"'),
        (False, "/health/db", 503, b'{"status":"unhealthy"'),
        (True, "/readyz?verbose", 200, b"[+]db ok\n[+]mail ok\n"),
    ],
)
def test_middleware_answers_probes_before_the_app_and_passes_the_rest(
    standard: tuple[Health, Switch, Switch], db_ok: bool, path: str, status: int, body_start: bytes
) -> None:
    health, db, _mail = standard
    db.result = db_ok
    app = HealthMiddleware(reject_all, health, poll=False)
    got = call_wsgi(app, path)
    assert (got.status, got.body[: len(body_start)]) == (status, body_start)
    assert got.headers["cache-control"] == "no-store"
    assert call_wsgi(app, "/").status == 401  # the app's own route, untouched
    assert call_wsgi(app, "/readyzz").status == 401


def test_reason_phrases_and_head(standard: tuple[Health, Switch, Switch]) -> None:
    health, db, _mail = standard
    db.result = False
    app = HealthApp(health, poll=False)
    got = call_wsgi(app, "/readyz", method="HEAD")
    assert (got.status, got.reason, got.body) == (503, "Service Unavailable", b"")
    full = call_wsgi(app, "/readyz")
    assert int(got.headers["content-length"]) > 0
    assert abs(int(got.headers["content-length"]) - len(full.body)) < 8  # timestamp digits
    assert call_wsgi(app, "/readyz", method="PUT").headers["allow"] == "GET, HEAD"


def test_details_are_withheld_without_the_token_and_secrets_never_leave(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, db, _mail = standard
    db.result = RuntimeError("connect to postgresql://app:hunter22@db.internal:5432/x failed")
    app = HealthApp(health, token=TOKEN, poll=False)
    public = call_wsgi(app, "/readyz?verbose")
    assert public.status == 503
    assert b"[-]db failed: reason withheld" in public.body
    private = call_wsgi(app, "/readyz?verbose", headers={"authorization": f"Bearer {TOKEN}"})
    assert b"[-]db failed: " in private.body
    assert b"reason withheld" not in private.body
    for body in (public.body, private.body, call_wsgi(app, "/health").body):
        assert b"hunter22" not in body
        assert b"Traceback" not in body


def test_authorize_callable_sees_every_header(standard: tuple[Health, Switch, Switch]) -> None:
    health, db, _mail = standard
    db.result = (False, "disk full")
    seen: list[str] = []

    def authorize(request: Any) -> bool:
        seen.append(request.headers.get("x-internal", ""))
        return bool(request.headers.get("x-internal") == "yes")

    app = HealthApp(health, authorize=authorize, poll=False)
    assert b"disk full" in call_wsgi(app, "/health", headers={"x-internal": "yes"}).body
    assert b"disk full" not in call_wsgi(app, "/health", headers={"x-internal": "no"}).body
    assert seen == ["yes", "no"]


def test_mounted_app_serves_paths_relative_to_script_name_and_utf8_paths(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, _db, _mail = standard
    app = HealthApp(health, poll=False)
    assert call_wsgi(app, "/readyz", script_name="/ops").status == 200
    got = call_wsgi(app, "/health/d\u00e9j\u00e0")
    assert got.status == 404
    assert "d\u00e9j\u00e0" in got.body.decode()
    prefixed = HealthApp(health, prefix="/_", poll=False)
    assert call_wsgi(prefixed, "/_/livez").status == 200
    assert call_wsgi(prefixed, "/livez").status == 404


def test_first_request_starts_polling_in_this_process_not_creation() -> None:
    health = Health()
    polled = Switch("polled")
    health.add(polled, interval=0.05, timeout=1.0)
    before = _engine_threads()
    try:
        app = HealthMiddleware(reject_all, health)
        time.sleep(0.2)
        # Creating the app starts nothing: safe before gunicorn forks its workers.
        assert _engine_threads() == before
        assert polled.calls == 0
        assert not _started(health)
        assert call_wsgi(app, "/").status == 401  # any first request starts the process
        assert _started(health)
        assert _engine_threads() == before + 1
        deadline = time.monotonic() + 5.0
        while polled.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert polled.calls >= 3  # polled in the background, without probe requests
        calls = polled.calls
        assert call_wsgi(app, "/readyz").status == 200  # served from the polled reading
        assert polled.calls <= calls + 1
    finally:
        health.stop()
    assert _engine_threads() == before


def test_mark_started_false_leaves_startup_to_the_application(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, _db, _mail = standard
    app = HealthApp(health, mark_started=False, poll=False)
    got = call_wsgi(app, "/readyz?verbose")
    assert got.status == 503
    assert b"[-]lifecycle/startup failed" in got.body
    assert call_wsgi(app, "/startupz").status == 503
    assert call_wsgi(app, "/livez").status == 200
    health.lifecycle.mark_started()
    assert call_wsgi(app, "/readyz").status == 200
    assert call_wsgi(app, "/startupz").status == 200


def test_async_checks_and_single_flight_under_concurrent_wsgi_threads() -> None:
    health = Health()
    calls = 0

    async def slow() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return True

    health.add(slow, timeout=2.0)
    app = HealthApp(health, poll=False)
    statuses: list[int] = []

    def worker() -> None:
        statuses.append(call_wsgi(app, "/readyz").status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        health.stop()
    assert statuses == [200] * 8
    assert time.monotonic() - started < 2.0  # concurrent, not 8 x 0.3 s
    assert calls <= 2  # one shared run (a straggler may start a second)


def test_a_broken_handler_is_a_generic_500(
    standard: tuple[Health, Switch, Switch], monkeypatch: pytest.MonkeyPatch
) -> None:
    health, _db, _mail = standard
    app = HealthApp(health, poll=False)

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter22 internal bug")

    monkeypatch.setattr(health, "run", explode)
    got = call_wsgi(app, "/readyz")
    assert (got.status, got.body) == (500, b"internal error in the health endpoint\n")
