"""OpenTelemetry (extra ``otel``; opentelemetry-api imported lazily): metrics, suppression, spans.

What costs nothing until asked for is on by default (:func:`instrument_if_available`,
which every HTTP integration calls when opentelemetry-api is installed):

* **Metrics** through the API (:func:`check_metrics`): ``healthprobe.check.status``,
  an observable gauge (a state set: 1 for each check's current status, 0 for
  the others, read from the last readings at collection time), and
  ``healthprobe.check.duration``, a histogram in seconds recorded per
  reading.  Without an SDK the API's no-op meter makes both free.
* **Suppression** (:func:`suppress_instrumentation`): checks run with
  OpenTelemetry's instrumentation suppressed, so the drivers' own
  instrumentation (``SELECT 1``, ``PING``, the HTTP client) records no span
  for a health check.

**Spans** are opt-in (:func:`trace_checks`): one ``healthprobe.check <name>``
span per run, or only for runs whose status changed (``only_changes=True``).
With an SDK, ten checks polled every five seconds would otherwise make 120
root spans a minute per process.  A span is created after the run with the
reading's real start and end times.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from healthprobe._optional import require
from healthprobe.engine.status import Status

if TYPE_CHECKING:
    from healthprobe.engine.health import Health
    from healthprobe.engine.runtime import Reading

__all__ = [
    "CheckMetrics",
    "CheckSpans",
    "check_metrics",
    "instrument_if_available",
    "suppress_instrumentation",
    "trace_checks",
]

_STATES = (Status.PASS, Status.WARN, Status.UNKNOWN, Status.FAIL)
_instrumented: weakref.WeakSet[Health] = weakref.WeakSet()
_instrumented_lock = threading.Lock()


def _api(module: str) -> Any:
    return require(module, "otel", package="opentelemetry-api")


class CheckSpans:
    """A result listener that records a ``healthprobe.check <name>`` span per reading.

    Attributes: ``healthprobe.check.name``, ``healthprobe.check.status``
    (pass/warn/unknown/fail), ``healthprobe.check.critical``,
    ``healthprobe.check.latency_ms``, and ``healthprobe.check.output`` (the
    engine's sanitized reason) when ``with_reasons``.  A failing reading
    sets the span's status to ERROR.  With ``only_changes``, a reading whose
    status is that of the previous one records nothing.
    """

    def __init__(
        self, tracer_provider: Any = None, *, with_reasons: bool = False, only_changes: bool = False
    ) -> None:
        self._trace = _api("opentelemetry.trace")
        self._tracer = self._trace.get_tracer("healthprobe", tracer_provider=tracer_provider)
        self.with_reasons = with_reasons
        self.only_changes = only_changes

    def __call__(self, reading: Reading) -> None:
        """Record the span of one reading (the listener entry point)."""
        result = reading.current
        if result.time is None or reading.host is not None:
            return  # no run here: the worker that ran it (the host's leader) made the span
        previous = reading.previous
        if self.only_changes and previous is not None and previous.status is result.status:
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
    health: Health,
    tracer_provider: Any = None,
    *,
    with_reasons: bool = False,
    only_changes: bool = False,
) -> CheckSpans:
    """Record a span for every check run of ``health`` (or each change); returns the listener."""
    spans = CheckSpans(tracer_provider, with_reasons=with_reasons, only_changes=only_changes)
    health.add_listener(spans)
    return spans


class CheckMetrics:
    """OpenTelemetry instruments for ``health``: a status gauge and a duration histogram."""

    def __init__(self, health: Health, meter_provider: Any = None) -> None:
        metrics = _api("opentelemetry.metrics")
        self._observation = metrics.Observation
        meter = metrics.get_meter("healthprobe", meter_provider=meter_provider)
        self._health = weakref.ref(health)
        self.duration = meter.create_histogram(
            "healthprobe.check.duration",
            unit="s",
            description="Duration of each check run.",
        )
        self.status = meter.create_observable_gauge(
            "healthprobe.check.status",
            callbacks=[self._observe_status],
            description="1 for each check's current status (pass, warn, unknown, fail), else 0.",
        )
        health.add_listener(self._record)

    def _record(self, reading: Reading) -> None:
        latency = reading.current.latency
        if latency is not None:
            attributes = {
                "healthprobe.check.name": reading.name,
                "healthprobe.check.status": reading.current.status.value,
            }
            self.duration.record(latency, attributes)

    def _observe_status(self, options: Any) -> Iterator[Any]:
        health = self._health()
        if health is None:
            return
        for name, check in health.latest().checks.items():
            for state in _STATES:
                attributes = {
                    "healthprobe.check.name": name,
                    "healthprobe.check.status": state.value,
                }
                yield self._observation(int(check.status is state), attributes)


def check_metrics(health: Health, meter_provider: Any = None) -> CheckMetrics:
    """Report ``health``'s checks as OpenTelemetry metrics (no-ops without an SDK)."""
    return CheckMetrics(health, meter_provider)


def suppress_instrumentation(health: Health) -> None:
    """Run ``health``'s checks with OpenTelemetry instrumentation suppressed.

    Sets the API's suppression keys (the ones every ``opentelemetry-instrumentation-*``
    package honours) in each run's context, so a probe's ``SELECT 1`` makes no span.
    """
    context = _api("opentelemetry.context")
    keys = [
        getattr(context, name)
        for name in ("_SUPPRESS_INSTRUMENTATION_KEY", "_SUPPRESS_HTTP_INSTRUMENTATION_KEY")
        if hasattr(context, name)
    ]

    @contextlib.contextmanager
    def suppressed() -> Iterator[None]:
        current = context.get_current()
        for key in keys:
            current = context.set_value(key, True, current)
        token = context.attach(current)
        try:
            yield
        finally:
            context.detach(token)

    health.add_run_context(suppressed)


def instrument_if_available(health: Health) -> bool:
    """Metrics and suppression for ``health``, once, if opentelemetry-api is installed.

    What the HTTP layer calls: nothing is imported when the package is absent,
    and a second call for the same ``health`` adds nothing.  Spans stay off
    (see :func:`trace_checks`).  Returns whether the instrumentation is on.
    """
    with _instrumented_lock:
        if health in _instrumented:
            return True
        if importlib.util.find_spec("opentelemetry") is None:
            return False
        try:
            suppress_instrumentation(health)
            check_metrics(health)
        except ImportError:  # a namespace package without the API in it
            return False
        _instrumented.add(health)
        return True
