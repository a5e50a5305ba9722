"""OpenTelemetry: one span per check run, with the run's real duration and status attributes."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from healthprobe import CheckResult, Health
from healthprobe.observability import trace_checks


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
async def test_tracing_if_available_adds_one_listener_per_health() -> None:
    from healthprobe.observe.otel import trace_checks_if_available

    health = Health()
    calls = 0

    def counted() -> bool:
        nonlocal calls
        calls += 1
        return True

    health.add(counted)
    assert trace_checks_if_available(health) is True
    assert trace_checks_if_available(health) is True
    assert len(health._listeners) == 1  # the point: no second listener
    await health.arun()
    assert calls == 1
