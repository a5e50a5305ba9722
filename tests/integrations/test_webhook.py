"""The webhook notifier against a real local HTTP receiver (stdlib http.server in a thread).

One notification per transition, delivered after the receiver was down for a
while (retries with backoff), in order, without delaying a probe response.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from healthprobe import Health
from healthprobe.integrations.asgi import HealthApp
from healthprobe.observability import WebhookNotifier
from tests.conftest import free_port

from ._webhook_receiver import Receiver, make

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    yield receiver
    receiver.stop()


async def probe_latencies(client: httpx.AsyncClient, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get("/readyz")
        latencies.append(time.perf_counter() - started)
        assert response.status_code in (200, 503)
    return latencies


def client_for(health: Health) -> httpx.AsyncClient:
    health.lifecycle.mark_started()
    app = HealthApp(health, drain=None)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.asyncio
async def test_one_notification_per_transition_and_a_slow_receiver_never_delays_readyz(
    receiver: Receiver,
) -> None:
    receiver.start()
    health, switch, notifier = make(receiver.url)
    async with client_for(health) as client:
        baseline = await probe_latencies(client, 50)
        receiver.delay = 1.0  # every delivery now takes a second
        switch.ok = False
        during = await probe_latencies(client, 50)  # the first of these sends "failed"
        switch.ok = True
        during += await probe_latencies(client, 50)  # and "recovered" is queued behind it
    notifier.close(timeout=10)
    assert receiver.events() == [("db", "failed"), ("db", "recovered")]
    assert notifier.stats.delivered == 2
    # The probes never waited for a delivery (each takes 1 s): generous bounds.
    assert max(during) < 0.5
    assert statistics.median(during) < statistics.median(baseline) * 5 + 0.01


@pytest.mark.asyncio
async def test_delivered_once_after_the_receiver_was_down_for_a_while(
    receiver: Receiver,
) -> None:
    health, switch, notifier = make(receiver.url)  # nothing listens yet
    async with client_for(health) as client:
        switch.ok = False
        latencies = await probe_latencies(client, 20)
        await asyncio.sleep(1.0)  # the notifier retries against a closed port meanwhile
        assert notifier.stats.attempts >= 3
        assert notifier.stats.delivered == 0
        receiver.start()
        receiver.wait_for(1)
        switch.ok = True
        latencies += await probe_latencies(client, 20)
    receiver.wait_for(2)
    notifier.close(timeout=5)
    assert receiver.events() == [("db", "failed"), ("db", "recovered")]
    assert max(latencies) < 0.5


@pytest.mark.asyncio
async def test_5xx_is_retried_4xx_is_given_up_without_leaking_the_url(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.start()
    receiver.answers = [503, 502, 204, 400]  # "failed": two retries; "recovered": a 400
    health, switch, notifier = make(receiver.url)
    switch.ok = False
    await health.arun()
    switch.ok = True
    await health.arun()
    notifier.close(timeout=10)
    assert receiver.events() == [("db", "failed")]
    assert (notifier.stats.delivered, notifier.stats.failed, notifier.stats.attempts) == (1, 1, 4)
    messages = " ".join(r.getMessage() for r in caplog.records if r.name == "healthprobe")
    assert "HTTP 400" in messages
    assert "s3cret" not in messages
    assert str(receiver.port) not in messages


@pytest.mark.asyncio
async def test_giving_up_on_a_dead_receiver_logs_no_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/T0KEN-s3cret"
    health, switch, notifier = make(url)
    notifier.attempts = 3
    switch.ok = False
    await health.arun()
    notifier.close(timeout=10)
    assert (notifier.stats.attempts, notifier.stats.failed) == (3, 1)
    messages = [r.getMessage() for r in caplog.records if r.name == "healthprobe"]
    assert any("failed after 3 attempt(s)" in m for m in messages)
    assert not any("s3cret" in m or str(port) in m or "127.0.0.1" in m for m in messages)


@pytest.mark.asyncio
async def test_slack_style_posts_only_text(receiver: Receiver) -> None:
    receiver.start()
    health, switch, notifier = make(receiver.url, style="slack", service="checkout")
    switch.ok = False
    await health.arun()
    notifier.close(timeout=10)
    assert receiver.bodies == [{"text": "[checkout] check db failed: connection refused"}]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: WebhookNotifier("file:///etc/passwd"), "http"),
        (lambda: WebhookNotifier("http://127.0.0.1:1/", style="xml"), "style"),  # type: ignore[arg-type] # the point
        (lambda: WebhookNotifier("http://127.0.0.1:1/", attempts=0), "attempts"),
    ],
)
def test_bad_configuration_is_refused(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_a_full_queue_drops_instead_of_blocking(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="healthprobe")
    import datetime as dt

    from healthprobe import Status
    from healthprobe.observability import StatusChange

    port = free_port()  # nothing listens: the first delivery keeps retrying
    notifier = WebhookNotifier(
        f"http://127.0.0.1:{port}/", queue_size=2, attempts=1000, backoff=0.05, max_backoff=0.05
    )
    change = StatusChange(
        "check", "db", "failed", Status.PASS, Status.FAIL, dt.datetime.now(dt.timezone.utc)
    )
    started = time.monotonic()
    for _ in range(10):
        notifier(change)
    assert time.monotonic() - started < 0.5
    assert notifier.stats.dropped >= 6
    assert any("queue full" in r.getMessage() for r in caplog.records)
    notifier.close(timeout=0.2)
