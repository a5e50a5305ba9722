"""Installing over an app's own route is never silent (issue 13 point 5)."""

from __future__ import annotations

import types
from typing import Any

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from healthprobe import ConfigurationError, Health
from healthprobe.integrations import ShadowedRouteWarning

from ._apps import starlette_app

pytestmark = pytest.mark.timeout(30)


async def _theirs(request: Any) -> PlainTextResponse:
    return PlainTextResponse("the app's own")


def _fastapi(path: str) -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get(path)
    def own() -> dict[str, str]:
        return {"status": "mine"}

    return app


@pytest.mark.parametrize(
    ("path", "option"),
    [
        ("/health", "paths= or prefix="),
        ("/readyz", "paths= or prefix="),
        ("/health/{item}", "paths= or prefix="),  # /health/<check> would take it
        ("/metrics", "metrics_path="),
        ("/health/ui", "ui_path="),
    ],
)
def test_fastapi_install_over_an_app_route_raises_naming_route_and_option(
    path: str, option: str
) -> None:
    from healthprobe.integrations.fastapi import install

    with pytest.raises(ConfigurationError) as caught:
        install(_fastapi(path), Health(), drain=None)
    assert repr(path) in str(caught.value)
    assert option in str(caught.value)


def test_moving_the_probes_resolves_the_conflict_and_routes_stay_listable() -> None:
    from healthprobe.integrations.fastapi import install

    app = _fastapi("/health")
    install(app, Health(), drain=None, prefix="/_")
    paths = [route.path for route in app.routes]  # tools read app.routes: every route has a path
    assert "/health" in paths
    assert "/_/livez" in paths
    app = _fastapi("/metrics")
    install(app, Health(), drain=None, metrics_path=None)
    assert install(_fastapi("/api/health"), Health(), drain=None) is not None  # no conflict


def test_starlette_install_raises_too() -> None:
    from healthprobe.integrations.starlette import install

    app = starlette_app()
    app.router.routes.append(Route("/health", _theirs))
    with pytest.raises(ConfigurationError, match="'/health'"):
        install(app, Health(), drain=None)


def test_the_asgi_middleware_warns() -> None:
    from healthprobe.integrations.asgi import HealthMiddleware

    app = starlette_app()
    app.router.routes.append(Route("/readyz", _theirs))
    with pytest.warns(ShadowedRouteWarning, match="'/readyz'.*paths= or prefix="):
        HealthMiddleware(app, Health(), drain=None)


def test_flask_blueprint_raises_and_the_extension_warns() -> None:
    import flask

    from healthprobe.integrations.flask import HealthProbe, blueprint

    app = flask.Flask("shadow")
    app.add_url_rule("/health", "own", lambda: "mine")
    with pytest.raises(ConfigurationError, match="'/health'"):
        app.register_blueprint(blueprint(Health()))
    other = flask.Flask("prefixed")
    other.add_url_rule("/health", "own", lambda: "mine")
    other.register_blueprint(blueprint(Health()), url_prefix="/_")  # moved: no conflict
    assert other.test_client().get("/health").data == b"mine"
    with pytest.warns(ShadowedRouteWarning, match="'/health'"):
        HealthProbe(app, health=Health())


def test_django_warns_from_the_middleware_and_the_system_check() -> None:
    from ._django_settings import configure

    configure()
    from django.http import HttpResponse
    from django.test import override_settings
    from django.urls import include, path

    from healthprobe.integrations.django import (
        HealthProbeMiddleware,
        shadowing_warnings,
        urls,
    )

    health = Health()
    urlconf = types.ModuleType("shadow_urls")
    vars(urlconf)["urlpatterns"] = [
        path("health", lambda request: HttpResponse(b"mine")),
        path("", include(urls(health))),
        path("ops/metrics", lambda request: HttpResponse(b"mine")),
        path("ops/", include(urls(health, metrics_path="/stats"))),  # moved: no conflict there
    ]
    with override_settings(ROOT_URLCONF=urlconf):
        found = shadowing_warnings()
        assert [w.id for w in found] == ["healthprobe.W001"]
        assert "'/health'" in found[0].msg
        with pytest.warns(ShadowedRouteWarning, match="'/health'"):
            HealthProbeMiddleware(lambda request: HttpResponse(b""))
