"""Probe endpoints for any ASGI application: a mountable app and a middleware.

Standard library only.  Both translate ASGI to the transport-independent
:class:`~healthprobe.http.handler.ProbeHandler`; neither reads a request body.

* :class:`HealthMiddleware` answers the probe paths *before* the wrapped
  application sees them, so the application's own routing, authentication
  or redirect middleware cannot block a kubelet probe; every other request,
  and every non-HTTP scope, passes through untouched.  It also wraps the
  application's lifespan: it marks the process started after the
  application's startup completed, polls the checks for the application's
  lifetime, drains on SIGTERM and stops polling before the application's own
  shutdown runs (see :mod:`healthprobe.http.serve`).
* :class:`HealthApp` is the same endpoints as an application of their own,
  to mount under a router (paths relative to the mount point) or to serve
  on a separate port.  It speaks the lifespan protocol too when it is the
  top-level application.

``management_port=`` (the middleware) also serves the endpoints from a
listener of their own, off the application's event loop; see
:mod:`healthprobe.integrations.management`.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from healthprobe.http.endpoints import Endpoint
from healthprobe.http.handler import Plan, ProbeHandler, Route
from healthprobe.http.messages import Request, Response
from healthprobe.http.serve import ServeLifecycle

from ._endpoints import make_handler
from ._shadow import warn_shadowing
from .management import ManagementListener, management_listener

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["HealthApp", "HealthMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_WANTED_HEADERS = (b"accept", b"authorization")
_HEADER_CACHE: dict[tuple[str, int, tuple[tuple[str, str], ...]], list[tuple[bytes, bytes]]] = {}


class HealthApp:
    """The probe endpoints as a standalone ASGI application.

    Keyword options are those of :class:`~healthprobe.http.handler.ProbeHandler`
    (``prefix``, ``paths``, ``details``, ``token``, ``authorize``,
    ``warn_status``, ``draining_status``...) plus ``drain`` (seconds of
    SIGTERM drain; ``None`` to leave signals alone) used when this app
    receives the lifespan protocol.  Unknown paths answer 404.
    """

    def __init__(self, health: Health, *, drain: float | None = 5.0, **options: Any) -> None:
        self.handler = make_handler(health, **options)
        self.lifecycle = ServeLifecycle(health, drain=drain)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = _local_path(scope)
            await _serve(self.handler, self.handler.match(path), scope, path, send)
        elif kind == "lifespan":
            await _own_lifespan(self.lifecycle, receive, send)


class HealthMiddleware:
    """Answer the probe paths in front of ``app``; wrap ``app``'s lifespan.

    Options as for :class:`HealthApp`; ``lifespan=False`` leaves the lifespan
    protocol to ``app`` alone (then call ``ServeLifecycle`` hooks yourself).
    When ``app`` lists its routes (Starlette, FastAPI), one at a path the
    probes answer is reported with a
    :class:`~healthprobe.integrations.ShadowedRouteWarning`.
    ``management_port``: also serve the endpoints on ``management_host``
    (default loopback; ``"0.0.0.0"`` for an orchestrator) from a listener
    on its own thread and loop, started and closed with the lifespan
    (:mod:`healthprobe.integrations.management`); ``0`` picks a free port
    (``middleware.management.port`` tells which).
    """

    def __init__(
        self,
        app: ASGIApp,
        health: Health,
        *,
        drain: float | None = 5.0,
        lifespan: bool = True,
        management_port: int | None = None,
        management_host: str = "127.0.0.1",
        management_reuse_port: bool = False,
        **options: Any,
    ) -> None:
        self.app = app
        self.handler = make_handler(health, **options)
        self.lifecycle = ServeLifecycle(health, drain=drain)
        self.lifespan = lifespan
        # In front of the app by design, and so for several releases: warn, never raise.
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            paths = [getattr(r, "path", None) for r in routes]
            warn_shadowing(
                self.handler, [p for p in paths if isinstance(p, str)], "asgi.HealthMiddleware"
            )
        self.management: ManagementListener | None = management_listener(
            health,
            management_port,
            host=management_host,
            reuse_port=management_reuse_port,
            options=options,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = _local_path(scope)
            route = self.handler.match(path)
            if route is not None:
                await _serve(self.handler, route, scope, path, send)
                return
        elif kind == "lifespan" and self.lifespan:
            await self._wrap_lifespan(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _wrap_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        management = self.management
        if management is None:
            await self._wrap_app_lifespan(scope, receive, send)
            return
        # The listener starts before the app's own startup, and a port that
        # cannot be bound fails the startup with its own message.
        first = await receive()
        if first["type"] == "lifespan.startup":
            try:
                await management.astart()
            except OSError as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
        try:
            await self._wrap_app_lifespan(
                scope, _replay(first, receive), _closing(management, send)
            )
        finally:
            await management.aclose()

    async def _wrap_app_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        received: list[str] = []
        started = False

        async def wrapped_receive() -> Message:
            message = await receive()
            received.append(message["type"])
            if message["type"] == "lifespan.shutdown" and started:
                # Before the app's own shutdown: stop polling while its pools still exist.
                await self.lifecycle.ashutdown()
            return message

        async def wrapped_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "lifespan.startup.complete":
                await self.lifecycle.astartup()
                started = True
            await send(message)

        try:
            await self.app(scope, wrapped_receive, wrapped_send)
        except Exception:
            if received:
                raise  # the app speaks lifespan and failed: the server must see it
            # The app does not speak lifespan (it raised at once): speak it for it.
            await _own_lifespan(self.lifecycle, receive, send)
            return
        if not received:
            # The app returned without reading a message: lifespan unsupported.
            await _own_lifespan(self.lifecycle, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    """``receive``, but ``first`` (already read) comes out first."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _closing(management: ManagementListener, send: Send) -> Send:
    """``send``, closing the listener before the lifespan's last message goes out."""

    async def closing_send(message: Message) -> None:
        if message["type"] in (
            "lifespan.startup.failed",
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        ):
            await management.aclose()
        await send(message)

    return closing_send


