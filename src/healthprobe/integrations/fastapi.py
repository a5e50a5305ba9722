"""FastAPI integration: one call adds the probe routes (documented in OpenAPI) and the lifespan.

::

    from healthprobe.integrations.fastapi import install

    app = FastAPI(lifespan=my_lifespan)
    install(app, health, drain=10.0, tags=["health"])

Each probe path (and ``<path>/{name}`` for one check) gets an OpenAPI
entry that lists the response media types (default JSON, IETF
``application/health+json``, Kubernetes text) with their schemas and the
status codes it can answer.  The query parameters are documented, not
validated by FastAPI: a bad value gets healthprobe's own 400, not a 422.

The requests are answered by one route put first in the router (one dict
lookup for every request, see :mod:`healthprobe.integrations._probe_route`),
through the transport-independent :class:`~healthprobe.http.handler.ProbeHandler`
exactly as in the ASGI middleware, without FastAPI's per-request work
(request objects, dependency resolution, response classes).  The probe paths
are also answered in front of the application's middleware stack (see
:mod:`healthprobe.integrations._probes_first`), as the ASGI middleware
answers them: FastAPI's own middleware costs a probe more than the probe,
and the app's (authentication, redirects) cannot lock a kubelet out.  GET
and HEAD are served; other methods get the handler's 405.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.serve import ServeLifecycle
from healthprobe.integrations._probes_first import answer_before_middleware
from healthprobe.integrations._shadow import refuse_shadowing
from healthprobe.integrations.management import split_management
from healthprobe.integrations.starlette import wrap_lifespan

from ._endpoints import make_handler

if TYPE_CHECKING:
    from fastapi import FastAPI

    from healthprobe.engine.health import Health

__all__ = ["REPORT_SCHEMA", "install"]

_CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["healthy", "degraded", "unknown", "unhealthy"]},
        "latency_ms": {"type": ["number", "null"]},
        "critical": {"type": "boolean"},
        "output": {"type": "string", "description": "only with full details"},
        "observed_value": {"description": "only with full details"},
        "observed_unit": {"type": ["string", "null"]},
        "time": {"type": "string", "format": "date-time"},
    },
    "required": ["status", "latency_ms", "critical"],
}
#: The default JSON document, as documented in OpenAPI.
REPORT_SCHEMA: dict[str, Any] = {
    "title": "HealthReport",
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["healthy", "degraded", "unknown", "unhealthy"]},
        "version": {"type": ["string", "null"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "uptime_seconds": {"type": "number"},
        "checks": {"type": "object", "additionalProperties": _CHECK_SCHEMA},
        "excluded": {"type": "array", "items": {"type": "string"}},
        "unmatched_excludes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["status", "version", "timestamp", "uptime_seconds"],
}
_IETF_SCHEMA: dict[str, Any] = {
    "title": "HealthCheckResponse (draft-inadarei-api-health-check-06)",
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["pass", "warn", "fail"]},
        "version": {"type": "string"},
        "releaseId": {"type": "string"},
        "serviceId": {"type": "string"},
        "description": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "output": {"type": "string"},
        "checks": {"type": "object", "additionalProperties": {"type": "array"}},
    },
    "required": ["status"],
}
_TEXT_SCHEMA = {"type": "string", "example": "[+]database ok\nreadyz check passed\n"}
_PARAMETERS = [
    {
        "name": "verbose",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Kubernetes text format, one line per check",
    },
    {
        "name": "exclude",
        "in": "query",
        "required": False,
        # An empty name matches no check: Kubernetes' warning line, not an error.
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
        "description": "skip these checks (repeatable); probe paths only",
    },
    {
        "name": "format",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["json", "ietf", "text"]},
        "description": "overrides the Accept header",
    },
]

_ONE_CHECK_PARAMETERS = [p for p in _PARAMETERS if p["name"] != "exclude"]
_NO_CHECK = {
    "description": "no such check",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


def install(
    app: FastAPI,
    health: Health,
    *,
    drain: float | None = 5.0,
    tags: Sequence[str] = ("health",),
    **options: Any,
) -> ProbeHandler:
    """Add the probe routes to ``app`` and wrap its lifespan; returns the handler.

    Options are those of :class:`~healthprobe.http.handler.ProbeHandler`;
    ``drain`` as for :class:`~healthprobe.integrations.asgi.HealthApp`;
    ``management_port``, ``management_host`` and ``management_reuse_port`` as
    for :class:`~healthprobe.integrations.asgi.HealthMiddleware`.
    Raises :class:`~healthprobe.ConfigurationError` when ``app`` already has a
    route at a path the probes answer (``/health``, ``/metrics``...): it would
    never be reached.  The message names the option that moves the probes.
    Each probe path is served with and without a trailing slash, never with
    FastAPI's 307 redirect.
    """
    require("fastapi", "fastapi")
    from healthprobe.integrations._fastapi_docs import (  # noqa: PLC0415 - needs fastapi
        DocumentedProbe,
        documented_check,
        documented_probe,
    )
    from healthprobe.integrations._probe_route import ProbeRoute, app_paths  # noqa: PLC0415

    management, options = split_management(health, options)
    handler = make_handler(health, **options)
    refuse_shadowing(handler, app_paths(app.router.routes), "fastapi.install")
    plain_response = require("starlette.responses", "fastapi").Response
    codes = _responses(handler)
    no_check: dict[int | str, dict[str, Any]] = {404: _NO_CHECK}
    for path, route in handler.routes.items():
        what = "every check" if route.probe is None else f"the {route.probe!r} probe"
        for suffix, endpoint, extra, parameters in (
            ("", documented_probe, {}, _PARAMETERS),
            ("/{name}", documented_check, no_check, _ONE_CHECK_PARAMETERS),
        ):
            app.router.add_api_route(
                path + suffix,
                endpoint,
                methods=["GET"],  # HEAD is answered too, without an operation of its own
                route_class_override=DocumentedProbe,
                tags=list(tags),
                response_class=plain_response,
                response_model=None,
                responses={**codes, **extra},
                summary=f"Health: {'one check of ' if suffix else ''}{what}",
                openapi_extra={"parameters": parameters},
                operation_id="healthprobe"
                + (path + suffix).replace("/", "_").replace("{name}", "check"),
            )
    # First, so that a probe never waits for the app's routes to fail to match.
    app.router.routes.insert(0, ProbeRoute(handler))
    # And answered before the middleware stack, which costs a probe more than itself.
    answer_before_middleware(app, handler)
    wrap_lifespan(app.router, ServeLifecycle(health, drain=drain), management)
    return handler


def _responses(handler: ProbeHandler) -> dict[int | str, dict[str, Any]]:
    content = {
        "application/json": {"schema": REPORT_SCHEMA},
        "application/health+json": {"schema": _IETF_SCHEMA},
        "text/plain": {"schema": _TEXT_SCHEMA},
    }
    text = {"text/plain": {"schema": {"type": "string"}}}
    codes: dict[int | str, dict[str, Any]] = {
        200: {"description": "pass (or warn): send traffic", "content": content},
        503: {"description": "fail, not started, or draining: send no traffic", "content": content},
        400: {"description": "bad query (unknown format, undecodable escape)", "content": text},
    }
    if handler.warn_status == 429:
        codes[429] = {
            "description": "warn (degraded), for Consul; health+json answers 200",
            "content": {k: v for k, v in content.items() if k != "application/health+json"},
        }
    if handler.draining_status == 404:
        codes[404] = {"description": "draining (readiness only), for HAProxy", "content": content}
    return codes
