"""NatsCheck against the machine's NATS and test-owned nats-servers (counted via /connz)."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from pathlib import Path

import nats
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.nats import NatsCheck
from tests.conftest import require_server
from tests.services._owned_servers import owned_nats
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
)

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

LIVE = "nats://127.0.0.1:4222"


@pytest.mark.asyncio
async def test_passes_against_the_live_server_with_jetstream() -> None:
    require_server("NATS", 4222)
    health = Health()
    health.add(NatsCheck(LIVE, jetstream=True))
    result, report = await run_once(health, "nats")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.component_type == "component"
    assert result.details["server_version"].count(".") == 2
    assert isinstance(result.details["streams"], int)
    assert report.ok


@pytest.mark.asyncio
async def test_users_client_is_used_and_left_open() -> None:
    require_server("NATS", 4222)
    client = await nats.connect(LIVE)
    health = Health()
    health.add(NatsCheck(client, name="bus"))
    result, _ = await run_once(health, "bus")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert client.is_connected  # astop() left the user's client alone
    await client.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(NatsCheck(f"nats://127.0.0.1:{port}", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
async def test_jetstream_off_fails(tmp_path: Path) -> None:
    with owned_nats(tmp_path) as server:  # started without -js
        health = Health()
        health.add(NatsCheck(f"nats://127.0.0.1:{server.port}", jetstream=True, timeout=1.0))
        result, _ = await run_once(health, "nats")
        await health.astop()
    assert result.status is Status.FAIL


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_canary_password_never_leaks(
    kind: str, closed_port: int, silent_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = closed_port if kind == "closed" else silent_port
    check = NatsCheck(f"nats://admin:{CANARY}@127.0.0.1:{port}", timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "nats")
    await health.astop()
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)


@pytest.mark.asyncio
async def test_200_runs_use_one_server_connection(tmp_path: Path) -> None:
    tag = f"hp-{uuid.uuid4().hex[:12]}"
    with owned_nats(tmp_path) as server:
        health = Health()
        health.add(NatsCheck(f"nats://127.0.0.1:{server.port}", connection_name=tag))
        for _ in range(200):
            result, _ = await run_once(health, "nats")
            assert result.status is Status.PASS, result.output
        connections = server.connections_named(tag)
        assert len(connections) == 1, server.connz()
        first_cid = connections[0]["cid"]
        await run_once(health, "nats")
        assert [c["cid"] for c in server.connections_named(tag)] == [first_cid]
        await health.astop()
        assert await eventually(lambda: server.connections_named(tag) == [])


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(tmp_path: Path) -> None:
    with owned_nats(tmp_path) as server:
        health = Health()
        health.add(NatsCheck(f"nats://127.0.0.1:{server.port}", timeout=1.0))
        assert (await run_once(health, "nats"))[0].status is Status.PASS
        server.stop()
        down, _ = await run_once(health, "nats")
        assert down.status is Status.FAIL
        assert (await run_once(health, "nats"))[0].status is Status.FAIL
        server.start()
        up, _ = await run_once(health, "nats")
        assert up.status is Status.PASS, up.output
        assert len(server.connections_named("healthprobe")) == 1, server.connz()
        await health.astop()


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        NatsCheck(LIVE, timeout=0)
    with pytest.raises(ConfigurationError, match="servers"):
        NatsCheck([])


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
def test_a_new_event_loop_gets_a_new_connection(tmp_path: Path) -> None:
    # The kept connection belongs to a finished loop: its state can no longer be
    # trusted, so a run on a new loop connects anew (and sees the server down).
    with owned_nats(tmp_path) as server:
        health = Health()
        health.add(NatsCheck(f"nats://127.0.0.1:{server.port}", timeout=1.0))

        async def status(*, close: bool = False) -> Status:
            result = (await run_once(health, "nats"))[0]
            if close:  # on the loop the connection belongs to
                await health.astop()
            return result.status

        assert asyncio.run(status()) is Status.PASS
        server.stop()
        assert asyncio.run(status()) is Status.FAIL
        server.start()
        assert asyncio.run(status(close=True)) is Status.PASS
        gc.collect()  # any warning about the dropped socket is raised here, under the filter
