"""SQLAlchemy checks through the app's own engines, against the machine's PostgreSQL and MariaDB."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from healthprobe import CheckResult, Health, Status
from healthprobe.checks.sqlalchemy import AsyncSQLAlchemyCheck, SQLAlchemyCheck
from tests.conftest import require_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

PG = "postgresql+psycopg://postgres@127.0.0.1:{port}/test"
PG_ASYNC = "postgresql+asyncpg://postgres@127.0.0.1:{port}/test"
MARIADB = "mysql+pymysql://root@127.0.0.1:{port}/test"
CANARY = "Canary-Pw-7731"


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    # See test_postgres.py: run finalizers at teardown, inside this test.
    yield
    gc.collect()


async def run_once(health: Health) -> tuple[CheckResult, float]:
    started = time.monotonic()
    report = await health.arun()
    return report.checks["database"].result, time.monotonic() - started


def backends(application_name: str) -> list[int]:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return sorted(row[0] for row in rows)


def make(
    kind: str, url: str, **connect_args: Any
) -> tuple[Any, SQLAlchemyCheck | AsyncSQLAlchemyCheck]:
    """An app-style engine (the app's own choices) and a check over it."""
    if kind == "asyncpg":
        async_engine = create_async_engine(url, connect_args=connect_args)
        return async_engine, AsyncSQLAlchemyCheck(async_engine)
    engine = sqlalchemy.create_engine(url, connect_args=connect_args)
    return engine, SQLAlchemyCheck(engine)


async def dispose(engine: Any) -> None:
    if isinstance(engine, AsyncEngine):
        await engine.dispose()
    else:
        engine.dispose()


CASES = {
    "psycopg": (PG, 5432),
    "asyncpg": (PG_ASYNC, 5432),
    "pymysql": (MARIADB, 3306),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", list(CASES))
async def test_passes_through_the_apps_engine(kind: str) -> None:
    url, port = CASES[kind]
    require_server("database", port)
    engine, check = make(kind, url.format(port=port))
    health = Health()
    health.add(check)
    result, _ = await run_once(health)
    await health.astop()
    await dispose(engine)
    assert result.status is Status.PASS, result.output
    assert result.details["dialect"] in ("postgresql", "mysql", "mariadb")
    assert result.details["server_version"]
    assert result.component_type == "datastore"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
async def test_fails_within_its_timeout(
    kind: str, port_fixture: str, request: pytest.FixtureRequest
) -> None:
    port: int = request.getfixturevalue(port_fixture)
    url, _ = CASES[kind]
    engine, check = make(kind, url.format(port=port))  # no driver timeouts at all: the app's
    health = Health()
    health.add(check, timeout=1.0)
    result, elapsed = await run_once(health)
    assert result.status is Status.FAIL
    assert elapsed < 1.0 + 0.3, f"took {elapsed:.3f} s"
    if kind == "asyncpg":
        await dispose(engine)  # a sync engine's worker may still be connecting


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "kind",
    [
        "psycopg",
        "asyncpg",
        "pymysql",
    ],
)
async def test_a_canary_password_never_leaves_the_process(
    kind: str, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = CASES[kind]
    url = url.replace("@", f":{CANARY}@", 1).replace("127.0.0.1", "db.internal.example")
    caplog.set_level(logging.DEBUG)
    engine, check = make(kind, url.format(port=closed_port))
    health = Health()
    health.add(check, timeout=2.0)
    results = [(await run_once(health))[0] for _ in range(2)]
    await health.astop()
    await dispose(engine)
    seen = [repr(check), str(check)]
    del health, check, engine
    gc.collect()
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


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["psycopg", "asyncpg"])
async def test_200_runs_reuse_the_pools_one_connection(kind: str) -> None:
    require_server("PostgreSQL", 5432)
    app_name = f"healthprobe-{uuid.uuid4().hex[:12]}"
    url, port = CASES[kind]
    args = (
        {"application_name": app_name}
        if kind == "psycopg"
        else {"server_settings": {"application_name": app_name}}
    )
    engine, check = make(kind, url.format(port=port), **args)
    health = Health()
    health.add(check)
    assert (await run_once(health))[0].status is Status.PASS
    first = backends(app_name)
    assert len(first) == 1
    deadline = time.monotonic() + 30
    for _ in range(199):
        result, _ = await run_once(health)
        assert result.status is Status.PASS
        assert time.monotonic() < deadline
    assert backends(app_name) == first  # the same pooled connection served every run
    await health.astop()
    await dispose(engine)


def test_refuses_the_wrong_kind_of_engine() -> None:
    engine = sqlalchemy.create_engine("sqlite://")
    with pytest.raises(TypeError, match="AsyncSQLAlchemyCheck needs"):
        AsyncSQLAlchemyCheck(engine)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(TypeError, match="SQLAlchemyCheck needs"):
        SQLAlchemyCheck(object())  # type: ignore[arg-type]  # deliberately wrong
    engine.dispose()
