"""The SQL checks import their drivers lazily, and name the extra to install when one is missing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from healthprobe._optional import MissingDependencyError
from healthprobe.checks.alembic import AlembicCheck
from healthprobe.checks.mysql import MySQLCheck, SyncMySQLCheck
from healthprobe.checks.postgres import PostgresCheck, SyncPostgresCheck
from healthprobe.checks.sqlalchemy import SQLAlchemyCheck

DRIVERS = (
    "asyncpg",
    "psycopg",
    "psycopg_pool",
    "aiomysql",
    "asyncmy",
    "pymysql",
    "sqlalchemy",
    "alembic",
)
PG = "postgresql://app:pw@db.example:5432/app"
MY = "mysql://app:pw@db.example:3306/app"


def test_importing_the_sql_checks_imports_no_driver() -> None:
    code = (
        "import sys, healthprobe\n"
        "import healthprobe.checks.postgres, healthprobe.checks.mysql\n"
        "import healthprobe.checks.sqlalchemy, healthprobe.checks.alembic\n"
        f"loaded = sorted(m for m in {DRIVERS!r} if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


CASES: list[tuple[str, str, Callable[[], object]]] = [
    ("asyncpg", "asyncpg", lambda: PostgresCheck(PG)),
    ("psycopg", "psycopg", lambda: PostgresCheck(PG, driver="psycopg")),
    ("psycopg", "psycopg", lambda: SyncPostgresCheck(PG)),
    ("aiomysql", "aiomysql", lambda: MySQLCheck(MY)),
    ("asyncmy", "asyncmy", lambda: MySQLCheck(MY, driver="asyncmy")),
    ("pymysql", "pymysql", lambda: SyncMySQLCheck(MY)),
]


@pytest.mark.parametrize(("module", "extra", "build"), CASES)
def test_a_missing_driver_names_its_extra(
    module: str, extra: str, build: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=rf"pip install 'healthprobe\[{extra}\]'"):
        build()


def test_missing_sqlalchemy_and_alembic_name_their_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine("sqlite://")  # built while sqlalchemy is still importable
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "sqlalchemy", None)
        with pytest.raises(MissingDependencyError, match=r"healthprobe\[sqlalchemy\]"):
            SQLAlchemyCheck(engine)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "alembic", None)
        with pytest.raises(MissingDependencyError, match=r"healthprobe\[alembic\]"):
            AlembicCheck(engine, "migrations")
    engine.dispose()


def test_the_error_is_an_import_error() -> None:
    assert issubclass(MissingDependencyError, ImportError)
