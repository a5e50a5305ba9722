"""MemcachedCheck against memcached servers the tests start on spare ports."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import aiomcache
import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.memcached import MemcachedCheck
from tests.services._owned_daemons import OwnedMemcached, owned_memcached
from tests.services._probe_asserts import (
    CANARY,
    assert_no_canary,
    eventually,
    run_once,
    timed_failure,
)

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OwnedMemcached]:
    with owned_memcached(tmp_path) as owned:
        yield owned


@pytest.mark.asyncio
async def test_passes_with_the_memory_ratio(server: OwnedMemcached) -> None:
    health = Health()
    health.add(MemcachedCheck(f"127.0.0.1:{server.port}"))
    result, report = await run_once(health, "memcached")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert report.ok
    assert result.component_type == "datastore"
    assert result.observed_unit == "ratio"
    assert isinstance(result.observed_value, float)
    assert 0 <= result.observed_value < 0.1
    assert result.details["limit_maxbytes"] == 64 * 1024 * 1024
    assert result.details["server_version"].startswith("1.")


@pytest.mark.asyncio
async def test_memory_thresholds_grade_the_ratio(server: OwnedMemcached) -> None:
    filler = aiomcache.Client("127.0.0.1", server.port)
    for i in range(40):  # ~40 MB of 64 MB: a ratio near 0.6
        await filler.set(f"k{i}".encode(), b"x" * 1_000_000)
    await filler.close()
    address = f"memcached://127.0.0.1:{server.port}"
    health = Health()
    health.add(MemcachedCheck(address, name="ok", memory_warn=0.8, memory_fail=0.95))
    health.add(MemcachedCheck(address, name="warns", memory_warn=0.3, memory_fail=0.95))
    health.add(MemcachedCheck(address, name="fails", memory_warn=0.2, memory_fail=0.3))
    report = await health.arun(None)
    await health.astop()
    ok, warns, fails = (report.checks[n].result for n in ("ok", "warns", "fails"))
    assert ok.status is Status.PASS, ok.output
    assert warns.status is Status.WARN, warns.output
    assert fails.status is Status.FAIL, fails.output
    assert isinstance(ok.observed_value, float)
    assert 0.3 < ok.observed_value < 0.8


@pytest.mark.asyncio
async def test_users_client_is_used_and_left_open(server: OwnedMemcached) -> None:
    client = aiomcache.Client("127.0.0.1", server.port)
    health = Health()
    health.add(MemcachedCheck(client, name="sessions"))
    result, _ = await run_once(health, "sessions")
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert await client.version()  # astop() did not close the user's client
    await client.close()


@pytest.mark.asyncio
async def test_users_client_on_a_silent_server_is_never_cancelled_mid_call(
    silent_port: int,
) -> None:
    client = aiomcache.Client("127.0.0.1", silent_port, pool_size=1)
    check = MemcachedCheck(client, name="sessions")
    await timed_failure(check, timeout=0.5)
    # The first call still waits (uncancelled): the next run does not pile a second on it.
    second = await timed_failure(check, timeout=0.5)
    assert "has not finished" in second.output
    assert second.latency is not None
    assert second.latency < 0.1
    # The test's own cleanup: the straggler waits on a server that never answers.
    straggler = check._pending  # private, pinned here
    assert straggler is not None
    assert not straggler.done()
    straggler.cancel()
    await asyncio.sleep(0)  # its connection goes back to the pool, which close() closes
    await client.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["closed", "silent"])
async def test_fails_within_timeout(kind: str, closed_port: int, silent_port: int) -> None:
    port = closed_port if kind == "closed" else silent_port
    result = await timed_failure(MemcachedCheck(f"127.0.0.1:{port}", timeout=1.0))
    assert result.output


@pytest.mark.asyncio
async def test_same_instance_survives_a_server_restart(server: OwnedMemcached) -> None:
    health = Health()
    health.add(MemcachedCheck(f"127.0.0.1:{server.port}", timeout=1.0))
    assert (await run_once(health, "memcached"))[0].status is Status.PASS
    server.stop()
    assert (await run_once(health, "memcached"))[0].status is Status.FAIL
    assert (await run_once(health, "memcached"))[0].status is Status.FAIL
    server.start()
    up, _ = await run_once(health, "memcached")
    assert up.status is Status.PASS, up.output
    await health.astop()


@pytest.mark.asyncio
async def test_200_runs_use_one_server_connection(server: OwnedMemcached) -> None:
    health = Health()
    health.add(MemcachedCheck(f"127.0.0.1:{server.port}"))
    assert (await run_once(health, "memcached"))[0].status is Status.PASS
    accepted, open_now = server.total_connections(), server.current_connections()
    for _ in range(199):
        result, _ = await run_once(health, "memcached")
        assert result.status is Status.PASS, result.output
    # Counted by memcached itself: no connection accepted after the first run...
    assert server.total_connections() == accepted
    assert server.current_connections() == open_now
    assert health.executions("memcached") == 200
    await health.astop()
    # ... and that first one was the check's only one: astop() closed it.
    assert await eventually(lambda: server.current_connections() == open_now - 1)


@pytest.mark.asyncio
async def test_a_timed_out_run_does_not_poison_the_kept_connection(
    server: OwnedMemcached,
) -> None:
    # A run cut mid-answer leaves unread lines on its connection; the next run
    # must not read them as its own answer (the connection is dropped instead).
    check = MemcachedCheck(f"127.0.0.1:{server.port}", timeout=1.0)
    health = Health()
    health.add(check)
    assert (await run_once(health, "memcached"))[0].status is Status.PASS
    server.stop()
    assert (await run_once(health, "memcached"))[0].status is Status.FAIL
    server.start()
    for _ in range(3):
        assert (await run_once(health, "memcached"))[0].status is Status.PASS
    await health.astop()


@pytest.mark.asyncio
async def test_the_host_name_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    # Memcached's text protocol has no password: the secret is the host name.
    caplog.set_level(logging.DEBUG)
    check = MemcachedCheck(f"{CANARY.lower()}.invalid:11211", timeout=1.0)
    assert check.secrets
    health = Health()
    health.add(check)
    result, report = await run_once(health, "memcached")
    await health.astop()
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)
    assert CANARY.lower() not in result.output


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="memory_warn"):
        MemcachedCheck("127.0.0.1:11211", memory_warn=0.9, memory_fail=0.5)
    with pytest.raises(ConfigurationError, match="memory_fail"):
        MemcachedCheck("127.0.0.1:11211", memory_fail=80)
    with pytest.raises(ConfigurationError, match="timeout"):
        MemcachedCheck("127.0.0.1:11211", timeout=0)
    with pytest.raises(ConfigurationError) as info:
        MemcachedCheck(f"http://u:{CANARY}@example.com")
    assert CANARY not in str(info.value)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's socket, dropped
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_same_instance_works_on_a_new_event_loop(server: OwnedMemcached) -> None:
    # As with asyncio.run() per job: the kept client belongs to a finished
    # loop and must be replaced there, not fail forever.
    health = Health()
    health.add(MemcachedCheck(f"127.0.0.1:{server.port}"))

    async def status() -> Status:
        return (await run_once(health, "memcached"))[0].status

    assert asyncio.run(status()) is Status.PASS
    assert asyncio.run(status()) is Status.PASS
    assert health.run(None).checks["memcached"].result.status is Status.PASS
    health.stop()
    gc.collect()  # any warning about the dropped socket is raised here, under the filter
