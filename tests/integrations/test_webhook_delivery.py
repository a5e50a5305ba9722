"""Webhook delivery as receivers expect it: Standard Webhooks signatures, Retry-After, templates.

Against a real local receiver (stdlib http.server); signatures are checked
with the reference ``standardwebhooks`` library, not with our own code.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from healthprobe import Health
from healthprobe.integrations.asgi import HealthApp
from healthprobe.observability import WebhookNotifier, pagerduty_events, teams_workflow
from healthprobe.observe.webhook import retry_after
from tests.conftest import free_port

from ._webhook_receiver import Receiver, Switch, make

pytestmark = pytest.mark.timeout(60)

SECRET = "whsec_" + base64.b64encode(b"k3y-Canary-pw-7f3a91-0123456789").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-key-0123456789abcdef").decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    receiver.start()
    yield receiver
    receiver.stop()


async def _fail_and_recover(health: Health, switch: Switch, receiver: Receiver) -> None:
    switch.ok = False
    await health.arun()
    switch.ok = True
    await health.arun()
    receiver.wait_for(2)


@pytest.mark.asyncio
async def test_signed_deliveries_verify_with_the_reference_library(receiver: Receiver) -> None:
    receiver.answers = [503]  # the first attempt is retried: the id must not change
    health, switch, notifier = make(receiver.url, secret=SECRET)
    await _fail_and_recover(health, switch, receiver)
    notifier.close()
    assert [b["event"] for b in receiver.bodies] == ["failed", "recovered"]
    ids = set()
    for _, headers, raw in receiver.requests:
        payload = Webhook(SECRET).verify(raw, headers)  # raises when the signature is wrong
        assert payload["event"] in ("failed", "recovered")
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
        ids.add(headers["webhook-id"])
        with pytest.raises(WebhookVerificationError):
            Webhook(OTHER_SECRET).verify(raw, headers)
    assert len(ids) == 2  # one id per change
    assert notifier.stats.attempts == 3


@pytest.mark.asyncio
async def test_every_attempt_is_signed_with_the_same_id(receiver: Receiver) -> None:
    receiver.answers = [503, 503]
    health, switch, notifier = make(receiver.url, secret=SECRET)
    switch.ok = False
    await health.arun()
    receiver.wait_for(1)
    notifier.close()
    assert len(receiver.attempts) == 3
    for headers, raw in receiver.attempts:
        Webhook(SECRET).verify(raw, headers)
    assert len({headers["webhook-id"] for headers, _ in receiver.attempts}) == 1


def test_a_malformed_secret_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValueError, match="whsec_") as error:
        WebhookNotifier("http://127.0.0.1:9/hook", secret="whsec_not-base64!!Canary")
    assert "Canary" not in str(error.value)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("0", 0.0),
        (email.utils.formatdate(1_000_030, usegmt=True), 30.0),
        (email.utils.formatdate(999_000, usegmt=True), 0.0),  # in the past: at once
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header: str | None, expected: float) -> None:
    assert retry_after(header, now=1_000_000) == expected


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_sets_the_wait_instead_of_the_backoff(
    receiver: Receiver, status: int
) -> None:
    receiver.answers = [status]
    receiver.answer_headers = [{"Retry-After": "1"}]
    health, switch, notifier = make(receiver.url)  # backoff 0.05 s
    switch.ok = False
    await health.arun()
    receiver.wait_for(1)
    notifier.close()
    gap = receiver.arrivals[1] - receiver.arrivals[0]
    assert 0.9 <= gap < 3.0, gap


@pytest.mark.asyncio
async def test_a_long_retry_after_is_capped(receiver: Receiver) -> None:
    receiver.answers = [503]
    receiver.answer_headers = [{"Retry-After": "3600"}]
    health, switch, notifier = make(receiver.url, max_retry_after=0.3)
    switch.ok = False
    await health.arun()
    receiver.wait_for(1, timeout=5)
    notifier.close()
    assert receiver.arrivals[1] - receiver.arrivals[0] < 2.0


@pytest.mark.asyncio
async def test_teams_workflow_template_posts_an_adaptive_card(receiver: Receiver) -> None:
    health, switch, notifier = make(receiver.url, template=teams_workflow(service="checkout"))
    await _fail_and_recover(health, switch, receiver)
    notifier.close()
    failed, recovered = receiver.bodies
    for message in (failed, recovered):
        assert message["type"] == "message"
        (attachment,) = message["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["content"]["type"] == "AdaptiveCard"
    title = failed["attachments"][0]["content"]["body"][0]
    assert title["text"] == "[checkout] check db failed"
    assert title["color"] == "Attention"
    reason = failed["attachments"][0]["content"]["body"][-1]["text"]
    assert reason == "connection refused"
    assert recovered["attachments"][0]["content"]["body"][0]["color"] == "Good"


@pytest.mark.asyncio
async def test_pagerduty_template_triggers_and_resolves_one_incident(receiver: Receiver) -> None:
    template = pagerduty_events("R0UTING-key", source="checkout-7f9c")
    health, switch, notifier = make(receiver.url, template=template)
    await _fail_and_recover(health, switch, receiver)
    notifier.close()
    trigger, resolve = receiver.bodies
    assert trigger["event_action"] == "trigger"
    assert resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "healthprobe:checkout-7f9c:check:db"
    assert trigger["routing_key"] == resolve["routing_key"] == "R0UTING-key"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] == "checkout-7f9c"
    assert trigger["payload"]["summary"] == "check db failed: connection refused"
    assert "payload" not in resolve


@pytest.mark.asyncio
async def test_a_template_that_raises_is_logged_and_the_probe_is_unaffected(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(change: object) -> object:
        raise RuntimeError("template bug")

    health, switch, notifier = make(receiver.url, template=broken)
    switch.ok = False
    with caplog.at_level(logging.ERROR, logger="healthprobe"):
        report = await health.arun()
    notifier.close()
    assert report.checks["db"].result.output == "connection refused"
    assert receiver.bodies == []
    assert any("webhook template failed" in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_notify_after_quiets_the_webhook_while_readyz_tells_the_truth(
    receiver: Receiver,
) -> None:
    health, switch, notifier = make(receiver.url, notify_after=2)
    health.lifecycle.mark_started()
    app = HealthApp(health, drain=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        switch.ok = False
        assert (await client.get("/readyz")).status_code == 503  # the probe: at once
        switch.ok = True
        assert (await client.get("/readyz")).status_code == 200
        await asyncio.sleep(0.3)
        assert receiver.bodies == []  # a one-reading flap is not worth a message
        switch.ok = False
        for _ in range(2):
            assert (await client.get("/readyz")).status_code == 503
        receiver.wait_for(1)
    notifier.close()
    assert [b["event"] for b in receiver.bodies] == ["failed"]
    assert receiver.bodies[0]["reminder"] is False
