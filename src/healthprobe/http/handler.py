"""Transport-independent HTTP handling of the probe endpoints.

A :class:`Request` value (method, path, query string, headers) goes in, a
:class:`Response` value (status, content type, body) comes out.  The ASGI
layer (and any later WSGI layer) only translates; every decision lives here:
routing, query parsing, content negotiation, the details policy, the
status-code mapping and rendering (cached while the results are unchanged).

The work is split so that sync and async transports share it:
:meth:`ProbeHandler.plan` (everything decided before a check runs: route,
method, query, authorization), the transport obtains the report
(``await health.arun(...)`` or ``health.run(...)``), then
:meth:`ProbeHandler.respond` (lifecycle, status code, body).
:meth:`ProbeHandler.ahandle` and :meth:`ProbeHandler.handle` do all three.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from healthprobe.engine.errors import ConfigurationError, UnknownCheckError
from healthprobe.engine.lifecycle import LIFECYCLE_CHECKS, LifecycleState, apply_lifecycle
from healthprobe.engine.report import CheckReport, Report
from healthprobe.engine.sanitize import describe_exception
from healthprobe.engine.status import Status

from .endpoints import Endpoint, Endpoints
from .messages import TEXT, Request, Response, method_not_allowed
from .policy import Detail, DetailsPolicy
from .query import negotiate, parse_query
from .render_ietf import IETF_MEDIA_TYPE, render_ietf
from .render_json import json_head, render_json_tail, utc_timestamp
from .render_text import render_text

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["DEFAULT_PATHS", "Plan", "ProbeHandler", "Route", "own_verdict"]

logger = logging.getLogger("healthprobe")

#: path -> probe (``None``: every check, the detailed report).
DEFAULT_PATHS: Mapping[str, str | None] = {
    "/livez": "live",
    "/live": "live",
    "/readyz": "ready",
    "/ready": "ready",
    "/startupz": "startup",
    "/health": None,
}
_CONTENT_TYPES = {"json": "application/json", "ietf": IETF_MEDIA_TYPE, "text": TEXT}
_LIFECYCLE_PROBES = ("live", "ready", "startup", None)
_CACHE_LIMIT = 256
# The answer's format came from Accept: caches and proxies must key on it.
_VARY_ACCEPT = (("vary", "Accept"),)


class Route(NamedTuple):
    """A matched probe path: its probe, the trailer name (``readyz``) and one check, if any."""

    probe: str | None
    name: str
    check: str | None = None


class Plan(NamedTuple):
    """Everything decided about a request before any check runs."""

    route: Route
    head: bool
    format: str
    verbose: bool
    detail: Detail
    exclude: tuple[str, ...] = ()  # names the engine knows
    lifecycle_exclude: tuple[str, ...] = ()  # synthetic lifecycle names
    negotiated: bool = False  # the format was read from Accept (the answer varies on it)


class _Rendered:
    """A cached rendering: valid while the same report and lifecycle state come back.

    The engine hands out the same :class:`Report` object while nothing in it
    changed, so identity is the whole test.  ``stamped`` keeps the JSON
    document of the current millisecond (its head carries the request's
    timestamp and uptime), swapped in one assignment so that threads
    serving the same probe never see a torn pair.
    """

    __slots__ = ("body", "label", "report", "stamped", "state", "status")

    def __init__(
        self, report: Report, state: LifecycleState | None, status: int, label: str, body: bytes
    ) -> None:
        self.report = report
        self.state = state
        self.status = status
        self.label = label
        self.body = body
        self.stamped: tuple[str, bytes] = ("", b"")


class ProbeHandler:
    """Serve a :class:`Health` over HTTP, whatever the transport.

    Parameters:
        health: the engine (its ``version`` and ``lifecycle`` are used).
        prefix: prepended to every path (``"/_"`` gives ``/_/readyz``).
        paths: path -> probe (``None``: all checks); defaults to
            :data:`DEFAULT_PATHS`.  ``<path>/<check>`` serves one check.
        details: ``"authorized"`` (default), ``"always"`` or ``"never"``;
            see :class:`~healthprobe.http.policy.DetailsPolicy`.
        token: the bearer token that authorizes full details.
        authorize: ``authorize(request) -> bool``, the other way to authorize.
        warn_status: the code for a warn verdict (200; 429 for Consul).
        draining_status: readiness's code while draining (503; 404 for
            HAProxy's ``disable-on-404``).
        service_id, release_id, description: IETF document fields.
        endpoints: the endpoints served beside the probes (``/metrics``,
            ``/health/ui``), matched before ``<path>/<check>``; see
            :mod:`healthprobe.http.endpoints`.  The integrations pass
            the observability endpoints (``make_handler``).
    """

    def __init__(
        self,
        health: Health,
        *,
        prefix: str = "",
        paths: Mapping[str, str | None] | None = None,
        details: str = "authorized",
        token: str | None = None,
        authorize: Callable[[Request], bool] | None = None,
        warn_status: int = 200,
        draining_status: int = 503,
        service_id: str | None = None,
        release_id: str | None = None,
        description: str | None = None,
        endpoints: Endpoints | None = None,
    ) -> None:
        if warn_status not in (200, 429):
            raise ConfigurationError(f"warn_status must be 200 or 429, not {warn_status!r}")
        if draining_status not in (503, 404):
            raise ConfigurationError(f"draining_status must be 503 or 404, not {draining_status!r}")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(f"prefix must start with '/' and not end with one: {prefix!r}")
        self.health = health
        self.policy = DetailsPolicy(details, token=token, authorize=authorize)
        self.warn_status = warn_status
        self.draining_status = draining_status
        self.service = {
            "version": health.version,
            "releaseId": release_id,
            "serviceId": service_id,
            "description": description,
        }
        self.routes: dict[str, Route] = {}
        for path, probe in (DEFAULT_PATHS if paths is None else paths).items():
            if not path.startswith("/") or path.endswith("/"):
                raise ConfigurationError(
                    f"probe path must start with '/' and not end with one: {path!r}"
                )
            if probe is not None and probe not in health.probes:
                raise ConfigurationError(f"path {path!r} names unknown probe {probe!r}")
            self.routes[prefix + path] = Route(probe, path.rsplit("/", 1)[1])
        self.prefix = prefix
        self.endpoints = endpoints
        self._version_json = json.dumps(health.version, ensure_ascii=False)
        self._cache: dict[tuple[object, ...], _Rendered] = {}

    # -- the three steps ---------------------------------------------------------

    def match(self, path: str) -> Route | Endpoint | None:
        """The probe route or extra endpoint for ``path``, or None.

        A trailing slash is the same path (``/readyz/`` is ``/readyz``): every
        integration answers it in place, never with a redirect, since kubelet
        and HAProxy count a 3xx as healthy.  ``<probe>/lifecycle/<name>``
        serves one of the lifecycle entries ``?verbose`` lists.
        """
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        route = self.routes.get(path)
        if route is not None:
            return route
        if self.endpoints is not None:
            endpoint = self.endpoints.match(path)
            if endpoint is not None:
                return endpoint
        base, _, check = path.rpartition("/")
        route = self.routes.get(base)
        if route is None:
            base, _, first = base.rpartition("/")
            route = self.routes.get(base)
            check = f"{first}/{check}"
            if route is None or check not in LIFECYCLE_CHECKS.get(route.probe, ()):
                return None
        if not check:
            return None
        return Route(route.probe, route.name, check)

    def plan(self, route: Route, request: Request) -> Plan | Response:
        """Decide everything that does not need a check result; a Response ends the request."""
        method = request.method
        if method not in ("GET", "HEAD"):
            return method_not_allowed()
        head = method == "HEAD"
        fmt, verbose = "", False
        exclude: tuple[str, ...] = ()
        if request.query_string:
            parsed = parse_query(request.query_string)
            if isinstance(parsed, str):
                return _bad_request(parsed, head)
            fmt, verbose, exclude = parsed
        if route.check is not None:
            exclude = ()  # one check's path: nothing to exclude (Kubernetes ignores it too)
        negotiated = False
        if not fmt:
            if verbose:
                fmt = "text"
            else:
                fmt, negotiated = negotiate(request.headers.get("accept", "")), True
        detail = self.policy.level(request)
        if not exclude:
            return Plan(route, head, fmt, verbose, detail, negotiated=negotiated)
        synthetic = LIFECYCLE_CHECKS.get(route.probe, ())
        return Plan(
            route,
            head,
            fmt,
            verbose,
            detail,
            tuple(n for n in exclude if n not in synthetic),
            tuple(n for n in exclude if n in synthetic),
            negotiated,
        )

    def respond(self, plan: Plan, report: Report) -> Response:
        """Turn ``report`` into the response ``plan`` asks for.

        The rendering is cached: while the engine hands back the same report
        (nothing changed) and the lifecycle state is the same snapshot,
        neither the lifecycle nor the renderers run again.  The JSON head
        (timestamp, uptime) is formatted once per millisecond: requests in
        the same millisecond get the same document.

        A check's own path answers that check's own verdict: a failing
        non-critical check is 503 there (it only degrades the probe).  An
        IETF document is never 429 (the draft wants warn in 2xx-3xx):
        ``warn_status`` applies to the other formats.
        """
        route = plan.route
        state = None
        if route.check is None and route.probe in _LIFECYCLE_PROBES:
            state = self.health.lifecycle.state
        key = (route, plan.format, plan.detail, plan.verbose, plan.lifecycle_exclude)
        hit = self._cache.get(key)
        if hit is None or hit.report is not report or hit.state is not state:
            full = report
            if state is not None:
                full = apply_lifecycle(report, state, exclude=plan.lifecycle_exclude)
            elif route.check is not None:
                full = own_verdict(report, self.health.unknown_passes)
            body = self._render(plan, full)
            code = self.status_code(full)
            if code == 429 and plan.format == "ietf":
                code = 200
            hit = _Rendered(report, state, code, full.status.label, body)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()  # a crude bound; an unchanged report refills it at once
            self._cache[key] = hit
        body = hit.body
        if plan.format == "json":
            stamp = utc_timestamp()  # the same object all through one millisecond
            stamped = hit.stamped
            if stamped[0] is not stamp:
                head = json_head(hit.label, self._version_json, stamp, self.health.uptime())
                stamped = hit.stamped = (stamp, head + body)
            body = stamped[1]
        extra = _VARY_ACCEPT if plan.negotiated else ()
        return Response(hit.status, body, _CONTENT_TYPES[plan.format], extra, plan.head)

    def status_code(self, report: Report) -> int:
        """pass 200 · warn 200 (or 429) · fail 503 · draining readiness 503 (or 404)."""
        verdict = report.verdict
        if verdict is Status.PASS:
            return 200
        if verdict is Status.WARN:
            return self.warn_status
        if (
            self.draining_status != 503
            and report.probe == "ready"
            and self.health.lifecycle.draining
        ):
            return self.draining_status
        return 503

    # -- whole requests ------------------------------------------------------------

    async def ahandle(self, request: Request) -> Response:
        """Answer ``request`` (async transports); never raises."""
        try:
            route = self.match(request.path)
        except Exception as exc:
            return _internal_error(request, exc)
        return await self.aserve(route, request)

    async def aserve(self, route: Route | Endpoint | None, request: Request) -> Response:
        """:meth:`ahandle` for a request already matched to ``route``; never raises."""
        try:
            plan = self._prepare(route, request)
            if isinstance(plan, Response):
                return plan
            lifecycle = self._lifecycle_report(plan.route)
            if lifecycle is not None:
                return self.respond(plan, lifecycle)
            try:
                report = await self.health.arun(
                    plan.route.probe, only=plan.route.check, exclude=plan.exclude
                )
            except UnknownCheckError as exc:
                return _unknown_check(exc, plan.head)
            return self.respond(plan, report)
        except Exception as exc:
            return _internal_error(request, exc)

    def handle(self, request: Request) -> Response:
        """Blocking twin of :meth:`ahandle` (sync transports such as WSGI)."""
        try:
            route = self.match(request.path)
        except Exception as exc:
            return _internal_error(request, exc)
        return self.serve(route, request)

    def serve(self, route: Route | Endpoint | None, request: Request) -> Response:
        """Blocking twin of :meth:`aserve`."""
        try:
            plan = self._prepare(route, request)
            if isinstance(plan, Response):
                return plan
            lifecycle = self._lifecycle_report(plan.route)
            if lifecycle is not None:
                return self.respond(plan, lifecycle)
            try:
                report = self.health.run(
                    plan.route.probe, only=plan.route.check, exclude=plan.exclude
                )
            except UnknownCheckError as exc:
                return _unknown_check(exc, plan.head)
            return self.respond(plan, report)
        except Exception as exc:
            return _internal_error(request, exc)

    def _lifecycle_report(self, route: Route) -> Report | None:
        """The report of a lifecycle entry's own path (no check runs), else None."""
        name = route.check
        if name is None or name not in LIFECYCLE_CHECKS.get(route.probe, ()):
            return None
        result = self.health.lifecycle.state.result(name)
        return Report(
            probe=route.probe,
            status=result.status,
            verdict=result.status,
            checks={name: CheckReport(name, True, result)},
            time=dt.datetime.now(dt.timezone.utc),
            duration=0.0,
        )

    def _prepare(self, route: Route | Endpoint | None, request: Request) -> Plan | Response:
        """The plan of a probe request, or the whole answer to any other."""
        if route is None:
            return Response(404, b"not found\n", head=request.method == "HEAD")
        if isinstance(route, Endpoint):
            assert self.endpoints is not None  # only they match an Endpoint
            return self.endpoints.respond(route, request, self.policy)
        return self.plan(route, request)

    # -- rendering -------------------------------------------------------------------

    def _render(self, plan: Plan, report: Report) -> bytes:
        if plan.format == "json":
            return render_json_tail(report, plan.detail)
        if plan.format == "ietf":
            return render_ietf(report, plan.detail, service=self.service)
        order = None
        if report.excluded and plan.route.check is None:
            # Kubernetes writes excluded checks in place, in registration order.
            order = (*self.health.names(report.probe), *LIFECYCLE_CHECKS.get(report.probe, ()))
        return render_text(
            report,
            plan.detail,
            name=plan.route.name,
            verbose=plan.verbose,
            order=order,
            own=plan.route.check is not None,
        )


