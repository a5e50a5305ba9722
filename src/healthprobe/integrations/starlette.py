"""Starlette integration: the probe routes plus the lifespan, in one call.

::

    from healthprobe.integrations.starlette import install

    app = Starlette(routes=[...], lifespan=my_lifespan)
    install(app, health, drain=10.0)

Thin sugar over :mod:`healthprobe.integrations.asgi`: the probe paths become
one route (matched with one dict lookup, see
:mod:`healthprobe.integrations._probe_route`), put first so that a
catch-all route cannot shadow them, and the application's lifespan is
wrapped (the user's own lifespan runs first on startup and last on
shutdown).  Routes run behind the application's middleware; to answer
probes in front of it (an app whose middleware authenticates everything),
use :class:`~healthprobe.integrations.asgi.HealthMiddleware` instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.integrations._shadow import refuse_shadowing
from healthprobe.integrations.asgi import HealthApp
from healthprobe.integrations.management import ManagementListener, split_management

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import Router

    from healthprobe.engine.health import Health
    from healthprobe.http.serve import ServeLifecycle

__all__ = ["install", "wrap_lifespan"]


def install(
    app: Starlette, health: Health, *, drain: float | None = 5.0, **options: Any
) -> HealthApp:
    """Add the probe routes to ``app`` and wrap its lifespan; returns the endpoint app.

    Options are those of :class:`~healthprobe.integrations.asgi.HealthApp`,
    plus ``management_port``, ``management_host`` and ``management_reuse_port``
    as for :class:`~healthprobe.integrations.asgi.HealthMiddleware`.
    Raises :class:`~healthprobe.ConfigurationError` when ``app`` already has a
    route at a path the probes answer (``/health``, ``/metrics``...): it would
    never be reached.  The message names the option that moves the probes.
    """
    require("starlette.routing", "starlette")
    from healthprobe.integrations._probe_route import (  # noqa: PLC0415 - needs starlette
        ProbeRoute,
        app_paths,
    )

    management, options = split_management(health, options)
    endpoints = HealthApp(health, drain=drain, **options)
    refuse_shadowing(endpoints.handler, app_paths(app.router.routes), "starlette.install")
    app.router.routes.insert(0, ProbeRoute(endpoints.handler))
    wrap_lifespan(app.router, endpoints.lifecycle, management)
    return endpoints


def wrap_lifespan(
    router: Router, lifecycle: ServeLifecycle, management: ManagementListener | None = None
) -> None:
    """Run ``lifecycle`` inside ``router``'s own lifespan (startup after, shutdown before it).

    ``management`` (the listener of ``management_port=``) starts before the
    app's own startup and closes after its shutdown.
    """
    inner: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] = router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        if management is not None:
            await management.astart()
        try:
            async with inner(app) as state:
                await lifecycle.astartup()
                try:
                    yield state
                finally:
                    await lifecycle.ashutdown()
        finally:
            if management is not None:
                await management.aclose()

    router.lifespan_context = lifespan
