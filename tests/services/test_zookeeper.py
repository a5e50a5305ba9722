"""ZooKeeperCheck against a standalone ZooKeeper the tests start on a spare port."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.zookeeper import ZooKeeperCheck
from tests.services._owned_directory import OwnedZooKeeper, owned_zookeeper
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    run_once,
    timed_failure,
    wait_until,
)
from tests.services._sockets import local_ports_to

pytestmark = [pytest.mark.services, pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def zk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnedZooKeeper]:
    # One JVM for the module: its start is the slow part (measured in the CHANGELOG).
    started = time.monotonic()
    with owned_zookeeper(tmp_path_factory.mktemp("zk")) as server:
        server.start_seconds = time.monotonic() - started  # type: ignore[attr-defined]  # for -s output
        yield server


def hosts(zk: OwnedZooKeeper) -> str:
    return f"127.0.0.1:{zk.port}"


@pytest.fixture
def admin(zk: OwnedZooKeeper) -> Iterator[KazooClient]:
    client = KazooClient(hosts=hosts(zk), auth_data=[("digest", "admin:admin-pw")])
    client.start(timeout=10)
    yield client
    client.stop()
    client.close()


@pytest.mark.asyncio
async def test_reads_the_root_and_a_znode(zk: OwnedZooKeeper, admin: KazooClient) -> None:
    admin.ensure_path("/app/config")
    health = Health()
    health.add(ZooKeeperCheck(hosts(zk)))
    health.add(ZooKeeperCheck(hosts(zk), name="config", path="/app/config"))
    health.add(ZooKeeperCheck(hosts(zk), name="missing", path="/app/nothing"))
    report = await health.arun(None)
    await health.astop()
    root, config = report.checks["zookeeper"].result, report.checks["config"].result
    missing = report.checks["missing"].result
    assert root.status is Status.PASS, root.output
    assert root.details["children"] >= 2  # /zookeeper and /app
    assert config.status is Status.PASS, config.output
    assert missing.status is Status.FAIL
    assert "NoNode" in missing.output


@pytest.mark.asyncio
async def test_users_client_is_used_and_left_running(
    zk: OwnedZooKeeper, admin: KazooClient
) -> None:
    health = Health()
    health.add(ZooKeeperCheck(admin, name="app"))
    result, _ = await run_once(health, "app")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert admin.connected  # astop() did not stop the user's client


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(ZooKeeperCheck(f"127.0.0.1:{port}", timeout=1.0))
    assert result.output


def test_a_silent_server_frees_the_worker_thread_at_the_timeout(silent_port: int) -> None:
    # The engine stops waiting at the timeout anyway; the thread must stop too, not
    # sit out kazoo's session timeout (10 s) in a read from the silent server.
    check = ZooKeeperCheck(f"127.0.0.1:{silent_port}", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        check.check()
    assert time.monotonic() - started < 1.3
    check.close()


@pytest.mark.asyncio
async def test_100_runs_use_one_session(zk: OwnedZooKeeper) -> None:
    health = Health()
    health.add(ZooKeeperCheck(hosts(zk)))
    assert (await run_once(health, "zookeeper"))[0].status is Status.PASS
    (port,) = local_ports_to(zk.port)
    assert port in zk.client_ports()  # the server holds that one connection
    for _ in range(99):
        result, _ = await run_once(health, "zookeeper")
        assert result.status is Status.PASS, result.output
    assert local_ports_to(zk.port) == {port}
    assert port in zk.client_ports()
    await health.astop()
    assert wait_until(lambda: port not in zk.client_ports())


@pytest.mark.asyncio
async def test_a_wrong_digest_password_fails_and_never_leaks(
    zk: OwnedZooKeeper, admin: KazooClient, caplog: pytest.LogCaptureFixture
) -> None:
    acl = make_digest_acl("probe", "right-pw", read=True)
    if not admin.exists("/guarded"):
        admin.create("/guarded", b"", acl=[acl, make_digest_acl("admin", "admin-pw", all=True)])
    caplog.set_level(logging.DEBUG)
    right = ZooKeeperCheck(hosts(zk), name="right", path="/guarded",
                           username="probe", password="right-pw")  # fmt: skip
    wrong = ZooKeeperCheck(hosts(zk), name="wrong", path="/guarded",
                           username="probe", password=CANARY)  # fmt: skip
    health = Health()
    health.add(right)
    health.add(wrong)
    report = await health.arun(None)
    await health.astop()
    assert report.checks["right"].result.status is Status.PASS, report.checks["right"].result
    result = report.checks["wrong"].result
    assert result.status is Status.FAIL
    assert "NoAuth" in result.output
    assert_no_canary(result, report, caplog, wrong)


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(zk: OwnedZooKeeper) -> None:
    # Last in the module: it restarts the shared server.
    health = Health()
    health.add(ZooKeeperCheck(hosts(zk), timeout=1.0))
    assert (await run_once(health, "zookeeper"))[0].status is Status.PASS
    zk.stop()
    assert (await run_once(health, "zookeeper"))[0].status is Status.FAIL
    assert (await run_once(health, "zookeeper"))[0].status is Status.FAIL
    zk.start()
    # kazoo reconnects on its own, at most a second apart: the next runs pass.
    up, _ = await run_once(health, "zookeeper")
    if up.status is not Status.PASS:
        up, _ = await run_once(health, "zookeeper")
    assert up.status is Status.PASS, up.output
    await health.astop()


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="path"):
        ZooKeeperCheck("127.0.0.1:2181", path="app")
    with pytest.raises(ConfigurationError, match="together"):
        ZooKeeperCheck("127.0.0.1:2181", username="u")
    with pytest.raises(ConfigurationError, match="hosts") as info:
        ZooKeeperCheck(f"u:{CANARY}@127.0.0.1:2181")
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigurationError, match="session_timeout"):
        ZooKeeperCheck("127.0.0.1:2181", session_timeout=0.1)
