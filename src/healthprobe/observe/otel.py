"""OpenTelemetry: one span per check run (extra ``otel``, opentelemetry-api imported lazily).

The engine's listener hook fires after a run, so each span is created after
the fact with explicit start and end times taken from the reading (its
``time`` is the end, ``time - latency`` the start): the span's duration is
the check's real duration.  Without an SDK configured, opentelemetry-api's
no-op tracer makes this free.
"""

from __future__ import annotations

import importlib.util
import threading
import weakref
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.status import Status

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.runtime import Reading

__all__ = ["CheckSpans", "trace_checks", "trace_checks_if_available"]

_traced: weakref.WeakSet[Health] = weakref.WeakSet()
_traced_lock = threading.Lock()


class CheckSpans:
    """A result listener that records a ``healthprobe.check <name>`` span per reading.

    Attributes: ``healthprobe.check.name``, ``healthprobe.check.status``
    (pass/warn/unknown/fail), ``healthprobe.check.critical``,
    ``healthprobe.check.latency_ms``, and ``healthprobe.check.output`` (the
    engine's sanitized reason) when ``with_reasons``.  A failing reading
    sets the span's status to ERROR.
    """

    def __init__(self, tracer_provider: Any = None, *, with_reasons: bool = False) -> None:
        self._trace = require("opentelemetry.trace", "otel", package="opentelemetry-api")
        self._tracer = self._trace.get_tracer("healthprobe", tracer_provider=tracer_provider)
        self.with_reasons = with_reasons

    def __call__(self, reading: Reading) -> None:
        """Record the span of one reading (the listener entry point)."""
        result = reading.current
        if result.time is None:
            return
        end = int(result.time.timestamp() * 1e9)
        start = end - int((result.latency or 0.0) * 1e9)
        attributes: dict[str, Any] = {
            "healthprobe.check.name": reading.name,
            "healthprobe.check.status": result.status.value,
            "healthprobe.check.critical": reading.critical,
        }
        if result.latency is not None:
            attributes["healthprobe.check.latency_ms"] = result.latency * 1000.0
        if self.with_reasons and result.output:
            attributes["healthprobe.check.output"] = result.output
        span = self._tracer.start_span(
            f"healthprobe.check {reading.name}", start_time=start, attributes=attributes
        )
        if result.status is Status.FAIL:
            description = result.output if self.with_reasons and result.output else None
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, description))
        span.end(end_time=end)


def trace_checks(
    health: Health, tracer_provider: Any = None, *, with_reasons: bool = False
) -> CheckSpans:
    """Record a span for every check run of ``health``; returns the listener."""
    spans = CheckSpans(tracer_provider, with_reasons=with_reasons)
    health.add_listener(spans)
    return spans


def trace_checks_if_available(health: Health) -> bool:
    """Trace ``health``'s check runs once, if opentelemetry-api is installed.

    What the HTTP layer calls: nothing is imported when the package is
    absent, and a second call for the same ``health`` adds no second
    listener.  Spans go to the globally configured tracer provider (a no-op
    until the application configures an SDK).  Returns whether tracing is on.
    """
    with _traced_lock:
        if health in _traced:
            return True
        if importlib.util.find_spec("opentelemetry") is None:
            return False
        try:
            trace_checks(health)
        except ImportError:  # a namespace package without the API in it
            return False
        _traced.add(health)
        return True
