"""One Starlette route that answers every probe path (used by the Starlette and FastAPI sugar).

This module imports Starlette: import it only after
``require("starlette.routing", extra)`` has said what to install.

A Starlette router tries its routes in turn, each with a regular
expression.  The probe paths as a dozen ordinary routes would cost every
request of the application a dozen failed matches when put first, and cost
every probe the matches of all the application's routes when put last.
:class:`ProbeRoute` is one route, put first, that matches with the handler's
own dictionary lookup (:meth:`ProbeHandler.match`), so an application
request pays one lookup and a probe pays no other route.  It serves through
the same ASGI translation as :class:`~healthprobe.integrations.asgi.HealthMiddleware`,
inside the application's middleware (as routes are).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from healthprobe.http.handler import ProbeHandler
from healthprobe.integrations._endpoints import served_endpoints
from healthprobe.integrations.asgi import _local_path, _serve

__all__ = ["ProbeRoute"]

_NO_MATCH: tuple[Match, Scope] = (Match.NONE, {})
# The router merges a route's child scope into the scope before calling
# handle(): the matched probe route travels there instead of being matched again.
_MATCHED = "healthprobe.route"


class ProbeRoute(BaseRoute):
    """Every path of ``handler`` (probes, one check, metrics, status page) as one route.

    ``path`` (the first probe path), ``paths`` (every exact path it serves),
    ``name`` and ``methods`` are there for tools that list ``app.routes``.
    """

    def __init__(self, handler: ProbeHandler) -> None:
        self.handler = handler
        self.include_in_schema = False  # FastAPI documents the paths separately
        self.paths: tuple[str, ...] = (*handler.routes, *served_endpoints(handler))
        self.path = self.paths[0] if self.paths else handler.prefix or "/"
        self.name = "healthprobe"
        self.methods = {"GET", "HEAD"}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            route = self.handler.match(_local_path(scope))
            if route is not None:
                # Every method is ours: the handler answers 405 with Allow itself.
                return Match.FULL, {_MATCHED: route}
        return _NO_MATCH

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _local_path(scope)
        route = scope.get(_MATCHED) or self.handler.match(path)
        await _serve(self.handler, route, scope, path, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"ProbeRoute(paths={sorted(self.handler.routes)!r})"


def app_paths(routes: object) -> list[str]:
    """The ``path`` of every route in ``routes`` that has one (ours excluded)."""
    found: list[str] = []
    for route in routes if isinstance(routes, list) else ():
        path = getattr(route, "path", None)
        if isinstance(path, str) and not isinstance(route, ProbeRoute):
            found.append(path)
    return found
