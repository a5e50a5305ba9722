"""MqttCheck against the machine's Mosquitto and test-owned brokers (connections from its log)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.mqtt import MqttCheck
from tests.conftest import require_server
from tests.services._owned_servers import OwnedMosquitto, owned_mosquitto
from tests.services._probe_asserts import CANARY, assert_no_canary, run_once, timed_failure

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

LIVE = "mqtt://127.0.0.1:1883"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[OwnedMosquitto]:
    with owned_mosquitto(tmp_path) as server:
        yield server


async def wait_for_log(broker: OwnedMosquitto, client_id: str, count: int) -> int:
    """The broker logs a connection a moment after CONNACK: wait (bounded) for the line."""
    deadline = time.monotonic() + 3
    seen = broker.connections_from(client_id)
    while seen < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        seen = broker.connections_from(client_id)
    return seen


@pytest.mark.asyncio
@pytest.mark.parametrize("round_trip", [False, True])
async def test_passes_against_the_live_broker(round_trip: bool) -> None:
    require_server("Mosquitto", 1883)
    health = Health()
    health.add(MqttCheck(LIVE, round_trip=round_trip))
    for _ in range(3):
        result, report = await run_once(health, "mqtt")
        assert result.status is Status.PASS, result.output
    await health.astop()
    assert result.component_type == "component"
    assert report.ok


@pytest.mark.asyncio
async def test_users_client_is_looked_at_and_left_connected() -> None:
    require_server("Mosquitto", 1883)
    async with aiomqtt.Client("127.0.0.1", 1883) as client:
        health = Health()
        health.add(MqttCheck(client, name="bus"))
        result, _ = await run_once(health, "bus")
        await health.astop()
        assert result.status is Status.PASS, result.output
        await client.publish("healthprobe/test", b"still connected", timeout=2)
    with pytest.raises(ConfigurationError, match="round_trip"):
        MqttCheck(client, round_trip=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(MqttCheck(f"mqtt://127.0.0.1:{port}", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_canary_password_never_leaks(
    kind: str,
    closed_port: int,
    silent_port: int,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Let the driver's own (normally silenced) log lines through, to check them too.
    driver = logging.getLogger("healthprobe.mqtt.driver")
    monkeypatch.setattr(driver, "handlers", [logging.NullHandler()])
    monkeypatch.setattr(driver, "propagate", True)
    port = closed_port if kind == "closed" else silent_port
    check = MqttCheck(f"mqtt://admin:{CANARY}@127.0.0.1:{port}", timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "mqtt")
    await health.astop()
    assert result.status is Status.FAIL
    assert any(r.name == "healthprobe.mqtt.driver" for r in caplog.records)
    assert_no_canary(result, report, caplog, check)


@pytest.mark.asyncio
@pytest.mark.parametrize("round_trip", [False, True])
async def test_200_runs_use_one_connection(round_trip: bool, broker: OwnedMosquitto) -> None:
    check = MqttCheck(f"mqtt://127.0.0.1:{broker.port}", round_trip=round_trip)
    health = Health()
    health.add(check)
    for _ in range(200):
        result, _ = await run_once(health, "mqtt")
        assert result.status is Status.PASS, result.output
    assert await wait_for_log(broker, check.client_id, 1) == 1
    await asyncio.sleep(0.3)  # a second connection, had there been one, would be logged by now
    assert broker.connections_from(check.client_id) == 1
    await health.astop()


@pytest.mark.asyncio
@pytest.mark.parametrize("round_trip", [False, True])
async def test_same_instance_survives_a_broker_restart(
    round_trip: bool, broker: OwnedMosquitto
) -> None:
    check = MqttCheck(f"mqtt://127.0.0.1:{broker.port}", round_trip=round_trip, timeout=1.0)
    health = Health()
    health.add(check)
    assert (await run_once(health, "mqtt"))[0].status is Status.PASS
    broker.stop()
    # Without a round trip, the lost connection is seen once the event loop has
    # read the socket's end: at the latest on the second run.
    statuses = [(await run_once(health, "mqtt"))[0].status for _ in range(3)]
    assert statuses[-2:] == [Status.FAIL, Status.FAIL], statuses
    broker.start()
    up, _ = await run_once(health, "mqtt")
    assert up.status is Status.PASS, up.output
    # One connection before the restart, one after it (the broker appends to its log).
    assert await wait_for_log(broker, check.client_id, 2) == 2
    await health.astop()


def test_bad_url_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError) as info:
        MqttCheck(f"http://u:{CANARY}@example.com")
    assert CANARY not in str(info.value)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
def test_a_new_event_loop_gets_a_new_connection(broker: OwnedMosquitto) -> None:
    # The kept client belongs to a finished loop: its "connected" state is stale,
    # so a run on a new loop connects anew (and sees the broker down).
    health = Health()
    health.add(MqttCheck(f"mqtt://127.0.0.1:{broker.port}", timeout=1.0))

    async def status(*, close: bool = False) -> Status:
        result = (await run_once(health, "mqtt"))[0]
        if close:  # on the loop the connection belongs to
            await health.astop()
        return result.status

    assert asyncio.run(status()) is Status.PASS
    broker.stop()
    assert asyncio.run(status()) is Status.FAIL
    broker.start()
    assert asyncio.run(status(close=True)) is Status.PASS
    gc.collect()  # any warning about the dropped socket is raised here, under the filter
