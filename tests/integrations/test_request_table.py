"""One table of requests through every integration; the answers must agree (issue 13 point 6).

Each transport is a function that takes a :class:`Req` and returns an
:class:`Answer` (status, the headers consumers read, body), built around its
own :class:`Health` (same checks) by a factory in :data:`TRANSPORTS`.  Adding
a transport (the management listener, say) is one more factory there.

The ASGI middleware is the reference; every other transport must give the
same status, the same consumer-visible headers and the same body once the
values that differ by nature are taken out (timestamps, uptime, latencies,
metric values, the status page's times).
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import pytest

from healthprobe import Health

from ._apps import Switch
from ._wsgi_client import call_wsgi

pytestmark = pytest.mark.timeout(60)

TOKEN = "table-token-0123456789"


class Req(NamedTuple):
    """One request of the table: method, target (path and query), headers."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]  # lower-case names, only those consumers read (see _KEPT)
    body: bytes


Send = Callable[[Req], Answer]
Factory = Callable[[Health], contextlib.AbstractContextManager[Send]]

_KEPT = ("content-type", "cache-control", "x-content-type-options", "vary", "allow", "location")
_IETF = (("accept", "application/health+json"),)
_AUTH = (("authorization", f"Bearer {TOKEN}"),)

TABLE = [
    Req("GET", "/livez"),
    Req("GET", "/livez/"),
    Req("GET", "/live"),
    Req("GET", "/readyz"),
    Req("GET", "/readyz/"),
    Req("GET", "/ready/"),
    Req("GET", "/startupz/"),
    Req("GET", "/health"),
    Req("GET", "/health/"),
    Req("GET", "/readyz/db"),
    Req("GET", "/readyz/db/"),
    Req("GET", "/readyz/mail"),  # a failing non-critical check: 503 on its own path
    Req("GET", "/health/mail/"),
    Req("GET", "/health/nope"),
    Req("GET", "/readyz/lifecycle/shutdown"),
    Req("GET", "/readyz/lifecycle/shutdown/"),
    Req("GET", "/readyz?verbose"),
    Req("GET", "/readyz/?verbose"),
    Req("GET", "/readyz?verbose", _AUTH),
    Req("GET", "/readyz?verbose", (("authorization", f"bearer   {TOKEN}"),)),
    Req("GET", "/health?format=ietf"),
    Req("GET", "/readyz", _IETF),
    Req("GET", "/readyz", (("accept", "text/plain"),)),
    Req("GET", "/readyz?format=text"),
    Req("GET", "/readyz?exclude=mail&verbose"),
    Req("GET", "/readyz?exclude=&verbose"),
    Req("GET", "/readyz/db?exclude=db"),
    Req("GET", "/readyz?format=xml"),
    Req("GET", "/readyz?exclude=%zz"),
    Req("GET", "/readyz?exclude=%ff"),
    Req("HEAD", "/readyz"),
    Req("HEAD", "/readyz/"),
    Req("POST", "/readyz"),
    Req("DELETE", "/health/db"),
    Req("GET", "/metrics"),
    Req("GET", "/metrics/"),
    Req("HEAD", "/metrics"),
    Req("POST", "/metrics"),
    Req("GET", "/health/ui"),
    Req("GET", "/health/ui/"),
]


def table_health() -> Health:
    """The same checks for every transport: db passes, mail (not critical) fails."""
    health = Health(version="3.1.4")
    health.add(Switch("db", True), timeout=2.0)
    health.add(Switch("mail", (False, "smtp refused")), critical=False, timeout=2.0)
    return health


def _kept(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers if k.lower() in _KEPT}


# -- transports ---------------------------------------------------------------------------


@contextlib.contextmanager
def _asgi(app: Any) -> Iterator[Send]:
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://probe.test") as client:

        def send(req: Req) -> Answer:
            answer = client.request(req.method, req.target, headers=dict(req.headers))
            return Answer(answer.status_code, _kept(answer.headers.items()), answer.content)

        yield send


def asgi_middleware(health: Health) -> contextlib.AbstractContextManager[Send]:
    from healthprobe.integrations.asgi import HealthMiddleware

    from ._apps import starlette_app

    return _asgi(HealthMiddleware(starlette_app(), health, drain=None, token=TOKEN))