def own_verdict(report: Report, unknown_passes: frozenset[str]) -> Report:
    """A one-check report judged by that check alone, critical or not.

    The probe caps a failing non-critical check at warn (it degrades the
    service); its own path, or a gRPC service mapped to it, must say that it
    fails, or a monitor aimed at that dependency never fires.  ``unknown``
    is resolved by the probe's policy, as for a whole probe.
    """
    if len(report.checks) != 1:
        return report
    (entry,) = report.checks.values()
    status = entry.result.status
    verdict = status
    if status is Status.UNKNOWN:
        verdict = Status.PASS if report.probe in unknown_passes else Status.FAIL
    if status is report.status and verdict is report.verdict:
        return report
    return dataclasses.replace(report, status=status, verdict=verdict)


def _bad_request(reason: str, head: bool) -> Response:
    return Response(400, f"bad request: {reason}\n".encode(), head=head)


def _unknown_check(exc: UnknownCheckError, head: bool) -> Response:
    where = f" in probe {exc.probe!r}" if exc.probe else ""
    return Response(404, f"no check named {exc.name[:64]!r}{where}\n".encode(), head=head)


def _internal_error(request: Request, exc: Exception) -> Response:
    # Only healthprobe's own bug lands here (check failures are results); the
    # log line is one sanitized line, the body says nothing about internals.
    logger.error(
        "healthprobe: the health endpoint failed on %s %s: %s",
        request.method[:10],
        request.path[:100],
        describe_exception(exc),
    )
    return Response(500, b"internal error in the health endpoint\n")
