"""OpenTelemetry: one span per check run, with the run's real duration and status attributes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from healthprobe import CheckResult, Health
from healthprobe.observability import trace_checks
from healthprobe.observe.otel import (
    check_metrics,
    instrument_if_available,
    suppress_instrumentation,
)


@pytest.mark.asyncio
async def test_one_span_per_run_with_status_attributes_and_real_duration() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    health = Health()

    async def slow() -> bool:
        await asyncio.sleep(0.1)
        return True

    health.add(slow)
    health.add(lambda: CheckResult.failed("token=abc123 rejected"), name="api", cache_ttl=60)
    trace_checks(health, provider, with_reasons=True)
    await health.arun()
    await health.arun()  # "api" is served from its cache: no run, no span
    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.name)
    assert [s.name for s in spans] == [
        "healthprobe.check api",
        "healthprobe.check slow",
        "healthprobe.check slow",
    ]
    api, slow_span = spans[0], spans[1]
    assert api.attributes is not None
    assert slow_span.attributes is not None
    assert api.attributes["healthprobe.check.status"] == "fail"
    assert api.attributes["healthprobe.check.critical"] is True
    assert api.attributes["healthprobe.check.output"] == "token=*** rejected"
    assert api.status.status_code is StatusCode.ERROR
    assert slow_span.attributes["healthprobe.check.status"] == "pass"
    assert slow_span.status.status_code is StatusCode.UNSET
    assert slow_span.start_time is not None
    assert slow_span.end_time is not None
    duration = (slow_span.end_time - slow_span.start_time) / 1e9
    assert 0.09 <= duration < 2.0


@pytest.mark.asyncio
async def test_reasons_stay_out_of_spans_by_default() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    health = Health()
    health.add(lambda: CheckResult.failed("internal detail"), name="api")
    trace_checks(health, provider)
    await health.arun()
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None
    assert "healthprobe.check.output" not in span.attributes
    assert span.status.description is None


@pytest.mark.asyncio
async def test_instrumenting_twice_adds_nothing_the_second_time() -> None:
    health = Health()
    calls = 0

    def counted() -> bool:
        nonlocal calls
        calls += 1
        return True

    health.add(counted)
    assert instrument_if_available(health) is True
    listeners, contexts = len(health._listeners), len(health._run_contexts)
    assert instrument_if_available(health) is True
    assert (len(health._listeners), len(health._run_contexts)) == (listeners, contexts)
    await health.arun()
    assert calls == 1


@pytest.mark.asyncio
async def test_only_changes_records_a_span_per_status_change() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    health = Health()
    outcomes = iter([True, True, False, False, True])
    health.add(lambda: next(outcomes), name="db")
    trace_checks(health, provider, only_changes=True)
    for _ in range(5):
        await health.arun()
    statuses = [
        span.attributes["healthprobe.check.status"]
        for span in exporter.get_finished_spans()
        if span.attributes is not None
    ]
    assert statuses == ["pass", "fail", "pass"]  # the first reading, then each change


@pytest.mark.asyncio
async def test_metrics_report_the_status_state_set_and_the_durations() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    health = Health()
    health.add(lambda: True, name="db")
    health.add(lambda: CheckResult.failed("refused"), name="cache", critical=False)
    check_metrics(health, provider)
    for _ in range(3):
        await health.arun()
    data = reader.get_metrics_data()
    assert data is not None
    found = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    status = {
        (
            point.attributes["healthprobe.check.name"],
            point.attributes["healthprobe.check.status"],
        ): point.value
        for point in found["healthprobe.check.status"].data.data_points
        if isinstance(point, NumberDataPoint) and point.attributes is not None
    }
    assert status[("db", "pass")] == 1
    assert status[("db", "fail")] == 0
    assert status[("cache", "fail")] == 1
    assert sum(status.values()) == 2  # one current status per check
    durations = found["healthprobe.check.duration"]
    assert durations.unit == "s"
    counts = {
        point.attributes["healthprobe.check.name"]: point.count
        for point in durations.data.data_points
        if isinstance(point, HistogramDataPoint) and point.attributes is not None
    }
    assert counts == {"db": 3, "cache": 3}


@pytest.mark.asyncio
async def test_checks_run_with_instrumentation_suppressed() -> None:
    from opentelemetry import context

    seen: dict[str, object] = {}

    def sync_check() -> bool:
        seen["sync"] = context.get_value(context._SUPPRESS_INSTRUMENTATION_KEY)
        return True

    async def async_check() -> bool:
        seen["async"] = context.get_value(context._SUPPRESS_INSTRUMENTATION_KEY)
        return True

    health = Health()
    health.add(sync_check)
    health.add(async_check)
    await health.arun()
    assert seen == {"sync": None, "async": None}  # nothing set without the hook
    suppress_instrumentation(health)
    await health.arun()
    assert seen == {"sync": True, "async": True}
    assert context.get_value(context._SUPPRESS_INSTRUMENTATION_KEY) is None  # not leaked


SPANS_OFF_BY_DEFAULT = """
import asyncio, json
import httpx
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from healthprobe import Health
from healthprobe.integrations.asgi import HealthApp
from healthprobe.observability import trace_checks

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)  # an application that configured the SDK

async def main():
    health = Health()
    health.add(lambda: True, name="db")
    app = HealthApp(health, drain=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as c:
        for _ in range(5):
            await c.get("/health")
        before = len(exporter.get_finished_spans())
        trace_checks(health)
        for _ in range(5):
            await c.get("/health")
    print(json.dumps([before, len(exporter.get_finished_spans())]))

asyncio.run(main())
"""


def test_spans_are_opt_in_even_with_an_sdk_configured() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SPANS_OFF_BY_DEFAULT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert json.loads(out) == [0, 5]
