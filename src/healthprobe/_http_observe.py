"""The observability endpoints of the HTTP layer: ``/metrics`` and ``/health/ui``.

:class:`ObservabilityEndpoints` is what :class:`~healthprobe._http.ProbeHandler`
consults before its probe routes.  Transport-independent like the handler:
a :class:`~healthprobe._http.Request` in, a :class:`~healthprobe._http.Response`
out.  Neither endpoint runs a check: both read the last known results.

* ``/metrics`` (configurable, ``None`` to disable) answers **200 whatever
  the health**: Prometheus drops the samples of a 503 scrape, and an outage
  is when they matter most.
* ``/health/ui`` (configurable, ``None`` to disable) is the status page; the
  details policy decides what it shows (``FULL``: reasons; ``SUMMARY``:
  "reason withheld"; ``NONE``: the statuses only).

Creating the endpoints attaches the shared history, the default transition
log and (when opentelemetry-api is installed) check spans to the ``Health``,
so all of them start with the first reading.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ._history import History
from ._http_policy import Detail
from ._metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from ._metrics import render_metrics
from ._otel import trace_checks_if_available
from ._status_page import CONTENT_TYPE as PAGE_CONTENT_TYPE
from ._status_page import status_page
from ._transitions import TransitionLog

if TYPE_CHECKING:
    from ._health import Health
    from ._http import Request, Response
    from ._http_policy import DetailsPolicy

__all__ = ["ObservabilityEndpoints"]

# Response.headers() adds these itself.
_OWN_HEADERS = frozenset({"content-type", "cache-control", "x-content-type-options"})


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A matched observability path (``kind``: ``metrics`` or ``ui``)."""

    kind: str
    path: str


class ObservabilityEndpoints:
    """Serve ``/metrics`` and ``/health/ui`` for ``health`` (paths relative to ``prefix``)."""

    def __init__(
        self,
        health: Health,
        policy: DetailsPolicy,
        *,
        prefix: str = "",
        metrics_path: str | None = "/metrics",
        ui_path: str | None = "/health/ui",
        ui_refresh: int = 10,
    ) -> None:
        self.health = health
        self.policy = policy
        self.ui_refresh = ui_refresh
        self.paths: dict[str, Endpoint] = {}
        for kind, path in (("metrics", metrics_path), ("ui", ui_path)):
            if path is None:
                continue
            if not path.startswith("/") or path.endswith("/"):
                raise ValueError(f"{kind} path must start with '/' and not end with one: {path!r}")
            self.paths[prefix + path] = Endpoint(kind, prefix + path)
        # Observers attached now see every reading from the first one on.
        History.of(health)
        TransitionLog.of(health)
        trace_checks_if_available(health)

    def match(self, path: str) -> Endpoint | None:
        """The endpoint at ``path``, or None."""
        return self.paths.get(path)

    def respond(self, endpoint: Endpoint, request: Request) -> Response:
        """Answer ``request`` for ``endpoint``; never runs a check."""
        from ._http import Response  # noqa: PLC0415 - _http imports this module: a cycle

        if request.method not in ("GET", "HEAD"):
            return Response(
                405,
                b"method not allowed: use GET or HEAD\n",
                extra_headers=(("allow", "GET, HEAD"),),
            )
        head = request.method == "HEAD"
        if endpoint.kind == "metrics":
            body = render_metrics(self.health).encode()
            return Response(200, body, METRICS_CONTENT_TYPE, (), head)
        detail = self.policy.level(request)
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
