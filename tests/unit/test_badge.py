"""Status badges: one SVG per probe and per check, from the last readings, never running one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from healthprobe import CheckResult, Health, Status
from healthprobe.integrations.asgi import HealthApp
from healthprobe.observe.badge import badge, render_badge

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("status", "colour", "text"),
    [
        (Status.PASS, "#1a7f37", "healthy"),
        (Status.WARN, "#b7791f", "degraded"),
        (Status.UNKNOWN, "#6e7781", "unknown"),
        (Status.FAIL, "#cf222e", "unhealthy"),
    ],
)
def test_a_badge_shows_the_label_and_the_status_in_its_colour(
    status: Status, colour: str, text: str
) -> None:
    root = ET.fromstring(render_badge("ready", status))
    assert root.tag == f"{SVG}svg"
    assert root.get("data-status") == status.value
    texts = [node.text for node in root.iter(f"{SVG}text")]
    assert texts == ["ready", text]
    fills = [rect.get("fill") for rect in root.iter(f"{SVG}rect")]
    assert fills[-1] == colour
    assert not list(root.iter(f"{SVG}script"))


def test_a_label_is_escaped_and_bounded() -> None:
    root = ET.fromstring(render_badge('<script>"x"&' + "y" * 100, Status.PASS))
    label = next(root.iter(f"{SVG}text")).text
    assert label is not None
    assert label.startswith('<script>"x"&')  # parsed back from escaped text
    assert len(label) == 48


@pytest.mark.asyncio
async def test_badges_read_the_last_readings_without_running_a_check() -> None:
    health = Health()
    calls = 0

    def db() -> bool:
        nonlocal calls
        calls += 1
        return False

    health.add(db, name="db")
    health.add(lambda: True, name="cache", critical=False, probes=["ready", "live"])
    assert 'data-status="unknown"' in (badge(health, "check/db") or "")
    assert calls == 0
    health.lifecycle.mark_started()
    await health.arun()
    assert 'data-status="fail"' in (badge(health, "check/db") or "")
    assert 'data-status="fail"' in (badge(health, "ready") or "")
    assert 'data-status="pass"' in (badge(health, "live") or "")
    assert 'data-status="fail"' in (badge(health, "health") or "")
    assert badge(health, "nope") is None
    assert badge(health, "check/nope") is None
    assert badge(health, "check/db", checks_shown=False) is None
    assert calls == 1


def _client(health: Health, **options: object) -> httpx.AsyncClient:
    app = HealthApp(health, drain=None, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")


@pytest.mark.asyncio
async def test_the_badge_endpoints_over_http() -> None:
    health = Health()
    health.add(lambda: CheckResult.failed("down"), name="db.v2")
    health.lifecycle.mark_started()
    async with _client(health) as client:
        await client.get("/health")
        ready = await client.get("/health/badge/ready.svg")
        check = await client.get("/health/badge/check/db.v2.svg")
        missing = await client.get("/health/badge/nope.svg")
        head = await client.head("/health/badge/ready.svg")
        post = await client.post("/health/badge/ready.svg")
    assert ready.status_code == check.status_code == 200
    assert ready.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert ready.headers["content-security-policy"].startswith("default-src 'none'")
    assert ready.headers["cache-control"] == "no-store"
    assert ET.fromstring(ready.text).get("data-status") == "fail"
    assert ET.fromstring(check.text).get("data-label") == "db.v2"
    assert missing.status_code == 404
    assert head.status_code == 200
    assert head.content == b""
    assert post.status_code == 405


@pytest.mark.asyncio
async def test_per_check_badges_follow_the_details_policy_and_can_be_turned_off() -> None:
    health = Health()
    health.add(lambda: True, name="db")
    async with _client(health, details="never") as client:
        assert (await client.get("/health/badge/check/db.svg")).status_code == 404
        assert (await client.get("/health/badge/live.svg")).status_code == 200
    async with _client(health, badge_path=None) as client:
        assert (await client.get("/health/badge/live.svg")).status_code == 404
