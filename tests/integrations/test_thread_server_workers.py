"""The thread server answers a worker's states exactly as the ASGI layer does.

A small request table (the full cross-integration table lives with the
integrations) run in the states a worker goes through: beating, a
reported failing beat, silence past ``max_age``, and draining with work in
flight.  Each request goes to ``serve_in_thread`` over a real socket and to
the ASGI ``HealthApp`` of the same :class:`Health`; status, headers and the
normalized body must agree, and the states must read as a worker's
operator expects (liveness fails on a wedge, readiness on a drain).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import healthprobe
from healthprobe import Health, Heartbeat, Reported, Status
from healthprobe.integrations.asgi import HealthApp as AsgiHealthApp
from healthprobe.integrations.thread_server import ProbeServer

from .test_wsgi import TOKEN, _normalized

pytestmark = pytest.mark.timeout(60)

AUTH = {"authorization": f"Bearer {TOKEN}"}
TABLE = [
    ("GET", "/livez", {}),
    ("GET", "/livez?verbose", AUTH),
    ("GET", "/readyz", {}),
    ("GET", "/readyz?verbose", AUTH),
    ("GET", "/readyz?verbose", {}),
    ("GET", "/startupz", {}),
    ("GET", "/health", AUTH),
    ("GET", "/health/consumer", AUTH),
    ("GET", "/livez/consumer", {}),
    ("GET", "/readyz/broker", AUTH),
    ("GET", "/readyz", {"accept": "application/health+json"}),
    ("HEAD", "/livez", {}),
    ("HEAD", "/readyz", {}),
]


@pytest.fixture
def worker() -> Iterator[tuple[Health, Heartbeat, Reported, ProbeServer]]:
    health = Health(version="w")
    consumer = health.add(Heartbeat("consumer", max_age=0.5, grace=30), probes=("live", "ready"))
    broker = health.add(Reported("broker"))
    server = healthprobe.serve_in_thread(health, port=0, token=TOKEN, drain=None)
    try:
        yield health, consumer, broker, server
    finally:
        server.close()


def _answer(status: int, headers: dict[str, str], body: bytes) -> tuple[Any, ...]:
    # A heartbeat states its age (reason, details, observed value), which moves between
    # the two requests: every number becomes 0 on both sides (the JSON stays valid).
    scrubbed = re.sub(rb"\d+(?:\.\d+)?", b"0", body)
    return _normalized(status, {**headers, "content-length": str(len(scrubbed))}, scrubbed)


def _answers(health: Health, server: ProbeServer) -> tuple[list[Any], list[Any]]:
    asgi = AsgiHealthApp(health, token=TOKEN, drain=None)

    async def through_asgi() -> list[Any]:
        out = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(asgi), base_url="http://probe.test"
        ) as client:
            for method, target, headers in TABLE:
                r = await client.request(method, target, headers=headers)
                out.append(_answer(r.status_code, dict(r.headers), r.content))
        return out

    expected = asyncio.run(through_asgi())
    got = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for method, target, headers in TABLE:
            r = client.request(method, target, headers=headers)
            got.append(_answer(r.status_code, dict(r.headers), r.content))
    return expected, got


def _statuses(answers: list[Any]) -> dict[str, int]:
    return {
        f"{method} {target}{' (auth)' if headers else ''}": answer[0]
        for (method, target, headers), answer in zip(TABLE, answers, strict=True)
    }


def test_beating(worker: tuple[Health, Heartbeat, Reported, ProbeServer]) -> None:
    health, consumer, broker, server = worker
    consumer.beat()
    broker.report(Status.PASS, "connected")
    expected, got = _answers(health, server)
    assert got == expected
    statuses = _statuses(got)
    assert statuses["GET /livez"] == statuses["GET /readyz"] == 200
    assert statuses["GET /livez/consumer"] == 200


def test_a_reported_failing_beat(worker: tuple[Health, Heartbeat, Reported, ProbeServer]) -> None:
    health, consumer, broker, server = worker
    broker.report(Status.PASS, "connected")
    consumer.beat(ok=False, reason="poison message loop")
    expected, got = _answers(health, server)
    assert got == expected
    statuses = _statuses(got)
    assert statuses["GET /livez"] == statuses["GET /readyz"] == 503
    assert b"poison message loop" in got[TABLE.index(("GET", "/livez?verbose", AUTH))][3]


def test_silence_past_max_age(worker: tuple[Health, Heartbeat, Reported, ProbeServer]) -> None:
    health, consumer, broker, server = worker
    broker.report(Status.PASS, "connected")
    consumer.beat()
    time.sleep(0.8)  # past max_age (0.5 s); nothing beats meanwhile
    expected, got = _answers(health, server)
    assert got == expected
    assert _statuses(got)["GET /livez"] == 503
    assert b"no beat for" in got[TABLE.index(("GET", "/livez?verbose", AUTH))][3]


def test_draining_with_work_in_flight(
    worker: tuple[Health, Heartbeat, Reported, ProbeServer],
) -> None:
    health, consumer, broker, server = worker
    broker.report(Status.FAIL, "reconnecting")
    consumer.pause("shutting down")
    health.lifecycle.begin_drain()
    with health.lifecycle.work("job"):
        expected, got = _answers(health, server)
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert got == expected
    statuses = _statuses(got)
    assert statuses["GET /livez"] == 200  # draining and paused: not dead
    assert statuses["GET /readyz"] == 503
    assert "healthprobe_work_in_flight{} 1" in metrics
