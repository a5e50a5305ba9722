"""Django checks on the machine's PostgreSQL, MariaDB and Redis, and a temp-dir storage."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest

from healthprobe import CheckResult, ConfigurationError, Health, Status
from tests.conftest import require_server
from tests.integrations import _django_settings as project
from tests.services._owned_servers import OwnedServer
from tests.services._probe_asserts import CANARY, assert_no_canary, timed_failure

project.configure()

from django.core.management import call_command  # noqa: E402 - Django's settings first
from django.db import connections  # noqa: E402 - as above

from healthprobe.checks.django import (  # noqa: E402 - as above
    DjangoCacheCheck,
    DjangoDatabaseCheck,
    DjangoMigrationsCheck,
    DjangoStorageCheck,
)

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module", autouse=True)
def media_root() -> Iterator[None]:
    """The storage tests write under the settings' MEDIA_ROOT (a temp dir): removed after."""
    yield
    shutil.rmtree(project.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(scope="module")
def databases() -> Iterator[None]:
    """The test run's own database on PostgreSQL and on MariaDB, dropped afterwards."""
    require_server("PostgreSQL", 5432)
    require_server("MariaDB", 3306)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{project.DB_NAME}"')
    maria = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with maria.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{project.DB_NAME}`")
    try:
        yield
    finally:
        connections.close_all()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{project.DB_NAME}" WITH (FORCE)')
        with maria.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{project.DB_NAME}`")
        maria.close()


def backends() -> list[int]:
    """PIDs of the PostgreSQL backends of the "pg" alias (its application_name)."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (project.PG_APP,)
        ).fetchall()
    return sorted(row[0] for row in rows)


def wait_for(predicate: object, within: float = 5.0) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def run(health: Health, name: str) -> CheckResult:
    return health.run(None, only=name).checks[name].result


@pytest.mark.parametrize(("alias", "vendor"), [("pg", "postgresql"), ("maria", "mysql")])
def test_database_passes_on_postgresql_and_mariadb(
    databases: None, alias: str, vendor: str
) -> None:
    health = Health()
    health.add(DjangoDatabaseCheck(alias, name="db"))
    result = run(health, "db")
    health.stop()
    assert result.status is Status.PASS, result.output
    assert result.details == {"alias": alias, "vendor": vendor}
    assert result.output.endswith("answered SELECT 1")
    assert result.observed_unit == "ms"
    assert result.component_type == "datastore"


def test_database_keeps_one_connection_over_100_runs_and_closes_it(databases: None) -> None:
    # The engine runs a sync check on a thread of its own per run today; the check
    # still uses one Django connection, on its own thread, for all of them.
    health = Health()
    health.add(DjangoDatabaseCheck("pg", name="db"))
    assert backends() == []
    for _ in range(100):
        assert run(health, "db").status is Status.PASS
    first = backends()
    assert len(first) == 1
    assert run(health, "db").status is Status.PASS
    assert backends() == first
    assert [t.name for t in threading.enumerate()].count("healthprobe:db:django") == 1
    health.stop()
    assert wait_for(lambda: backends() == [])
    # close() also ended the check's own thread.
    assert wait_for(lambda: "healthprobe:db:django" not in {t.name for t in threading.enumerate()})


def maria_connections() -> list[int]:
    """Ids of the MariaDB connections using the test run's database (the check's)."""
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s", (project.DB_NAME,)
            )
            return sorted(row[0] for row in cursor.fetchall())
    finally:
        admin.close()


def test_mariadb_keeps_one_connection_and_reconnects_after_a_kill(databases: None) -> None:
    health = Health()
    health.add(DjangoDatabaseCheck("maria", name="db"))
    for _ in range(20):
        assert run(health, "db").status is Status.PASS
    (first,) = maria_connections()
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(f"KILL {int(first)}")
    admin.close()
    assert wait_for(lambda: maria_connections() == [])
    assert run(health, "db").status is Status.FAIL  # the kept connection is gone: closed
    up = run(health, "db")
    assert up.status is Status.PASS, up.output
    (second,) = maria_connections()
    assert second != first
    health.stop()
    assert wait_for(lambda: maria_connections() == [])


def test_database_reconnects_after_its_backend_is_terminated(databases: None) -> None:
    health = Health()
    health.add(DjangoDatabaseCheck("pg", name="db"))
    assert run(health, "db").status is Status.PASS
    (pid,) = backends()
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert wait_for(lambda: backends() == [])
    down = run(health, "db")  # the kept connection is dead: this run fails and closes it
    assert down.status is Status.FAIL
    assert "terminat" in down.output or "closed" in down.output, down.output
    up = run(health, "db")
    assert up.status is Status.PASS, up.output
    assert len(backends()) == 1
    assert backends() != [pid]
    health.stop()


@pytest.fixture
def silent() -> Iterator[int]:
    """The settings' SILENT_PORT, accepting connections and never saying a word."""
    server = socket.create_server(("127.0.0.1", project.SILENT_PORT))
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield project.SILENT_PORT
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.asyncio
async def test_database_fails_at_the_timeout_on_a_silent_or_closed_server(silent: int) -> None:
    await timed_failure(DjangoDatabaseCheck("pg_silent"), timeout=1.0)
    await timed_failure(DjangoDatabaseCheck("pg_closed"), timeout=1.0)


