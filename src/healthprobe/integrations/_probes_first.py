"""Answer the probe paths in front of a Starlette/FastAPI app's middleware stack.

``install()`` adds the probes as a route, and a route runs inside the
application's middleware: FastAPI's exception and exit-stack middleware
and the user's own cost a probe more than the probe itself (see
docs/benchmarks.md).  :func:`answer_before_middleware` puts the same
handler in front of the stack instead, as
:class:`~healthprobe.integrations.asgi.HealthMiddleware` is: a probe costs
one dictionary lookup more than the bare ASGI translation, and the
application's middleware (authentication, redirects, host checks) cannot
answer a kubelet probe in its place.  Every other request, and every
non-HTTP scope, goes through the stack unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .asgi import ASGIApp, Receive, Scope, Send, _local_path, _serve

if TYPE_CHECKING:
    from healthprobe.http.handler import ProbeHandler

__all__ = ["ProbesFirst", "answer_before_middleware"]


class ProbesFirst:
    """``handler``'s paths answered here; everything else passed to ``app``."""

    def __init__(self, app: ASGIApp, handler: ProbeHandler) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = _local_path(scope)
            route = self.handler.match(path)
            if route is not None:
                await _serve(self.handler, route, scope, path, send)
                return
        await self.app(scope, receive, send)


def answer_before_middleware(app: Any, handler: ProbeHandler) -> None:
    """Make ``app`` (Starlette, FastAPI) build its middleware stack behind :class:`ProbesFirst`.

    Starlette builds the stack on the first call (middleware added before
    then is still included): the builder is wrapped, not the stack.
    """
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_probes_first() -> ASGIApp:
        return ProbesFirst(build(), handler)

    app.build_middleware_stack = build_probes_first
