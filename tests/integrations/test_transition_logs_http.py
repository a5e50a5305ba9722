"""10,000 requests to /readyz against a failing check: one "failed" record, then one "recovered"."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from healthprobe import CheckResult, Health
from healthprobe.integrations.asgi import HealthApp
from healthprobe.observability import TransitionLog


class Switch:
    def __init__(self) -> None:
        self.ok = False
        self.calls = 0

    async def __call__(self) -> CheckResult:
        self.calls += 1
        return CheckResult.passed() if self.ok else CheckResult.failed("connection refused")


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_ten_thousand_readyz_requests_log_one_failure_and_one_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthprobe")
    health = Health()
    database = Switch()
    health.add(database, name="database")
    TransitionLog.of(health)
    health.lifecycle.mark_started()
    app = HealthApp(health, drain=None)
    transport = httpx.ASGITransport(app=app)
    started = time.monotonic()
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        for _ in range(10_000):
            assert (await client.get("/readyz")).status_code == 503
        database.ok = True
        for _ in range(100):
            assert (await client.get("/readyz")).status_code == 200
    elapsed = time.monotonic() - started
    assert database.calls == 10_100  # every request really ran the check
    got = [
        (r.healthprobe_event, r.healthprobe_scope, r.levelno)  # type: ignore[attr-defined] # set through `extra`
        for r in caplog.records
        if hasattr(r, "healthprobe_event")
    ]
    assert got == [
        ("failed", "check", logging.ERROR),
        ("failed", "overall", logging.ERROR),
        ("recovered", "check", logging.ERROR),  # at the level of its failure (issue 13.12)
        ("recovered", "overall", logging.ERROR),
    ]
    # and nothing else: no record per request from any layer
    assert len([r for r in caplog.records if r.name.startswith("healthprobe")]) == 4
    assert elapsed < 100
