"""RabbitMQCheck against the machine's RabbitMQ, connections counted with rabbitmqctl."""

from __future__ import annotations

import logging
import shutil
import subprocess
import uuid

import aio_pika
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.rabbitmq import RabbitMQCheck
from tests.conftest import require_server
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
)

pytestmark = [pytest.mark.services, pytest.mark.timeout(90)]

LIVE = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def live() -> None:
    require_server("RabbitMQ", 5672)


def connection_pids(tag: str) -> list[str]:
    """The broker's connections whose client-declared name is ``tag`` (rabbitmqctl)."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        pytest.skip("rabbitmqctl is not installed")
    out = subprocess.run(
        [rabbitmqctl, "list_connections", "-q", "--no-table-headers", "pid", "client_properties"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    needle = f'{{"connection_name","{tag}"}}'
    return [line.split("\t", 1)[0] for line in out.splitlines() if needle in line]


def close_on_broker(pid: str) -> None:
    """Close a connection from the broker's side, as an operator (or a crash) would."""
    subprocess.run(
        ["rabbitmqctl", "close_connection", pid, "closed by a healthprobe test"],
        capture_output=True,
        timeout=30,
        check=True,
    )


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
async def test_passes_against_the_live_server() -> None:
    health = Health()
    health.add(RabbitMQCheck(LIVE))
    result, report = await run_once(health, "rabbitmq")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.component_type == "component"
    assert result.details["server_version"].count(".") >= 2
    assert report.ok


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
async def test_users_connection_is_used_and_left_open() -> None:
    connection = await aio_pika.connect(LIVE)
    health = Health()
    health.add(RabbitMQCheck(connection, name="broker"))
    result, _ = await run_once(health, "broker")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert not connection.is_closed  # astop() closed only the check's channel
    await connection.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(RabbitMQCheck(f"amqp://guest:guest@127.0.0.1:{port}/"))
    assert result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["closed", "live"])
async def test_canary_password_never_leaks(
    where: str, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Against the live broker the login is refused (wrong password).
    if where == "live":
        require_server("RabbitMQ", 5672)
    port = 5672 if where == "live" else closed_port
    caplog.set_level(logging.DEBUG)
    check = RabbitMQCheck(f"amqp://guest:{CANARY}@127.0.0.1:{port}/", timeout=2.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "rabbitmq")
    await health.astop()
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
async def test_200_runs_use_one_connection_and_reopen_after_a_broker_close() -> None:
    tag = f"hp-{uuid.uuid4().hex[:12]}"
    health = Health()
    health.add(RabbitMQCheck(LIVE, connection_name=tag))
    for _ in range(200):
        result, _ = await run_once(health, "rabbitmq")
        assert result.status is Status.PASS, result.output
    pids = connection_pids(tag)
    assert len(pids) == 1
    # The broker closes the connection: one run fails or notices, then the
    # same instance reopens and passes again, still with one connection.
    close_on_broker(pids[0])
    assert await eventually(lambda: connection_pids(tag) == [], within=15)
    statuses = [(await run_once(health, "rabbitmq"))[0].status for _ in range(2)]
    assert statuses[-1] is Status.PASS, statuses
    reopened = connection_pids(tag)
    assert len(reopened) == 1
    assert reopened != pids
    await health.astop()
    assert await eventually(lambda: connection_pids(tag) == [], within=15)


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        RabbitMQCheck(LIVE, timeout=-1)
    with pytest.raises(ConfigurationError) as info:
        RabbitMQCheck(f"redis://u:{CANARY}@example.com")
    assert CANARY not in str(info.value)