def test_a_stuck_run_is_joined_not_repeated_and_freed_by_connect_timeout(silent: int) -> None:
    health = Health()
    health.add(DjangoDatabaseCheck("pg_silent", name="db"), timeout=0.5)
    first = run(health, "db")
    assert first.status is Status.FAIL
    assert "timed out" in first.output
    second = run(health, "db")  # still stuck in connect: joined, no second attempt
    assert "still in progress" in second.output
    # OPTIONS connect_timeout = 2 s frees the check's thread: it fails on its own.
    time.sleep(2.0)
    third = run(health, "db")
    assert third.status is Status.FAIL
    assert "still in progress" not in third.output
    health.stop()


@pytest.mark.parametrize("alias", ["pg_closed", "maria_canary"])
def test_canary_password_never_leaks(
    databases: None, alias: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    check = DjangoDatabaseCheck(alias, name="db")
    assert CANARY in check.secrets
    health = Health()
    health.add(check)
    report = health.run(None, only="db")
    health.stop()
    result = report.checks["db"].result
    assert result.status is Status.FAIL
    assert_no_canary(result, report, caplog, check)


def test_migrations_fail_with_the_count_until_migrate_runs(databases: None) -> None:
    health = Health()
    health.add(DjangoMigrationsCheck("pg"))
    before = run(health, "migrations")
    assert before.status is Status.FAIL, before.output
    assert isinstance(before.observed_value, int)
    assert before.observed_value > 10  # contenttypes, auth and sessions: none applied
    assert before.output == f"{before.observed_value} unapplied migration(s)"
    assert before.observed_unit == "migrations"
    assert "contenttypes.0001_initial" in before.details["unapplied"]
    call_command("migrate", database="pg", verbosity=0)
    connections["pg"].close()  # migrate's connection on this thread; the check has its own
    after = run(health, "migrations")
    assert after.status is Status.PASS, after.output
    assert after.observed_value == 0
    health.stop()


def test_cache_set_get_delete_on_redis_keeps_one_connection(databases: None) -> None:
    require_server("Redis", 6379)
    import redis

    admin = redis.Redis(host="127.0.0.1", port=6379)
    before = {c["id"] for c in admin.client_list()}
    check = DjangoCacheCheck("redis")
    health = Health()
    health.add(check)
    for _ in range(50):
        result = run(health, "cache")
        assert result.status is Status.PASS, result.output
    opened = {c["id"] for c in admin.client_list()} - before
    assert len(opened) == 1  # one pooled connection for all 50 runs
    assert result.details == {"alias": "redis", "backend": "RedisCache"}
    assert admin.exists(check._key) == 0  # the probe key was deleted
    health.stop()
    assert wait_for(lambda: not ({c["id"] for c in admin.client_list()} & opened))
    admin.close()


def test_cache_survives_a_redis_restart(tmp_path: Path) -> None:
    command = [
        "redis-server", "--port", str(project.OWNED_REDIS_PORT), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", str(tmp_path),
    ]  # fmt: skip
    server = OwnedServer("redis", command, project.OWNED_REDIS_PORT, tmp_path)
    server.start()
    try:
        health = Health()
        health.add(DjangoCacheCheck("redis_owned"))
        assert run(health, "cache").status is Status.PASS
        server.stop()
        down = run(health, "cache")
        assert down.status is Status.FAIL
        assert "ConnectionError" in down.output, down.output
        server.start()
        up = run(health, "cache")
        assert up.status is Status.PASS, up.output
        health.stop()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_cache_fails_at_the_timeout_on_a_silent_redis(silent: int) -> None:
    await timed_failure(DjangoCacheCheck("redis_silent"), timeout=1.5)


def test_cache_canary_password_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    require_server("Redis", 6379)
    caplog.set_level(logging.DEBUG)
    check = DjangoCacheCheck("redis_canary")
    assert CANARY in check.secrets
    health = Health()
    health.add(check)
    report = health.run(None, only="cache")
    health.stop()
    result = report.checks["cache"].result
    assert result.status is Status.FAIL  # nothing listens there
    assert_no_canary(result, report, caplog, check)


def test_storage_saves_reads_and_deletes_in_a_temp_dir() -> None:
    health = Health()
    health.add(DjangoStorageCheck())
    result = run(health, "storage")
    health.stop()
    assert result.status is Status.PASS, result.output
    left = os.listdir(os.path.join(project.MEDIA_ROOT, "healthprobe"))
    assert left == []  # the probe file is gone


def test_storage_fails_when_it_cannot_write() -> None:
    os.makedirs(project.MEDIA_ROOT, exist_ok=True)
    with open(os.path.join(project.MEDIA_ROOT, "a-file"), "w") as handle:
        handle.write("not a directory")
    health = Health()
    health.add(DjangoStorageCheck("broken"))
    result = run(health, "storage")
    health.stop()
    assert result.status is Status.FAIL
    assert "Error" in result.output
    assert "\n" not in result.output


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        DjangoDatabaseCheck("pg", timeout=0)
    with pytest.raises(ConfigurationError, match="alias"):
        DjangoCacheCheck("")


def test_an_unknown_alias_fails_the_run_naming_it() -> None:
    health = Health()
    health.add(DjangoDatabaseCheck("nope", name="db"))
    result = run(health, "db")
    health.stop()
    assert result.status is Status.FAIL
    assert "nope" in result.output
