"""/metrics and /health/ui served by healthprobe's ASGI layer (through httpx.ASGITransport)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from healthprobe import CheckResult, Health
from healthprobe.integrations.asgi import HealthApp, HealthMiddleware

TOKEN = "t0ken-that-is-long-enough"


def make_health() -> Health:
    health = Health()
    health.add(lambda: True, name="database")
    health.add(lambda: CheckResult.failed("password=hunter2 refused <b>"), name="search")
    health.lifecycle.mark_started()
    return health


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")


@pytest.mark.asyncio
async def test_metrics_answer_200_while_readiness_fails_and_never_run_a_check() -> None:
    health = make_health()
    async with client(HealthApp(health, drain=None)) as http:
        assert (await http.get("/readyz")).status_code == 503
        runs = health.executions("search")
        response = await http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert health.executions("search") == runs
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(response.text)
            for s in f.samples
        }
        assert samples[("healthprobe_check_status", (("check", "search"), ("status", "fail")))] == 1
        assert samples[("healthprobe_check_failures_total", (("check", "search"),))] == 1
        assert samples[("healthprobe_probe_up", (("probe", "ready"),))] == 0
        head = await http.head("/metrics")
        assert head.status_code == 200
        assert head.content == b""
        assert (await http.post("/metrics")).status_code == 405


@pytest.mark.asyncio
async def test_paths_are_configurable_and_can_be_turned_off() -> None:
    health = make_health()
    app = HealthApp(health, drain=None, prefix="/_", metrics_path="/prom", ui_path=None)
    async with client(app) as http:
        assert (await http.get("/_/prom")).status_code == 200
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/_/metrics")).status_code == 404
        # /health/ui is off: "ui" is then read as a check name, and there is none
        assert (await http.get("/_/health/ui")).status_code == 404


@pytest.mark.asyncio
async def test_status_page_follows_the_details_policy_with_a_strict_csp() -> None:
    health = make_health()
    async with client(HealthApp(health, drain=None, token=TOKEN)) as http:
        await http.get("/health")
        public = await http.get("/health/ui")
        assert public.status_code == 200
        assert public.headers["content-type"] == "text/html; charset=utf-8"
        csp = public.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce is not None
        assert f'<style nonce="{nonce.group(1)}">' in public.text
        assert "script-src 'none'" in csp
        assert public.headers["cache-control"] == "no-store"
        assert 'data-check="search"' in public.text
        assert "reason withheld" in public.text
        assert "refused" not in public.text
        authorized = await http.get("/health/ui", headers={"Authorization": f"Bearer {TOKEN}"})
        assert "password=*** refused &lt;b&gt;" in authorized.text
        assert "hunter2" not in authorized.text
        second = await http.get("/health/ui")
        assert second.headers["content-security-policy"] != csp  # a fresh nonce each time

    async with client(HealthApp(make_health(), drain=None, details="never")) as http:
        hidden = await http.get("/health/ui")
        assert hidden.status_code == 200
        assert "data-check" not in hidden.text
        assert "search" not in hidden.text


@pytest.mark.asyncio
async def test_the_middleware_answers_them_before_the_app() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"the app"})

    async with client(HealthMiddleware(app, make_health(), drain=None)) as http:
        assert (await http.get("/metrics")).status_code == 200
        assert (await http.get("/health/ui")).status_code == 200
        assert (await http.get("/other")).status_code == 418
