"""PrometheusQueryCheck against a real Prometheus server (Debian's) that scrapes itself."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.prometheus import PrometheusQueryCheck
from tests.conftest import free_port
from tests.services._owned_servers import OwnedServer, _need
from tests.services._probe_asserts import CANARY, assert_no_canary, run_once, timed_failure

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


def api(server: OwnedServer, query: str) -> list[Any]:
    """The query's result, asked with the standard library (a connection of its own)."""
    url = f"http://127.0.0.1:{server.port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as response:
        result: list[Any] = json.load(response)["data"]["result"]
    return result


def accepted(server: OwnedServer) -> int:
    """Connections the server's HTTP listener accepted so far (this request's included).

    Read from its own /metrics, which is current (a query would read the last scrape).
    """
    url = f"http://127.0.0.1:{server.port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith('net_conntrack_listener_conn_accepted_total{listener_name="http"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    raise AssertionError("no accepted-connections counter in /metrics")


def wait_ready(server: OwnedServer, within: float = 20.0) -> None:
    """Until /-/ready says 200: Prometheus listens before its TSDB is open (503 till then)."""
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/-/ready", timeout=2):
                return
        except OSError:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnedServer]:
    """A private Prometheus on a spare port, scraping itself every second."""
    workdir = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{port}']\n"
    )
    command = [
        _need("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    server = OwnedServer("prometheus", command, port, workdir)
    server.start()
    try:
        wait_ready(server)
        yield server
    finally:
        server.stop()


def wait_scraped(server: OwnedServer, within: float = 20.0) -> None:
    """Until the first scrape landed (Prometheus starts scraping about 5 s after start)."""
    deadline = time.monotonic() + within
    while not api(server, 'up{job="prometheus"}'):
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.1)


def url(server: OwnedServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def one(check: PrometheusQueryCheck) -> Any:
    health = Health()
    health.add(check)
    result, _ = await run_once(health, check.name)
    await health.astop()
    return result


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "options", "expected", "value"),
    [
        ("vector(0.02)", {}, Status.PASS, 0.02),
        ("vector(0.02)", {"warn_above": 0.01, "fail_above": 0.05}, Status.WARN, 0.02),
        ("vector(0.07)", {"warn_above": 0.01, "fail_above": 0.05}, Status.FAIL, 0.07),
        ("scalar(vector(3))", {"fail_above": 5}, Status.PASS, 3.0),
        ("vector(1)", {"warn_below": 2, "fail_below": 0.5}, Status.WARN, 1.0),
        ("vector(1)", {"fail_below": 2}, Status.FAIL, 1.0),
    ],
)
async def test_the_value_is_graded_against_the_thresholds(
    prometheus: OwnedServer,
    query: str,
    options: dict[str, Any],
    expected: Status,
    value: float,
) -> None:
    result = await one(PrometheusQueryCheck(url(prometheus), query, **options))
    assert result.status is expected, result.output
    assert result.observed_value == value
    assert result.details["http_status"] == 200


@pytest.mark.asyncio
@pytest.mark.parametrize("timeout", [0.5, 1.25, 3])
async def test_the_timeout_is_sent_in_a_form_prometheus_accepts(
    prometheus: OwnedServer, timeout: float
) -> None:
    result = await one(PrometheusQueryCheck(url(prometheus), "vector(1)", timeout=timeout))
    assert result.status is Status.PASS, result.output


@pytest.mark.asyncio
async def test_the_worst_series_decides_and_its_labels_are_shown(prometheus: OwnedServer) -> None:
    query = 'vector(1) or label_replace(vector(7), "shard", "b", "", "")'
    result = await one(PrometheusQueryCheck(url(prometheus), query, fail_above=5))
    assert result.status is Status.FAIL
    assert result.observed_value == 7.0
    assert result.details["labels"] == {"shard": "b"}
    assert result.details["series"] == 2
    assert result.output == "value 7 (fail at 5 or above)"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("on_empty", "expected"),
    [("fail", Status.FAIL), ("pass", Status.PASS), ("warn", Status.WARN)],
)
@pytest.mark.parametrize("query", ['up{job="gone"}', "vector(0) / 0"])
async def test_no_series_or_nan_follows_on_empty(
    prometheus: OwnedServer, query: str, on_empty: Any, expected: Status
) -> None:
    result = await one(PrometheusQueryCheck(url(prometheus), query, on_empty=on_empty))
    assert result.status is expected, result.output
    assert result.output.startswith("the query returned no")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "reason"),
    [("sum(", "bad_data"), ('up{job="prometheus"}[1m]', "a matrix")],
)
async def test_a_rejected_query_or_a_range_vector_fails(
    prometheus: OwnedServer, query: str, reason: str
) -> None:
    result = await one(PrometheusQueryCheck(url(prometheus), query))
    assert result.status is Status.FAIL
    assert reason in result.output


