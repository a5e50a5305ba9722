"""The migration gate against throwaway alembic scripts, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from healthprobe import CheckResult, Health, Status
from healthprobe.checks.alembic import AlembicCheck, AsyncAlembicCheck
from tests.conftest import require_server

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


def scripts(tmp_path: Path, url: str, version_table: str = "alembic_version") -> Config:
    """A fresh alembic project with two revisions, aaa -> bbb (head)."""
    location = tmp_path / "migrations"
    cfg = Config(str(tmp_path / "alembic.ini"))
    command.init(cfg, str(location), template="generic")
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("sqlalchemy.url", url)
    env = location / "env.py"
    # Point the generated env.py at the (possibly custom) version table, and
    # drop its fileConfig(): it would disable every logger configured so far
    # (httpx's among them) for the rest of the test session.
    env.write_text(
        env.read_text()
        .replace(
            "target_metadata=target_metadata",
            f"target_metadata=target_metadata, version_table={version_table!r}",
        )
        .replace("fileConfig(config.config_file_name)", "pass")
    )
    command.revision(cfg, message="first", rev_id="aaa")
    command.revision(cfg, message="second", rev_id="bbb")
    return cfg


async def reading(health: Health) -> CheckResult:
    report = await health.arun()
    return report.checks["migrations"].result


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[sqlalchemy.Engine, Config]]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sqlalchemy.create_engine(url)
    yield engine, scripts(tmp_path, url)
    engine.dispose()


@pytest.mark.asyncio
async def test_gates_readiness_on_the_migration_head(
    sqlite: tuple[sqlalchemy.Engine, Config],
) -> None:
    engine, cfg = sqlite
    location = cfg.get_main_option("script_location")
    assert location is not None
    health = Health()
    health.add(AlembicCheck(engine, location))

    result = await reading(health)  # nothing migrated yet
    assert result.status is Status.FAIL
    assert "no migration revision" in result.output
    assert result.details == {"database": [], "head": ["bbb"]}

    command.upgrade(cfg, "aaa")
    result = await reading(health)  # behind
    assert result.status is Status.FAIL
    assert "behind" in result.output
    assert result.details == {"database": ["aaa"], "head": ["bbb"]}

    command.upgrade(cfg, "head")
    result = await reading(health)
    assert result.status is Status.PASS, result.output
    assert result.details == {"database": ["bbb"], "head": ["bbb"]}
    assert result.component_type == "datastore"

    with engine.begin() as conn:  # a newer release migrated past what these scripts know
        conn.execute(sqlalchemy.text("UPDATE alembic_version SET version_num = 'ccc'"))
    result = await reading(health)
    assert result.status is Status.FAIL
    assert "unknown" in result.output
    assert result.details == {"database": ["ccc"], "head": ["bbb"]}


def test_takes_an_alembic_config_too(sqlite: tuple[sqlalchemy.Engine, Config]) -> None:
    engine, cfg = sqlite
    command.upgrade(cfg, "head")
    health = Health()
    health.add(AlembicCheck(engine, config=cfg))
    assert health.run().checks["migrations"].result.status is Status.PASS
    health.stop()
    with pytest.raises(ValueError, match="exactly one"):
        AlembicCheck(engine)


@pytest.mark.asyncio
async def test_async_engine_against_a_throwaway_postgres_table(tmp_path: Path) -> None:
    require_server("PostgreSQL", 5432)
    table = f"alembic_version_{uuid.uuid4().hex[:10]}"  # throwaway: never the real one
    sync_url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    cfg = scripts(tmp_path, sync_url, version_table=table)
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    location = cfg.get_main_option("script_location")
    assert location is not None
    health = Health()
    health.add(AsyncAlembicCheck(engine, location, version_table=table))
    try:
        assert (await reading(health)).status is Status.FAIL
        command.upgrade(cfg, "aaa")
        behind = await reading(health)
        assert behind.status is Status.FAIL
        assert behind.details == {"database": ["aaa"], "head": ["bbb"]}
        command.upgrade(cfg, "head")
        assert (await reading(health)).status is Status.PASS
    finally:
        sync_engine = sqlalchemy.create_engine(sync_url)
        with sync_engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{table}"'))
        sync_engine.dispose()
        await engine.dispose()


@pytest.mark.asyncio
async def test_an_unreachable_database_fails_within_the_timeout(
    tmp_path: Path, silent_port: int
) -> None:
    cfg = scripts(tmp_path, "sqlite://")
    location = cfg.get_main_option("script_location")
    assert location is not None
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/test")
    health = Health()
    health.add(AsyncAlembicCheck(engine, location), timeout=1.0)
    started = time.monotonic()
    result = await reading(health)
    assert result.status is Status.FAIL
    assert time.monotonic() - started < 1.3
    await engine.dispose()
