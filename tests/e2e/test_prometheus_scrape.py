"""A real Prometheus server scrapes a real uvicorn app and finds every check's status."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES, free_port
from tests.e2e._processes import observed_app, process, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

CHECKS = {"database", "search", "queue"}


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        message = "prometheus is not installed (Debian package prometheus)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


def query(base: str, promql: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=5.0)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_prometheus_scrapes_healthprobe_check_status_for_each_check(tmp_path: Path) -> None:
    binary = prometheus_binary()
    with observed_app(tmp_path) as app:
        target = app.removeprefix("http://")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n"
            "  scrape_interval: 1s\n"
            "  scrape_timeout: 1s\n"
            "scrape_configs:\n"
            "  - job_name: healthprobe\n"
            "    metrics_path: /metrics\n"
            "    static_configs:\n"
            f"      - targets: ['{target}']\n"
        )
        port = free_port()
        log = tmp_path / "prometheus.log"
        args = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with process(args, log, cwd=tmp_path) as proc:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/-/ready", proc, log)
            found: dict[str, dict[str, str]] = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and set(found) != CHECKS:
                assert proc.poll() is None, log.read_text()[-3000:]
                results = query(base, "healthprobe_check_status == 1")
                found = {r["metric"]["check"]: r["metric"] for r in results}
                time.sleep(0.5)
            assert set(found) == CHECKS, (found, log.read_text()[-3000:])
            assert found["database"]["status"] == "pass"
            assert found["search"]["status"] == "fail"
            assert found["database"]["job"] == "healthprobe"
            # Every scrape succeeded although a check fails: /metrics answers 200.
            (up,) = query(base, 'up{job="healthprobe"}')
            assert up["value"][1] == "1"
            states = query(base, "count by (check) (healthprobe_check_status)")
            assert {r["metric"]["check"]: r["value"][1] for r in states} == dict.fromkeys(
                CHECKS, "4"
            )
            (failures,) = query(base, 'healthprobe_check_failures_total{check="search"}')
            assert float(failures["value"][1]) >= 1
            # Prometheus negotiates OpenMetrics first: the info family arrives as info.
            (info,) = query(base, "healthprobe_info")
            assert info["metric"]["version"] == "e2e"
