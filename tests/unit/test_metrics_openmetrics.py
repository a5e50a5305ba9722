"""OpenMetrics negotiation, healthprobe_info and the component label of /metrics."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families as parse_text

from healthprobe import CheckResult, Health
from healthprobe.http.query import wants_openmetrics
from healthprobe.integrations.asgi import HealthApp
from healthprobe.observability import History, collect, render_metrics

#: What Prometheus 2.x/3.x sends by default (scrape_protocols).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (PROMETHEUS_ACCEPT, True),
        ("application/openmetrics-text; version=1.0.0", True),
        ("text/plain;version=0.0.4", False),
        ("", False),
        ("*/*", False),
        ("application/openmetrics-text;q=0", False),
        ("text/plain;q=1,application/openmetrics-text;q=0.5", False),
        ("text/plain;q=0.5,application/openmetrics-text;q=0.5", True),
        ("application/openmetrics-text;q=bogus", False),
    ],
)
def test_openmetrics_is_chosen_by_the_accept_header(accept: str, expected: bool) -> None:
    assert wants_openmetrics(accept) is expected


def parse_openmetrics(text: str) -> list[Metric]:
    """prometheus-client's strict OpenMetrics parser (raises on an invalid exposition)."""
    parse = openmetrics_parser.text_string_to_metric_families
    return list(parse(text))  # type: ignore[no-untyped-call]  # untyped in prometheus-client


def _health() -> Health:
    health = Health(version="1.4.2")
    health.add(lambda: True, name="db", component_type="datastore")
    health.add(lambda: CheckResult.failed("refused"), name="cache", critical=False)
    History.of(health)  # counts failures from the first reading on
    return health


@pytest.mark.asyncio
async def test_the_openmetrics_exposition_parses_strictly() -> None:
    health = _health()
    await health.arun()
    text = render_metrics(health, openmetrics=True, info={"release_id": "r7"})
    assert text.endswith("# EOF\n")
    families = {family.name: family for family in parse_openmetrics(text)}  # raises if invalid
    assert families["healthprobe_check_failures"].type == "counter"
    assert families["healthprobe"].type == "info"
    (info,) = families["healthprobe"].samples
    assert info.name == "healthprobe_info"
    assert info.labels == {"version": "1.4.2", "release_id": "r7"}
    failures = {s.labels["check"]: s.value for s in families["healthprobe_check_failures"].samples}
    assert failures == {"db": 0, "cache": 1}


@pytest.mark.asyncio
async def test_every_check_series_carries_its_component() -> None:
    health = _health()
    await health.arun()
    status = {
        (s.labels["check"], s.labels.get("component"))
        for family in parse_text(render_metrics(health))
        if family.name == "healthprobe_check_status"
        for s in family.samples
    }
    # db declares a componentType; cache declares none, so it has no component label.
    assert status == {("db", "datastore"), ("cache", None)}
    by_name = {family.name: family for family in collect(health)}
    assert by_name["healthprobe_check_duration_seconds"].labels == ("check", "component")


@pytest.mark.asyncio
async def test_the_metrics_endpoint_negotiates_and_labels_the_service() -> None:
    health = _health()
    app = HealthApp(health, drain=None, release_id="2026.12.1", service_id="checkout")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        await client.get("/health")  # one reading of each check
        plain = await client.get("/metrics")
        openmetrics = await client.get("/metrics", headers={"accept": PROMETHEUS_ACCEPT})
    assert plain.status_code == openmetrics.status_code == 200
    assert plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert openmetrics.headers["content-type"] == (
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    )
    assert plain.headers["vary"] == openmetrics.headers["vary"] == "Accept"
    assert (
        'healthprobe_info{version="1.4.2",release_id="2026.12.1",service_id="checkout"} 1'
        in plain.text.splitlines()
    )
    families = {family.name: family for family in parse_openmetrics(openmetrics.text)}
    assert families["healthprobe"].samples[0].labels["service_id"] == "checkout"
