"""A health check's own driver calls make no span: real Redis, real redis instrumentation.

``opentelemetry-instrumentation-redis`` patches the redis client for the
whole process, so each case runs in a subprocess of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import require_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

SCRIPT = """
import asyncio, json, sys
import redis.asyncio
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from healthprobe import Health
from healthprobe.checks import RedisCheck
from healthprobe.observe.otel import instrument_if_available

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
RedisInstrumentor().instrument(tracer_provider=provider)

async def main():
    health = Health()
    health.add(RedisCheck("redis://127.0.0.1:6379/0"), name="cache")
    if sys.argv[1] == "default":
        instrument_if_available(health)  # what every HTTP integration does
    for _ in range(3):
        report = await health.arun()
        assert report.checks["cache"].status.value == "pass", report
    await health.astop()
    from_checks = len(exporter.get_finished_spans())
    client = redis.asyncio.Redis(host="127.0.0.1", port=6379)
    await client.ping()  # the application's own call: traced as usual
    await client.aclose()
    print(json.dumps([from_checks, len(exporter.get_finished_spans()) - from_checks]))

asyncio.run(main())
"""


def run(mode: str) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    counts: list[int] = json.loads(out)
    return counts


def test_checks_make_no_driver_spans_by_default_and_the_app_still_does() -> None:
    require_server("Redis", 6379)
    from_checks, from_app = run("default")
    assert from_checks == 0
    assert from_app >= 1


def test_without_suppression_the_same_checks_do_make_spans() -> None:
    """The test above can fail: unsuppressed, the instrumented driver records each PING."""
    require_server("Redis", 6379)
    from_checks, _ = run("bare")
    assert from_checks >= 3