def fastapi_install(health: Health) -> contextlib.AbstractContextManager[Send]:
    from fastapi import FastAPI

    from healthprobe.integrations.fastapi import install

    app = FastAPI()
    install(app, health, drain=None, token=TOKEN)
    return _asgi(app)


def starlette_install(health: Health) -> contextlib.AbstractContextManager[Send]:
    from healthprobe.integrations.starlette import install

    from ._apps import starlette_app

    app = starlette_app()
    install(app, health, drain=None, token=TOKEN)
    return _asgi(app)


@contextlib.contextmanager
def _wsgi(app: Any) -> Iterator[Send]:
    def send(req: Req) -> Answer:
        answer = call_wsgi(app, req.target, method=req.method, headers=dict(req.headers))
        return Answer(answer.status, _kept(answer.headers.items()), answer.body)

    yield send


def wsgi_middleware(health: Health) -> contextlib.AbstractContextManager[Send]:
    from healthprobe.integrations.wsgi import HealthMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"home"]

    return _wsgi(HealthMiddleware(app, health, token=TOKEN))


@contextlib.contextmanager
def _flask(app: Any) -> Iterator[Send]:
    client = app.test_client()

    def send(req: Req) -> Answer:
        answer = client.open(req.target, method=req.method, headers=dict(req.headers))
        return Answer(answer.status_code, _kept(answer.headers.items()), answer.data)

    yield send


def flask_extension(health: Health) -> contextlib.AbstractContextManager[Send]:
    import flask

    from healthprobe.integrations.flask import HealthProbe

    app = flask.Flask("table")
    HealthProbe(app, health=health, token=TOKEN)
    return _flask(app)


def flask_blueprint(health: Health) -> contextlib.AbstractContextManager[Send]:
    import flask

    from healthprobe.integrations.flask import blueprint

    app = flask.Flask("table")
    app.register_blueprint(blueprint(health, token=TOKEN))
    return _flask(app)


#: The Health the Django middleware finds through HEALTHPROBE_HEALTH (set per test).
DJANGO_HEALTH: Health | None = None


@contextlib.contextmanager
def _django(
    urlpatterns: list[Any], middleware: list[str], options: dict[str, Any]
) -> Iterator[Send]:
    from ._django_settings import configure

    configure()
    from django.test import Client, override_settings

    urlconf = types.ModuleType("table_urls")
    vars(urlconf)["urlpatterns"] = urlpatterns
    with override_settings(
        ROOT_URLCONF=urlconf,
        MIDDLEWARE=[*middleware, "django.middleware.common.CommonMiddleware"],  # APPEND_SLASH
        APPEND_SLASH=True,
        HEALTHPROBE_HEALTH=f"{__name__}:DJANGO_HEALTH",
        HEALTHPROBE_OPTIONS=options,
    ):
        client = Client()

        def send(req: Req) -> Answer:
            headers = dict(req.headers)
            answer = client.generic(req.method, req.target, headers=headers)
            return Answer(answer.status_code, _kept(answer.items()), answer.content)

        yield send


def django_middleware(health: Health) -> contextlib.AbstractContextManager[Send]:
    global DJANGO_HEALTH  # noqa: PLW0603 - the setting names a module attribute
    DJANGO_HEALTH = health
    middleware = ["healthprobe.integrations.django.HealthProbeMiddleware"]
    return _django([], middleware, {"token": TOKEN})


def django_urls(health: Health) -> contextlib.AbstractContextManager[Send]:
    from django.urls import include, path

    from healthprobe.integrations.django import urls

    return _django([path("", include(urls(health, token=TOKEN)))], [], {})


@contextlib.contextmanager
def thread_server(health: Health) -> Iterator[Send]:
    """``healthprobe.serve_in_thread``: the stdlib listener (management port, workers)."""
    import httpx

    from healthprobe import serve_in_thread

    with (
        serve_in_thread(health, port=0, drain=None, token=TOKEN) as server,
        httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10.0) as client,
    ):

        def send(req: Req) -> Answer:
            answer = client.request(req.method, req.target, headers=dict(req.headers))
            return Answer(answer.status_code, _kept(answer.headers.items()), answer.content)

        yield send


