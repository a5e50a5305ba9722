"""PostgreSQL checks against the machine's server (5432) and a private one we stop and start."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import asyncpg
import psycopg
import psycopg_pool
import pytest
import pytest_asyncio

from healthprobe import CheckResult, Health, Status
from healthprobe.checks.postgres import PostgresCheck, SyncPostgresCheck
from tests.conftest import REQUIRE_SERVICES, require_server
from tests.services._pg_server import PgServer, can_run, pg_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

LIVE_DSN = "postgresql://postgres@127.0.0.1:5432/test"
CANARY = "Canary-Pw-7731"
VARIANTS = ("asyncpg", "psycopg-async", "psycopg-sync")
AnyCheck = PostgresCheck | SyncPostgresCheck


def make(
    variant: str, dsn: str, *, timeout: float = 2.0, application_name: str = "healthprobe"
) -> AnyCheck:
    if variant == "psycopg-sync":
        return SyncPostgresCheck(dsn, timeout=timeout, application_name=application_name)
    driver: Literal["asyncpg", "psycopg"] = "asyncpg" if variant == "asyncpg" else "psycopg"
    return PostgresCheck(dsn, timeout=timeout, driver=driver, application_name=application_name)


async def run_once(health: Health, name: str = "postgres") -> tuple[CheckResult, float]:
    started = time.monotonic()
    report = await health.arun()
    return report.checks[name].result, time.monotonic() - started


def backends(application_name: str) -> list[int]:
    """PIDs of the server connections carrying ``application_name`` (seen from the server)."""
    with psycopg.connect(LIVE_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return sorted(row[0] for row in rows)


# Run finalizers at teardown: an asyncio future left unread would log its
# exception (with a traceback) there, inside the test that caused it.
@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture
def live() -> None:
    require_server("PostgreSQL", 5432)


@pytest.fixture(scope="module")
def private_server() -> Iterator[PgServer]:
    reason = can_run()
    if reason is not None:
        if REQUIRE_SERVICES:  # CI must prove the restart, not skip it
            pytest.fail(f"{reason} (HEALTHPROBE_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    with pg_server() as server:
        yield server


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
async def test_passes_against_the_live_server_with_its_version(variant: str) -> None:
    with psycopg.connect(LIVE_DSN) as admin:
        row = admin.execute("SHOW server_version").fetchone()
    assert row is not None
    expected = str(row[0]).split()[0]
    health = Health()
    health.add(make(variant, LIVE_DSN))
    result, _ = await run_once(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.details["server_version"] == expected
    assert result.component_type == "datastore"
    assert result.latency is not None
    assert result.latency < 2.0


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
async def test_fails_within_its_timeout(
    variant: str, port_fixture: str, request: pytest.FixtureRequest
) -> None:
    port: int = request.getfixturevalue(port_fixture)
    health = Health()
    health.add(make(variant, f"postgresql://postgres@127.0.0.1:{port}/test"), timeout=1.0)
    result, elapsed = await run_once(health)
    assert result.status is Status.FAIL
    assert elapsed < 1.0 + 0.3, f"took {elapsed:.3f} s"
    # A second run (the check reconnects, or joins its stuck worker) is just as bounded.
    result, elapsed = await run_once(health)
    assert result.status is Status.FAIL
    assert elapsed < 1.0 + 0.3, f"took {elapsed:.3f} s"


def _canary_cases() -> list[Any]:
    cases = []
    for variant in VARIANTS:
        for where in ("live", "closed", "silent", "unresolvable"):
            cases.append(pytest.param(variant, where))
    return cases


@pytest.mark.asyncio
@pytest.mark.parametrize(("variant", "where"), _canary_cases())
async def test_a_canary_password_never_leaves_the_process(
    variant: str,
    where: str,
    closed_port: int,
    silent_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = {
        "live": "127.0.0.1:5432",
        "closed": f"127.0.0.1:{closed_port}",
        "silent": f"127.0.0.1:{silent_port}",
        "unresolvable": "db.internal.example:5432",
    }[where]
    if where == "live":
        require_server("PostgreSQL", 5432)
    dsn = f"postgresql://postgres:{CANARY}@{host}/test"
    caplog.set_level(logging.DEBUG)
    check = make(variant, dsn, timeout=1.0)
    health = Health()
    health.add(check)
    # One run against the silent port: the sync check's worker is still
    # connecting when the run times out; a second run would race its end.
    results = [(await run_once(health))[0] for _ in range(1 if where == "silent" else 2)]
    await health.astop()
    seen = [repr(check), str(check)]
    # Free the engine and collect: whatever a finalizer logs is logged now,
    # into caplog (not into a later test).
    del health, check
    gc.collect()
    if where == "live":  # trust auth: the password is ignored, the check passes
        assert results[0].status is Status.PASS
    else:
        assert results[0].status is Status.FAIL
    seen += [
        *(repr(r) for r in results),
        *(json.dumps(dataclasses.asdict(r), default=str) for r in results),
        caplog.text,  # formatted as a handler would: messages and any traceback
    ]
    for text in seen:
        assert "Traceback" not in text
        assert CANARY not in text
        assert "db.internal.example" not in text
        assert dsn not in text


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
async def test_200_runs_use_one_server_connection(variant: str) -> None:
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    health = Health()
    health.add(make(variant, LIVE_DSN, application_name=app_name))
    first, _ = await run_once(health)
    assert first.status is Status.PASS
    opened = backends(app_name)
    assert len(opened) == 1
    deadline = time.monotonic() + 30
    for _ in range(199):
        result, _ = await run_once(health)
        assert result.status is Status.PASS
        assert time.monotonic() < deadline
    # The same one backend served every run: nothing was opened in between.
    assert backends(app_name) == opened
    await health.astop()
    assert backends(app_name) == []  # aclose()/close() closed what the check opened


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", ["asyncpg", "psycopg-async"])
async def test_overlapping_runs_share_the_one_connection(variant: str) -> None:
    """Two Health instances (no shared single-flight) calling one check at once."""
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    check = make(variant, LIVE_DSN, application_name=app_name)
    assert isinstance(check, PostgresCheck)
    results = await asyncio.gather(*(check.acheck() for _ in range(20)))
    assert all(r.status is Status.PASS for r in results)
    assert len(backends(app_name)) == 1
    await check.aclose()


@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", ["asyncpg", "psycopg-async"])
def test_a_connection_is_not_carried_across_event_loops(variant: str) -> None:
    """Health.run() uses its own loop; a later asyncio.run() must reconnect, not crash."""
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    health = Health()
    health.add(make(variant, LIVE_DSN, application_name=app_name))
    assert health.run().checks["postgres"].result.status is Status.PASS

    async def on_another_loop() -> Status:
        report = await health.arun()
        await asyncio.sleep(0.1)  # the engine loop closes its connection meanwhile
        assert len(backends(app_name)) == 1  # the first loop's connection was let go
        await health.astop()
        return report.checks["postgres"].result.status

    assert asyncio.run(on_another_loop()) is Status.PASS
    health.stop()
    assert backends(app_name) == []


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
async def test_a_killed_connection_is_replaced(variant: str) -> None:
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    health = Health()
    health.add(make(variant, LIVE_DSN, application_name=app_name))
    assert (await run_once(health))[0].status is Status.PASS
    [pid] = backends(app_name)
    with psycopg.connect(LIVE_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    statuses = [(await run_once(health))[0].status for _ in range(2)]
    # The run that meets the dead connection may fail; the next one reconnects.
    assert statuses[-1] is Status.PASS
    [new_pid] = backends(app_name)
    assert new_pid != pid
    await health.astop()


@pytest.mark.asyncio
@pytest.mark.timeout(120)
@pytest.mark.parametrize("variant", VARIANTS)
async def test_the_same_instance_recovers_after_a_server_restart(
    variant: str, private_server: PgServer
) -> None:
    check = make(variant, private_server.dsn, timeout=1.0)
    health = Health()
    health.add(check)
    assert (await run_once(health))[0].status is Status.PASS
    await asyncio.to_thread(private_server.stop)
    try:
        result, elapsed = await run_once(health)
        assert result.status is Status.FAIL
        assert elapsed < 1.3
    finally:
        await asyncio.to_thread(private_server.start)
    result, _ = await run_once(health)
    assert result.status is Status.PASS, result.output
    await health.astop()


def frozen_backend(server: PgServer, application_name: str) -> int:
    """Stop (SIGSTOP) the backend serving ``application_name``: it keeps its socket, silent."""
    with psycopg.connect(server.dsn, autocommit=True) as admin:
        [row] = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    backend = int(row[0])
    os.kill(backend, signal.SIGSTOP)
    return backend


@pytest.mark.timeout(60)
def test_a_silent_backend_cannot_hold_the_sync_driver(private_server: PgServer) -> None:
    """The watchdog is the sync driver's command timeout: check() returns by itself."""
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    check = SyncPostgresCheck(private_server.dsn, timeout=1.0, application_name=app_name)
    assert check.check().status is Status.PASS
    backend = frozen_backend(private_server, app_name)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="no answer within 1 s"):
            check.check()
        assert time.monotonic() - started < 1.0 + 0.5
    finally:
        os.kill(backend, signal.SIGCONT)
    assert check.check().status is Status.PASS  # a new connection replaced the dropped one
    check.close()


