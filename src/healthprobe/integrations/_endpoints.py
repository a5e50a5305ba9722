"""Where the probe handler meets observability: ``/metrics`` and ``/health/ui``.

:func:`make_handler` is how every integration builds its
:class:`~healthprobe.http.handler.ProbeHandler`: the handler (http room)
plus :class:`ObservabilityEndpoints` (rendered by the observe room).  The
join lives here because neither room may import the other.

Neither endpoint runs a check: both read the last known results.

* ``/metrics`` (configurable, ``None`` to disable) answers **200 whatever
  the health**: Prometheus drops the samples of a 503 scrape, and an outage
  is when they matter most.
* ``/health/ui`` (configurable, ``None`` to disable) is the status page; the
  details policy decides what it shows (``FULL``: reasons; ``SUMMARY``:
  "reason withheld"; ``NONE``: the statuses only).
* ``/health/badge/<probe>.svg`` and ``/health/badge/check/<name>.svg``
  (``badge_path``, ``None`` to disable) are SVG status badges; per-check
  badges answer 404 when the details policy withholds per-check entries.

Creating the endpoints attaches the shared history, the default transition
log and (when opentelemetry-api is installed) OpenTelemetry metrics and
instrumentation suppression to the ``Health``, so all of them start with the
first reading.  Spans are opt-in (``observability.trace_checks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from healthprobe.engine.errors import ConfigurationError
from healthprobe.http.endpoints import Endpoint
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.messages import Request, Response, method_not_allowed
from healthprobe.http.policy import Detail, DetailsPolicy
from healthprobe.http.query import wants_openmetrics
from healthprobe.observe.badge import CONTENT_SECURITY_POLICY as BADGE_CSP
from healthprobe.observe.badge import CONTENT_TYPE as BADGE_CONTENT_TYPE
from healthprobe.observe.badge import badge
from healthprobe.observe.history import History
from healthprobe.observe.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from healthprobe.observe.metrics import OPENMETRICS_CONTENT_TYPE, render_metrics
from healthprobe.observe.otel import instrument_if_available
from healthprobe.observe.status_page import CONTENT_TYPE as PAGE_CONTENT_TYPE
from healthprobe.observe.status_page import status_page
from healthprobe.observe.transitions import TransitionLog

if TYPE_CHECKING:
    from healthprobe.engine.health import Health

__all__ = ["ObservabilityEndpoints", "make_handler", "served_endpoints"]

# Response.headers() adds these itself.
_OWN_HEADERS = frozenset({"content-type", "cache-control", "x-content-type-options"})


def make_handler(
    health: Health,
    *,
    metrics_path: str | None = "/metrics",
    ui_path: str | None = "/health/ui",
    ui_refresh: int = 10,
    badge_path: str | None = "/health/badge",
    **options: Any,
) -> ProbeHandler:
    """A :class:`ProbeHandler` for ``health`` that also serves ``/metrics`` and ``/health/ui``.

    ``options`` are those of :class:`ProbeHandler` (``prefix``, ``paths``,
    ``details``...); ``metrics_path`` and ``ui_path`` are relative to the
    prefix, and ``None`` turns one off; ``ui_refresh`` is the status page's
    refresh period in seconds; ``badge_path`` is where the SVG badges live.
    Bad options raise ``ConfigurationError``
    (``ValueError`` for a malformed endpoint path).
    """
    handler = ProbeHandler(health, **options)
    handler.endpoints = ObservabilityEndpoints(
        health,
        prefix=handler.prefix,
        metrics_path=metrics_path,
        ui_path=ui_path,
        ui_refresh=ui_refresh,
        badge_path=badge_path,
        info={
            "release_id": options.get("release_id"),
            "service_id": options.get("service_id"),
        },
    )
    return handler


def served_endpoints(handler: ProbeHandler) -> tuple[str, ...]:
    """The paths of the endpoints beside the probes (``/metrics``, ``/health/ui``), prefixed."""
    endpoints = handler.endpoints
    if isinstance(endpoints, ObservabilityEndpoints):
        return tuple(endpoints.paths)
    return ()


class ObservabilityEndpoints:
    """Serve ``/metrics`` and ``/health/ui`` for ``health`` (paths relative to ``prefix``)."""

    def __init__(
        self,
        health: Health,
        *,
        prefix: str = "",
        metrics_path: str | None = "/metrics",
        ui_path: str | None = "/health/ui",
        ui_refresh: int = 10,
        badge_path: str | None = "/health/badge",
        info: Mapping[str, str | None] | None = None,
    ) -> None:
        if isinstance(ui_refresh, bool) or not isinstance(ui_refresh, int) or ui_refresh < 1:
            shown = repr(ui_refresh) if isinstance(ui_refresh, int) else type(ui_refresh).__name__
            raise ConfigurationError(
                f"ui_refresh must be a whole number of seconds >= 1, not {shown}"
            )
        self.health = health
        self.ui_refresh = ui_refresh
        self.info = dict(info or {})  # the release_id and service_id of healthprobe_info
        self.paths: dict[str, Endpoint] = {}
        for kind, path in (("metrics", metrics_path), ("ui", ui_path), ("badge", badge_path)):
            if path is None:
                continue
            if not path.startswith("/") or path.endswith("/"):
                raise ValueError(f"{kind} path must start with '/' and not end with one: {path!r}")
            if kind != "badge":
                self.paths[prefix + path] = Endpoint(kind, prefix + path)
        # Badges live under their path: <badge_path>/<probe>.svg, .../check/<name>.svg.
        self.badges = None if badge_path is None else prefix + badge_path + "/"
        # Observers attached now see every reading from the first one on.
        History.of(health)
        TransitionLog.of(health)
        instrument_if_available(health)

    def match(self, path: str) -> Endpoint | None:
        """The endpoint at ``path``, or None."""
        endpoint = self.paths.get(path)
        if endpoint is not None:
            return endpoint
        if (
            self.badges is not None
            and path.startswith(self.badges)
            and len(path) > len(self.badges)
        ):
            return Endpoint("badge", path)
        return None

    def respond(self, endpoint: Endpoint, request: Request, policy: DetailsPolicy) -> Response:
        """Answer ``request`` for ``endpoint``; never runs a check."""
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed()
        head = request.method == "HEAD"
        if endpoint.kind == "metrics":
            openmetrics = wants_openmetrics(request.headers.get("accept", ""))
            body = render_metrics(self.health, openmetrics=openmetrics, info=self.info).encode()
            kind = OPENMETRICS_CONTENT_TYPE if openmetrics else METRICS_CONTENT_TYPE
            return Response(200, body, kind, (("vary", "Accept"),), head)
        detail = policy.level(request)
        if endpoint.kind == "badge":
            return self._badge(endpoint, head, checks_shown=detail is not Detail.NONE)
        page, headers = status_page(
            self.health,
            show_reasons=detail is Detail.FULL,
            show_checks=detail is not Detail.NONE,
            refresh_seconds=self.ui_refresh,
        )
        extra = tuple(
            (name.lower(), value)
            for name, value in headers.items()
            if name.lower() not in _OWN_HEADERS
        )
        return Response(200, page.encode(), PAGE_CONTENT_TYPE, extra, head)

    def _badge(self, endpoint: Endpoint, head: bool, *, checks_shown: bool) -> Response:
        assert self.badges is not None  # only then is a badge matched
        target = endpoint.path.removeprefix(self.badges).removesuffix(".svg")
        svg = badge(self.health, target, checks_shown=checks_shown)
        if svg is None:
            return Response(404, b"no such badge: use <probe>.svg or check/<name>.svg\n", head=head)
        csp = (("content-security-policy", BADGE_CSP),)
        return Response(200, svg.encode(), BADGE_CONTENT_TYPE, csp, head)