@pytest.mark.asyncio
async def test_100_runs_use_one_connection(prometheus: OwnedServer) -> None:
    health = Health()
    health.add(PrometheusQueryCheck(url(prometheus), "vector(1)"))
    before = accepted(prometheus)
    for _ in range(100):
        result, _ = await run_once(health, "prometheus_query")
        assert result.status is Status.PASS, result.output
    await health.astop()
    # One is the check's; one the second reading's own; Prometheus's scraper
    # (keep-alive) may rarely open one more.  A connection per run would be 100.
    opened = accepted(prometheus) - before - 1
    assert 1 <= opened <= 2


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    check = PrometheusQueryCheck(f"http://127.0.0.1:{port}", "up", timeout=1.0)
    assert (await timed_failure(check)).output


@pytest.mark.asyncio
async def test_scraped_series_are_graded(prometheus: OwnedServer) -> None:
    # Placed late in the module: the first scrape lands while the tests above run.
    wait_scraped(prometheus)
    query = 'up{job="prometheus"}'
    passed = await one(PrometheusQueryCheck(url(prometheus), query, fail_below=1))
    assert passed.status is Status.PASS, passed.output
    assert passed.observed_value == 1.0
    assert passed.details["labels"] == {
        "__name__": "up",
        "instance": f"127.0.0.1:{prometheus.port}",
        "job": "prometheus",
    }
    failed = await one(PrometheusQueryCheck(url(prometheus), query, fail_below=2))
    assert failed.status is Status.FAIL
    assert failed.output == "value 1 (fail below 2)"


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(prometheus: OwnedServer) -> None:
    health = Health()
    health.add(PrometheusQueryCheck(url(prometheus), "vector(1)", timeout=1.0))
    assert (await run_once(health, "prometheus_query"))[0].status is Status.PASS
    prometheus.stop()
    assert (await run_once(health, "prometheus_query"))[0].status is Status.FAIL
    prometheus.start()
    wait_ready(prometheus)
    up, _ = await run_once(health, "prometheus_query")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["served", "closed"])
async def test_canary_password_never_leaks(
    where: str, prometheus: OwnedServer, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = prometheus.port if where == "served" else closed_port
    check = PrometheusQueryCheck(
        f"http://reader:{CANARY}@127.0.0.1:{port}",
        "vector(1)",
        headers={"X-Scope-OrgID": "tenant", "Authorization-Extra": CANARY},
        timeout=1.0,
    )
    health = Health()
    health.add(check)
    result, report = await run_once(health, "prometheus_query")
    await health.astop()
    assert result.status is (Status.PASS if where == "served" else Status.FAIL), result.output
    assert_no_canary(result, report, caplog, check)


@pytest.mark.asyncio
async def test_users_client_is_used_and_left_open(prometheus: OwnedServer) -> None:
    async with httpx.AsyncClient() as client:
        result = await one(PrometheusQueryCheck(url(prometheus), "vector(1)", client=client))
        assert result.status is Status.PASS, result.output
        assert not client.is_closed


def test_not_prometheus_fails_and_bad_options_are_refused() -> None:
    check = PrometheusQueryCheck("http://127.0.0.1:9", "up")
    assert check.judge(200, b"<html>").status is Status.FAIL
    with pytest.raises(ConfigurationError, match="query"):
        PrometheusQueryCheck("http://127.0.0.1:9", " ")
    with pytest.raises(ConfigurationError, match="warn_above"):
        PrometheusQueryCheck("http://127.0.0.1:9", "up", warn_above=5, fail_above=1)
    with pytest.raises(ConfigurationError, match="warn_below"):
        PrometheusQueryCheck("http://127.0.0.1:9", "up", warn_below=1, fail_below=5)
    with pytest.raises(ConfigurationError, match="on_empty"):
        PrometheusQueryCheck("http://127.0.0.1:9", "up", on_empty="maybe")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as info:
        PrometheusQueryCheck(f"ftp://u:{CANARY}@h/", "up")
    assert CANARY not in str(info.value)
