"""EtcdCheck against etcd members the tests start on spare ports."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.etcd import EtcdCheck
from tests.services._owned_daemons import OwnedEtcd, owned_etcd
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
)
from tests.services._sockets import local_ports_to

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[OwnedEtcd]:
    with owned_etcd(tmp_path) as server:
        yield server


@pytest.mark.asyncio
async def test_passes_with_the_database_size(etcd: OwnedEtcd) -> None:
    health = Health()
    health.add(EtcdCheck(etcd.url))
    result, report = await run_once(health, "etcd")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert report.ok
    assert result.observed_unit == "bytes"
    assert isinstance(result.observed_value, int)
    assert result.observed_value > 0
    assert result.details["server_version"].startswith("3.")
    assert result.details["is_leader"] is True


@pytest.mark.asyncio
async def test_users_client_is_used_and_left_open(etcd: OwnedEtcd) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        health = Health()
        health.add(EtcdCheck(etcd.url, client=client, name="shared"))
        result, _ = await run_once(health, "shared")
        await health.astop()
        assert result.status is Status.PASS, result.output
        assert not client.is_closed  # astop() did not close the user's client
        assert local_ports_to(etcd.port)  # the user's kept-alive connection served it


@pytest.mark.asyncio
async def test_db_size_thresholds(etcd: OwnedEtcd) -> None:
    # A fresh member's database is 20 KiB.
    health = Health()
    health.add(EtcdCheck(etcd.url, name="ok", db_size_warn=1e9, db_size_fail=2e9))
    health.add(EtcdCheck(etcd.url, name="warns", db_size_warn=1000, db_size_fail=2e9))
    health.add(EtcdCheck(etcd.url, name="fails", db_size_warn=500, db_size_fail=1000))
    report = await health.arun(None)
    await health.astop()
    statuses = {n: report.checks[n].result.status for n in ("ok", "warns", "fails")}
    assert statuses == {"ok": Status.PASS, "warns": Status.WARN, "fails": Status.FAIL}


@pytest.mark.asyncio
async def test_an_alarm_fails_the_check(etcd: OwnedEtcd) -> None:
    member = int(etcd.call("/v3/maintenance/status", {})["header"]["member_id"])
    etcd.call("/v3/maintenance/alarm", {"action": "ACTIVATE", "memberID": member, "alarm": 1})
    health = Health()
    health.add(EtcdCheck(etcd.url))
    result, _ = await run_once(health, "etcd")
    await health.astop()
    assert result.status is Status.FAIL
    assert "NOSPACE" in result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(EtcdCheck(f"http://127.0.0.1:{port}", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(etcd: OwnedEtcd) -> None:
    health = Health()
    health.add(EtcdCheck(etcd.url, timeout=1.0))
    assert (await run_once(health, "etcd"))[0].status is Status.PASS
    etcd.stop()
    assert (await run_once(health, "etcd"))[0].status is Status.FAIL
    assert (await run_once(health, "etcd"))[0].status is Status.FAIL
    etcd.start()
    up, _ = await run_once(health, "etcd")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_200_runs_use_one_connection(etcd: OwnedEtcd) -> None:
    health = Health()
    health.add(EtcdCheck(etcd.url))
    assert local_ports_to(etcd.port) == set()
    for _ in range(200):
        result, _ = await run_once(health, "etcd")
        assert result.status is Status.PASS, result.output
    first = local_ports_to(etcd.port)
    assert len(first) == 1  # one connection, and always the same one
    await run_once(health, "etcd")
    assert local_ports_to(etcd.port) == first
    await health.astop()
    assert await eventually(lambda: local_ports_to(etcd.port) == set())


def _enable_auth(etcd: OwnedEtcd, password: str) -> None:
    etcd.call("/v3/auth/user/add", {"name": "root", "password": password})
    etcd.call("/v3/auth/user/grant", {"user": "root", "role": "root"})
    etcd.call("/v3/auth/enable", {})


@pytest.mark.asyncio
async def test_authenticates_once_and_keeps_the_token(etcd: OwnedEtcd) -> None:
    _enable_auth(etcd, "s3cret-pass")
    check = EtcdCheck(etcd.url, username="root", password="s3cret-pass")
    health = Health()
    health.add(check)
    for _ in range(3):
        result, _ = await run_once(health, "etcd")
        assert result.status is Status.PASS, result.output
    token = check._token  # private, pinned here: one authentication for all runs
    assert token
    assert (await run_once(health, "etcd"))[0].status is Status.PASS
    assert check._token == token
    await health.astop()
    # etcd serves its status to anyone; the credentials are what a wrong one proves.
    wrong = Health()
    wrong.add(EtcdCheck(etcd.url, username="root", password="not-it"))
    refused, _ = await run_once(wrong, "etcd")
    await wrong.astop()
    assert refused.status is Status.FAIL
    assert "authentication" in refused.output


@pytest.mark.asyncio
@pytest.mark.parametrize("auth", ["enabled", "disabled"])
async def test_canary_password_never_leaks(
    auth: str, etcd: OwnedEtcd, caplog: pytest.LogCaptureFixture
) -> None:
    if auth == "enabled":
        _enable_auth(etcd, "the-right-one")
    caplog.set_level(logging.DEBUG)
    encoded = base64.b64encode(CANARY.encode()).decode()
    check = EtcdCheck(etcd.url, username="root", password=CANARY, timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "etcd")
    await health.astop()
    assert result.status is Status.FAIL, result.output
    assert_no_canary(result, report, caplog, check)
    assert encoded not in result.output


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="url"):
        EtcdCheck(f"etcd://u:{CANARY}@example.com")
    with pytest.raises(ConfigurationError, match="together"):
        EtcdCheck("http://127.0.0.1:2379", username="root")
    with pytest.raises(ConfigurationError, match="db_size_warn"):
        EtcdCheck("http://127.0.0.1:2379", db_size_warn=10, db_size_fail=5)
    with pytest.raises(ConfigurationError, match="timeout"):
        EtcdCheck("http://127.0.0.1:2379", timeout=-1)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
def test_same_instance_works_on_a_new_event_loop(etcd: OwnedEtcd) -> None:
    health = Health()
    health.add(EtcdCheck(etcd.url))

    async def status() -> Status:
        return (await run_once(health, "etcd"))[0].status

    assert asyncio.run(status()) is Status.PASS
    assert asyncio.run(status()) is Status.PASS
    assert health.run(None).checks["etcd"].result.status is Status.PASS
    health.stop()
    gc.collect()  # any warning about the dropped socket is raised here, under the filter
