"""MySQL/MariaDB checks against the machine's MariaDB (127.0.0.1:3306, root, no password)."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import time
from collections.abc import Iterator
from typing import Any, Literal

import aiomysql
import asyncmy
import pymysql
import pytest

from healthprobe import CheckResult, Health, Status
from healthprobe.checks.mysql import MySQLCheck, SyncMySQLCheck
from tests.conftest import require_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

LIVE_URL = "mysql://root@127.0.0.1:3306/test"
CANARY = "Canary-Pw-7731"
VARIANTS = ("aiomysql", "asyncmy", "pymysql")
AnyCheck = MySQLCheck | SyncMySQLCheck


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    # See test_postgres.py: run finalizers at teardown, inside this test.
    yield
    gc.collect()


@pytest.fixture
def live() -> None:
    require_server("MariaDB", 3306)


def make(variant: str, url: str, *, timeout: float = 2.0) -> AnyCheck:
    if variant == "pymysql":
        return SyncMySQLCheck(url, timeout=timeout)
    driver: Literal["aiomysql", "asyncmy"] = "asyncmy" if variant == "asyncmy" else "aiomysql"
    return MySQLCheck(url, timeout=timeout, driver=driver)


async def run_once(health: Health, name: str = "mysql") -> tuple[CheckResult, float]:
    started = time.monotonic()
    report = await health.arun()
    return report.checks[name].result, time.monotonic() - started


def admin() -> Any:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)


def status(conn: Any, variable: str) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE %s", (variable,))
        return int(cursor.fetchone()[1])


def connection_ids(conn: Any) -> set[int]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()")
        return {int(row[0]) for row in cursor.fetchall()}


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
async def test_passes_against_the_live_server_with_its_version(variant: str) -> None:
    with admin() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        expected = cursor.fetchone()[0]
    health = Health()
    health.add(make(variant, LIVE_URL))
    result, _ = await run_once(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.details["server_version"] == expected
    assert result.details["driver"] == variant
    assert result.component_type == "datastore"


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
async def test_fails_within_its_timeout(
    variant: str, port_fixture: str, request: pytest.FixtureRequest
) -> None:
    port: int = request.getfixturevalue(port_fixture)
    health = Health()
    health.add(make(variant, f"mysql://root@127.0.0.1:{port}/test"), timeout=1.0)
    for _ in range(2):
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
        "live": "127.0.0.1:3306",
        "closed": f"127.0.0.1:{closed_port}",
        "silent": f"127.0.0.1:{silent_port}",
        "unresolvable": "db.internal.example:3306",
    }[where]
    if where == "live":
        require_server("MariaDB", 3306)
    url = f"mysql://root:{CANARY}@{host}/test"
    caplog.set_level(logging.DEBUG)
    # Silent: the engine's 1 s limit must come well before PyMySQL's own socket
    # timeout, or the two race (and a driver error that wins meets the engine bug).
    check = make(variant, url, timeout=3.0 if where == "silent" else 1.0)
    health = Health()
    health.add(check, timeout=1.0)
    results = [(await run_once(health))[0] for _ in range(1 if where == "silent" else 2)]
    await health.astop()
    seen = [repr(check), str(check)]
    del health, check
    gc.collect()  # finalizers log now, into caplog
    # root has no password here: a wrong one is refused, so every case fails.
    assert results[0].status is Status.FAIL
    seen += [
        *(repr(r) for r in results),
        *(json.dumps(dataclasses.asdict(r), default=str) for r in results),
        caplog.text,
    ]
    for text in seen:
        assert "Traceback" not in text
        assert CANARY not in text
        assert "db.internal.example" not in text
        assert url not in text


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
async def test_200_runs_use_one_server_connection(variant: str) -> None:
    with admin() as conn:
        threads_before = status(conn, "Threads_connected")
        opened_before = status(conn, "Connections")
        health = Health()
        health.add(make(variant, LIVE_URL))
        deadline = time.monotonic() + 30
        for _ in range(200):
            result, _ = await run_once(health)
            assert result.status is Status.PASS
            assert time.monotonic() < deadline
        # Counted by the server: one connection was ever opened, and it is still there.
        assert status(conn, "Connections") - opened_before == 1
        assert status(conn, "Threads_connected") - threads_before == 1
        await health.astop()
        for _ in range(50):  # the server notices the close asynchronously
            if status(conn, "Threads_connected") == threads_before:
                break
            await asyncio.sleep(0.05)
        assert status(conn, "Threads_connected") == threads_before


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", VARIANTS)
async def test_a_killed_connection_is_replaced(variant: str) -> None:
    with admin() as conn:
        before = connection_ids(conn)
        health = Health()
        health.add(make(variant, LIVE_URL))
        assert (await run_once(health))[0].status is Status.PASS
        [ours] = connection_ids(conn) - before
        with conn.cursor() as cursor:
            cursor.execute(f"KILL {ours}")
        statuses = [(await run_once(health))[0].status for _ in range(2)]
        # The run that meets the dead connection may fail; the next one reconnects.
        assert statuses[-1] is Status.PASS
        [new] = connection_ids(conn) - before
        assert new != ours
        await health.astop()


@pytest.mark.asyncio
@pytest.mark.usefixtures("live")
async def test_borrows_the_apps_pools_and_connections() -> None:
    params: dict[str, Any] = {"host": "127.0.0.1", "port": 3306, "user": "root"}
    aio_pool = await aiomysql.create_pool(**params, db="test", minsize=1, maxsize=2)
    my_pool = await asyncmy.create_pool(**params, database="test", minsize=1, maxsize=2)
    aio_conn = await aiomysql.connect(**params, db="test")  # autocommit off
    try:
        health = Health()
        health.add(MySQLCheck(aio_pool), name="aio-pool")
        health.add(MySQLCheck(my_pool), name="asyncmy-pool")
        health.add(MySQLCheck(aio_conn), name="aio-conn")
        report = await health.arun()
        await health.astop()
        assert {n: c.result.status for n, c in report.checks.items()} == dict.fromkeys(
            ("aio-pool", "asyncmy-pool", "aio-conn"), Status.PASS
        )
        # Nothing borrowed was closed, and no transaction was left open.
        assert not aio_conn.closed
        assert not aio_conn.get_transaction_status()
        async with aio_pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute("SELECT 2")
        async with my_pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute("SELECT 2")
    finally:
        aio_conn.close()
        aio_pool.close()
        await aio_pool.wait_closed()
        my_pool.close()
        await my_pool.wait_closed()


@pytest.mark.usefixtures("live")
def test_borrows_the_apps_pymysql_connection() -> None:
    with admin() as conn:
        conn.autocommit(False)
        health = Health()
        health.add(SyncMySQLCheck(conn))
        report = health.run()
        health.stop()
        assert report.checks["mysql"].result.status is Status.PASS
        assert conn.open
        assert not conn.server_status & 1  # no transaction left open


def test_refuses_what_it_cannot_use() -> None:
    with pytest.raises(TypeError, match="MySQLCheck needs"):
        MySQLCheck(object())
    with pytest.raises(TypeError, match="SyncMySQLCheck needs"):
        SyncMySQLCheck(42)
    with pytest.raises(ValueError, match="mysql://"):
        SyncMySQLCheck("postgresql://u@h/db")
    with pytest.raises(ValueError, match="driver"):
        MySQLCheck(LIVE_URL, driver="mysqlclient")  # type: ignore[arg-type]  # deliberately wrong


@pytest.mark.usefixtures("live")
@pytest.mark.parametrize("variant", ["aiomysql", "asyncmy"])
def test_a_connection_is_not_carried_across_event_loops(variant: str) -> None:
    """Health.run() uses its own loop; a later asyncio.run() reconnects, and nothing leaks."""
    with admin() as conn:
        threads_before = status(conn, "Threads_connected")
        health = Health()
        health.add(make(variant, LIVE_URL))
        assert health.run().checks["mysql"].result.status is Status.PASS

        async def on_another_loop() -> Status:
            report = await health.arun()
            await health.astop()
            return report.checks["mysql"].result.status

        assert asyncio.run(on_another_loop()) is Status.PASS
        health.stop()
        for _ in range(50):  # the server notices closes asynchronously
            if status(conn, "Threads_connected") == threads_before:
                break
            time.sleep(0.05)
        assert status(conn, "Threads_connected") == threads_before