@pytest.mark.asyncio
@pytest.mark.timeout(60)
@pytest.mark.parametrize("variant", ["asyncpg", "psycopg-async"])
async def test_a_silent_backend_cannot_hold_the_async_driver(
    variant: str, private_server: PgServer
) -> None:
    """acheck() bounds itself (driver timeouts), even when called without the engine."""
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    check = make(variant, private_server.dsn, timeout=1.0, application_name=app_name)
    assert isinstance(check, PostgresCheck)
    assert (await check.acheck()).status is Status.PASS
    backend = await asyncio.to_thread(frozen_backend, private_server, app_name)
    try:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await check.acheck()
        assert time.monotonic() - started < 1.0 + 0.5
    finally:
        os.kill(backend, signal.SIGCONT)
    assert (await check.acheck()).status is Status.PASS
    await check.aclose()


@pytest_asyncio.fixture
async def asyncpg_pool() -> AsyncIterator[Any]:
    require_server("PostgreSQL", 5432)
    pool = await asyncpg.create_pool(LIVE_DSN, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.mark.asyncio
async def test_borrows_the_apps_asyncpg_pool_and_connection(asyncpg_pool: Any) -> None:
    health = Health()
    health.add(PostgresCheck(asyncpg_pool), name="pool")
    async with asyncpg_pool.acquire() as conn:
        health.add(PostgresCheck(conn), name="conn")
        report = await health.arun()
        await health.astop()
        assert await conn.fetchval("SELECT 2") == 2  # the app's connection is still open
    assert {n: c.result.status for n, c in report.checks.items()} == {
        "pool": Status.PASS,
        "conn": Status.PASS,
    }
    assert await asyncpg_pool.fetchval("SELECT 3") == 3  # and so is its pool


@pytest.mark.asyncio
async def test_borrows_the_apps_psycopg_async_pool_and_connection() -> None:
    require_server("PostgreSQL", 5432)
    async with (
        psycopg_pool.AsyncConnectionPool(LIVE_DSN, min_size=1, max_size=2, open=False) as pool,
        await psycopg.AsyncConnection.connect(LIVE_DSN) as conn,
    ):
        health = Health()
        health.add(PostgresCheck(pool), name="pool")
        health.add(PostgresCheck(conn), name="conn")
        report = await health.arun()
        await health.astop()
        assert {n: c.result.status for n, c in report.checks.items()} == {
            "pool": Status.PASS,
            "conn": Status.PASS,
        }
        # The app's non-autocommit connection is not left inside a transaction.
        assert conn.info.transaction_status.name == "IDLE"
        assert not conn.closed
        async with pool.connection() as borrowed:
            assert not borrowed.closed


def test_borrows_the_apps_psycopg_sync_pool_and_connection() -> None:
    require_server("PostgreSQL", 5432)
    with (
        psycopg_pool.ConnectionPool(LIVE_DSN, min_size=1, max_size=2, open=True) as pool,
        psycopg.connect(LIVE_DSN) as conn,
    ):
        health = Health()
        health.add(SyncPostgresCheck(pool), name="pool")
        health.add(SyncPostgresCheck(conn), name="conn")
        report = health.run()
        health.stop()
        assert {n: c.result.status for n, c in report.checks.items()} == {
            "pool": Status.PASS,
            "conn": Status.PASS,
        }
        assert conn.info.transaction_status.name == "IDLE"
        assert not conn.closed


def test_refuses_what_it_cannot_use() -> None:
    with pytest.raises(TypeError, match="PostgresCheck needs"):
        PostgresCheck(object())
    with pytest.raises(TypeError, match="SyncPostgresCheck needs"):
        SyncPostgresCheck(42)
    with pytest.raises(ValueError, match="driver"):
        PostgresCheck(LIVE_DSN, driver="pg8000")  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(ValueError, match="timeout"):
        PostgresCheck(LIVE_DSN, timeout=0)
