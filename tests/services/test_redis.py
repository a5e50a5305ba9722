"""RedisCheck / SyncRedisCheck against the machine's Redis and test-owned redis-servers."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.redis import RedisCheck, SyncRedisCheck
from tests.conftest import require_server
from tests.services._owned_servers import OwnedServer, owned_redis
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
    wait_until,
)

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

LIVE = "redis://127.0.0.1:6379/0"


@pytest.fixture
def live() -> Iterator[redis.Redis]:
    require_server("Redis", 6379)
    admin = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=5)
    yield admin
    admin.close()


def client_ids(admin: redis.Redis, client_name: str) -> set[int]:
    """Ids of the server's connections with this client name (ids are never reused)."""
    return {int(c["id"]) for c in admin.client_list() if c.get("name") == client_name}


@pytest.mark.asyncio
async def test_passes_against_the_live_server(live: redis.Redis) -> None:
    health = Health()
    health.add(RedisCheck(LIVE))
    result, report = await run_once(health, "redis")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.component_type == "datastore"
    assert result.latency is not None
    assert result.latency < 1.0
    assert report.ok


@pytest.mark.asyncio
async def test_users_asyncio_client_is_used_and_left_open(live: redis.Redis) -> None:
    import redis.asyncio as aredis

    client = aredis.Redis(host="127.0.0.1", port=6379)
    health = Health()
    health.add(RedisCheck(client, name="cache"))
    result, _ = await run_once(health, "cache")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert await client.ping()  # astop() did not close the user's client
    await client.aclose()


def test_sync_twin_passes_against_the_live_server(live: redis.Redis) -> None:
    health = Health()
    health.add(SyncRedisCheck(LIVE))
    report = health.run(None)
    health.stop()
    assert report.checks["redis"].result.status is Status.PASS


def test_wrong_client_kind_is_refused_at_construction(live: redis.Redis) -> None:
    with pytest.raises(ConfigurationError, match="use SyncRedisCheck"):
        RedisCheck(live)  # type: ignore[arg-type]  # the mistake under test


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(RedisCheck(f"redis://127.0.0.1:{port}/0", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_sync_twin_fails_within_timeout(
    kind: str, closed_port: int, silent_port: int
) -> None:
    port = closed_port if kind == "closed" else silent_port
    await timed_failure(SyncRedisCheck(f"redis://127.0.0.1:{port}/0", timeout=1.0))


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["closed", "live"])
async def test_canary_password_never_leaks(
    where: str, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Against the live server (no password set) AUTH itself fails with the
    # server's own message; against a closed port the connect fails.
    port = 6379 if where == "live" else closed_port
    if where == "live":
        require_server("Redis", 6379)
    caplog.set_level(logging.DEBUG)
    check = RedisCheck(f"redis://admin:{CANARY}@127.0.0.1:{port}/0", timeout=1.0)
    health = Health()
    health.add(check)
    result, report = await run_once(health, "redis")
    await health.astop()
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)


@pytest.mark.asyncio
async def test_200_runs_use_one_server_connection(live: redis.Redis) -> None:
    tag = f"hp-{uuid.uuid4().hex[:12]}"
    check = RedisCheck(f"{LIVE}?client_name={tag}")
    health = Health()
    health.add(check)
    assert client_ids(live, tag) == set()
    for _ in range(200):
        result, _ = await run_once(health, "redis")
        assert result.status is Status.PASS, result.output
    first = client_ids(live, tag)
    assert len(first) == 1  # one connection, and the same one (ids are never reused)
    await run_once(health, "redis")
    assert client_ids(live, tag) == first
    assert health.executions("redis") == 201
    await health.astop()
    assert await eventually(lambda: client_ids(live, tag) == set())  # aclose() closed it


def test_sync_twin_200_runs_use_one_server_connection(live: redis.Redis) -> None:
    tag = f"hp-{uuid.uuid4().hex[:12]}"
    health = Health()
    health.add(SyncRedisCheck(f"{LIVE}?client_name={tag}"))
    for _ in range(200):
        assert health.run(None).checks["redis"].result.status is Status.PASS
    assert len(client_ids(live, tag)) == 1
    health.stop()
    assert wait_until(lambda: client_ids(live, tag) == set())


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnedServer]:
    with owned_redis(tmp_path, "--maxmemory", "64mb") as server:
        yield server


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(own_redis: OwnedServer) -> None:
    check = RedisCheck(f"redis://127.0.0.1:{own_redis.port}/0", timeout=1.0)
    health = Health()
    health.add(check)
    assert (await run_once(health, "redis"))[0].status is Status.PASS
    own_redis.stop()
    down, _ = await run_once(health, "redis")
    assert down.status is Status.FAIL
    assert (await run_once(health, "redis"))[0].status is Status.FAIL
    own_redis.start()
    up, _ = await run_once(health, "redis")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_memory_ratio_thresholds(own_redis: OwnedServer) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    health = Health()
    # A fresh server uses about 1 MB of its 64 MB: ~1.5 %.
    health.add(RedisCheck(url, name="ok", memory_warn=0.8, memory_fail=0.95))
    health.add(RedisCheck(url, name="warns", memory_warn=0.0001, memory_fail=0.95))
    health.add(RedisCheck(url, name="fails", memory_warn=0.00005, memory_fail=0.0001))
    report = await health.arun(None)
    await health.astop()
    ok, warns, fails = (report.checks[n].result for n in ("ok", "warns", "fails"))
    assert ok.status is Status.PASS, ok.output
    assert warns.status is Status.WARN
    assert fails.status is Status.FAIL
    assert ok.observed_unit == "ratio"
    assert isinstance(ok.observed_value, float)
    assert 0 < ok.observed_value < 0.5
    assert ok.details["maxmemory"] == 64 * 1024 * 1024