async def _own_lifespan(lifecycle: ServeLifecycle, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await lifecycle.astartup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await lifecycle.ashutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


def _local_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def _serve_request(scope: Scope, path: str, *, all_headers: bool = False) -> Request:
    """The transport-independent request of an HTTP ``scope``.

    Only the headers the handler reads (``accept``, ``authorization``) are
    decoded, unless ``all_headers`` (a user's authorize callable may want any).
    Repeated headers are joined with ``", "`` as HTTP allows.
    """
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        if all_headers or key in _WANTED_HEADERS:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
    query: bytes = scope.get("query_string", b"")
    return Request(scope["method"], path, query.decode("latin-1"), headers)


async def _serve(
    handler: ProbeHandler, route: Route | Endpoint | None, scope: Scope, path: str, send: Send
) -> None:
    response = None
    all_headers = handler.policy.wants_all_headers
    if type(route) is Route and not all_headers and not scope.get("query_string"):
        plan = _memoized_plan(handler, route, scope, path)
        if plan is not None:
            try:
                report = await handler.health.arun(
                    route.probe, only=route.check, exclude=plan.exclude
                )
                response = handler.respond(plan, report)
            except Exception:  # an unknown check, or a bug: the full path answers (and logs) it
                response = None
    if response is None:
        request = _serve_request(scope, path, all_headers=all_headers)
        response = await handler.aserve(route, request)
    await send(
        {"type": "http.response.start", "status": response.status, "headers": _encode(response)}
    )
    await send({"type": "http.response.body", "body": b"" if response.head else response.body})


# The fast path of a probe (kubelet's: no query string, the same few headers
# every time): its Plan depends only on the route, the method and the Accept
# and Authorization headers (while no authorize callable decides), so it is
# decided once per handler and such key instead of per request.  Should
# ProbeHandler.plan() ever read another header, it belongs in the key.
# id(handler) -> its plans, dropped when the handler is (a WeakKeyDictionary
# would build a weak reference on every lookup).
_PLANS: dict[int, dict[tuple[object, ...], Plan]] = {}
_PLAN_LIMIT = 256


def _memoized_plan(handler: ProbeHandler, route: Route, scope: Scope, path: str) -> Plan | None:
    """The plan of this probe request; None when the full path must answer (405, 400, a bug)."""
    accept = authorization = None
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value if accept is None else accept + b", " + value
        elif name == b"authorization":
            authorization = value if authorization is None else authorization + b", " + value
    key = (route, scope["method"], accept, authorization)
    plans = _PLANS.get(id(handler))
    if plans is None:
        plans = _PLANS[id(handler)] = {}
        weakref.finalize(handler, _PLANS.pop, id(handler), None)
    plan = plans.get(key)
    if plan is None:
        try:
            decided = handler.plan(route, _serve_request(scope, path))
        except Exception:  # a bug: the full path answers (and logs) it
            return None
        if not isinstance(decided, Plan):
            return None  # 405, 400: the full path answers it
        if len(plans) >= _PLAN_LIMIT:
            plans.clear()  # a crude bound: odd header values refill it one by one
        plan = plans[key] = decided
    return plan


def _encode(response: Response) -> list[tuple[bytes, bytes]]:
    # A handful of content types, body lengths and extra headers: each encoded once.
    key = (response.content_type, len(response.body), response.extra_headers)
    encoded = _HEADER_CACHE.get(key)
    if encoded is None:
        if len(_HEADER_CACHE) > 1024:
            _HEADER_CACHE.clear()
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers()]
        _HEADER_CACHE[key] = encoded
    return list(encoded)  # a copy: a wrapping middleware may add headers in place
