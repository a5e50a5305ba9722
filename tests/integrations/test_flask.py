"""The Flask extension and blueprint, through Flask's own test client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from flask import Flask, abort

from healthprobe import Health
from healthprobe.integrations.flask import EXTENSION_KEY, HealthProbe, blueprint

from ._apps import Switch, standard_health

pytestmark = pytest.mark.timeout(30)

TOKEN = "flask-token-0123456789"


def guarded_app() -> Flask:
    """An app whose own ``before_request`` hook rejects every request (its login wall)."""
    app = Flask(__name__)

    @app.before_request
    def login_wall() -> None:
        abort(401)

    @app.route("/")
    def home() -> str:
        return "home"

    return app


@pytest.fixture
def standard() -> Iterator[tuple[Health, Switch, Switch]]:
    health, db, mail = standard_health()
    yield health, db, mail
    health.stop()


def test_extension_answers_probes_before_flasks_hooks(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, db, mail = standard
    app = guarded_app()
    HealthProbe(app, health=health, token=TOKEN)
    client = app.test_client()
    assert client.get("/").status_code == 401  # the app's own wall still stands
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json is not None
    assert ready.json["status"] == "healthy"
    assert ready.headers["Cache-Control"] == "no-store"
    db.result = False
    assert client.get("/readyz").status_code == 503
    assert client.get("/livez").status_code == 200
    db.result, mail.result = True, (False, "smtp down")
    degraded = client.get("/readyz?verbose", headers={"Authorization": f"Bearer {TOKEN}"})
    assert degraded.status_code == 200
    assert b"[+]mail warn: smtp down" in degraded.data
    assert b"reason withheld" in client.get("/readyz?verbose").data
    ietf = client.get("/health", headers={"Accept": "application/health+json"})
    assert ietf.mimetype == "application/health+json"
    assert ietf.json is not None
    assert ietf.json["status"] == "warn"
    assert client.get("/health/nope").status_code == 404
    assert client.post("/readyz").status_code == 405


def test_init_app_pattern_and_one_extension_per_app(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, _db, _mail = standard
    probes = HealthProbe(health=health, prefix="/_")
    app = guarded_app()
    probes.init_app(app)
    assert app.extensions[EXTENSION_KEY] is probes
    client = app.test_client()
    assert client.get("/_/readyz").status_code == 200
    assert client.get("/readyz").status_code == 401  # not a probe path with this prefix
    with pytest.raises(RuntimeError, match="already installed"):
        HealthProbe(app, health=health)


def test_async_checks_run_on_the_engine_thread_under_flask() -> None:
    health = Health()

    async def cache() -> tuple[bool, str]:
        await asyncio.sleep(0.01)
        return False, "cache cold"

    health.add(cache, timeout=2.0)
    app = Flask(__name__)
    HealthProbe(app, health=health, details="always")
    try:
        got = app.test_client().get("/readyz?verbose")
    finally:
        health.stop()
    assert got.status_code == 503
    assert b"[-]cache failed: cache cold" in got.data


def test_blueprint_serves_the_same_endpoints_under_its_prefix(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, db, _mail = standard
    app = Flask(__name__)
    app.register_blueprint(blueprint(health, token=TOKEN), url_prefix="/ops")
    client = app.test_client()
    assert client.get("/ops/livez").status_code == 200
    ready = client.get("/ops/readyz?verbose")
    assert ready.status_code == 200
    assert ready.data.startswith(b"[+]db ok\n[+]mail ok\n[+]lifecycle/startup ok\n")
    assert ready.data.endswith(b"readyz check passed\n")
    assert ready.mimetype == "text/plain"
    db.result = (False, "connection refused")
    one = client.get("/ops/readyz/db?format=text", headers={"Authorization": f"Bearer {TOKEN}"})
    assert one.status_code == 503
    head = client.head("/ops/readyz")
    assert (head.status_code, head.data) == (503, b"")
    assert int(head.headers["Content-Length"]) > 0
    assert client.get("/ops/health/nope").status_code == 404
    assert client.get("/readyz").status_code == 404  # only under the blueprint's prefix


def test_blueprint_marks_started_on_first_request_unless_told_not_to(
    standard: tuple[Health, Switch, Switch],
) -> None:
    health, _db, _mail = standard
    app = Flask(__name__)
    app.register_blueprint(blueprint(health, mark_started=False, poll=False))
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    assert client.get("/startupz").status_code == 503
    health.lifecycle.mark_started()
    assert client.get("/readyz").status_code == 200