@pytest.mark.asyncio
async def test_memory_without_maxmemory_reports_bytes(tmp_path: Path) -> None:
    with owned_redis(tmp_path) as server:
        health = Health()
        health.add(RedisCheck(f"redis://127.0.0.1:{server.port}/0", memory_warn=0.5))
        result, _ = await run_once(health, "redis")
        await health.astop()
    assert result.status is Status.PASS
    assert result.observed_unit == "bytes"
    assert isinstance(result.observed_value, int)
    assert result.observed_value > 0


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="memory_warn is above"):
        RedisCheck(LIVE, memory_warn=0.9, memory_fail=0.5)
    with pytest.raises(ConfigurationError, match="ratio"):
        RedisCheck(LIVE, memory_fail=80)
    with pytest.raises(ConfigurationError) as info:
        RedisCheck(f"http://u:{CANARY}@example.com")
    assert CANARY not in str(info.value)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
def test_same_instance_works_on_a_new_event_loop(live: redis.Redis) -> None:
    # As with one TestClient per test, or asyncio.run() per job: the kept client
    # belongs to a finished loop and must be replaced, not fail forever.
    health = Health()
    health.add(RedisCheck(LIVE))

    async def status() -> Status:
        return (await run_once(health, "redis"))[0].status

    assert asyncio.run(status()) is Status.PASS
    assert asyncio.run(status()) is Status.PASS
    assert health.run(None).checks["redis"].result.status is Status.PASS
    health.stop()
    gc.collect()  # any warning about the dropped socket is raised here, under the filter


def test_cluster_info_reads_the_fullest_node() -> None:
    # A cluster client's INFO answers per node; the worst node decides.
    check = RedisCheck(LIVE, memory_warn=0.5, memory_fail=0.9)
    info = {
        "127.0.0.1:7000": {"used_memory": 10, "maxmemory": 100},
        "127.0.0.1:7001": {"used_memory": "60", "maxmemory": "100"},
    }
    result = check.result(info)
    assert result.status is Status.WARN
    assert result.observed_value == 0.6


@pytest.mark.asyncio
async def test_sentinel_and_cluster_clients_are_accepted(closed_port: int) -> None:
    from redis.asyncio.cluster import RedisCluster
    from redis.asyncio.sentinel import Sentinel

    sentinel = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        [("127.0.0.1", closed_port)], socket_timeout=0.5
    )
    master = sentinel.master_for("mymaster", socket_timeout=0.5)
    cluster = RedisCluster(host="127.0.0.1", port=closed_port, socket_timeout=0.5)
    health = Health()
    health.add(RedisCheck(master, name="sentinel", timeout=1.0))
    health.add(RedisCheck(cluster, name="cluster", timeout=1.0))
    report = await health.arun(None)
    await health.astop()
    # Nothing listens: both fail, in time, with the driver's reason.
    for name in ("sentinel", "cluster"):
        result = report.checks[name].result
        assert result.status is Status.FAIL
        assert result.output, name
    assert report.duration < 1.3
    await master.aclose()
    await cluster.aclose()