#: name -> factory; the first one is the reference the others are compared with.
TRANSPORTS: dict[str, Factory] = {
    "asgi-middleware": asgi_middleware,
    "fastapi-install": fastapi_install,
    "starlette-install": starlette_install,
    "wsgi-middleware": wsgi_middleware,
    "flask-extension": flask_extension,
    "flask-blueprint": flask_blueprint,
    "django-middleware": django_middleware,
    "django-urls": django_urls,
    "thread-server": thread_server,
}


# -- normalising what differs by nature -------------------------------------------------------

_METRIC_NAME = re.compile(rb"^(?:# (?:HELP|TYPE) )?([a-z_:]+)", re.MULTILINE)
_JSON_VARYING = ("timestamp", "uptime_seconds", "latency_ms", "time")


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub_json(v) for k, v in value.items() if k not in _JSON_VARYING}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def normalised(req: Req, answer: Answer) -> tuple[int, dict[str, str], object]:
    """``answer`` with what varies between two runs of the same app taken out."""
    kind = answer.headers.get("content-type", "")
    body: object = answer.body
    if answer.body and "json" in kind:
        doc = json.loads(answer.body)
        for entries in doc.get("checks", {}).values() if "health+json" in kind else ():
            for entry in entries:
                if entry.get("observedUnit") == "ms":
                    entry.pop("observedValue")
        body = _scrub_json(doc)
    elif answer.body and answer.status == 200 and req.target.startswith("/metrics"):
        body = sorted(set(_METRIC_NAME.findall(answer.body)))  # names, not values
    elif answer.body and "html" in kind:
        body = ("db" in answer.body.decode(), "mail" in answer.body.decode())
    return answer.status, answer.headers, body


def run_table(factory: Factory) -> list[tuple[int, dict[str, str], object]]:
    health = table_health()
    try:
        with factory(health) as send:
            return [normalised(req, send(req)) for req in TABLE]
    finally:
        health.stop()


@pytest.fixture(scope="module")
def reference() -> list[tuple[int, dict[str, str], object]]:
    return run_table(TRANSPORTS["asgi-middleware"])


def test_the_reference_answers_are_the_promised_ones(
    reference: list[tuple[int, dict[str, str], object]],
) -> None:
    by_req = dict(zip(TABLE, reference, strict=True))
    status = {req: answer[0] for req, answer in by_req.items()}
    assert status[Req("GET", "/readyz/")] == status[Req("GET", "/readyz")] == 200  # no 307
    assert status[Req("GET", "/readyz/mail")] == 503
    assert status[Req("GET", "/readyz?exclude=&verbose")] == 200
    assert status[Req("GET", "/readyz?exclude=%zz")] == 400
    assert status[Req("POST", "/readyz")] == status[Req("POST", "/metrics")] == 405
    assert status[Req("GET", "/metrics/")] == status[Req("GET", "/health/ui/")] == 200
    assert status[Req("GET", "/readyz/lifecycle/shutdown/")] == 200
    verbose = by_req[Req("GET", "/readyz?verbose")][2]
    assert isinstance(verbose, bytes)
    assert b"[-]" not in verbose
    assert b"[+]mail warn: reason withheld" in verbose
    authorized = by_req[Req("GET", "/readyz?verbose", _AUTH)][2]
    assert isinstance(authorized, bytes)
    assert b"smtp refused" in authorized
    for req, (code, headers, _) in by_req.items():
        assert not 300 <= code < 400, req
        assert headers.get("cache-control") == "no-store", req


@pytest.mark.parametrize("name", [name for name in TRANSPORTS if name != "asgi-middleware"])
def test_every_integration_answers_the_table_like_the_reference(
    name: str, reference: list[tuple[int, dict[str, str], object]]
) -> None:
    answers = run_table(TRANSPORTS[name])
    different = [
        (req, mine, theirs)
        for req, mine, theirs in zip(TABLE, answers, reference, strict=True)
        if mine != theirs
    ]
    for req, mine, theirs in different:
        sys.stderr.write(f"{name} {req.method} {req.target}:\n  got  {mine!r}\n  want {theirs!r}\n")
    assert not different, f"{name}: {len(different)} of {len(TABLE)} answers differ"
