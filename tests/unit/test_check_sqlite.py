"""SQLiteCheck against real database files made in the test."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path

import pytest

from healthprobe import CheckResult, Health, Status
from healthprobe.checks.sqlite import SQLiteCheck

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def make_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO items (name) VALUES ('a')")
    db.close()
    return path


def open_handles(path: Path) -> int:
    """How many file descriptors of this process point at ``path`` (counted by the kernel)."""
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue  # closed while we listed
    return count


async def run(health: Health, name: str = "sqlite") -> CheckResult:
    report = await health.arun(None, only=name)
    return report.checks[name].result


async def test_passes_on_a_real_database_as_a_datastore(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db")
    health = Health()
    health.add(SQLiteCheck(db))
    result = await run(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.component_type == "datastore"
    assert result.details["sqlite_version"] == sqlite3.sqlite_version
    assert result.details["schema_objects"] == 1
    assert str(tmp_path) not in repr(result)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count handles")
async def test_fifty_runs_keep_one_connection_and_astop_closes_it(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db")
    health = Health()
    health.add(SQLiteCheck(db))
    for _ in range(50):
        assert (await run(health)).status is Status.PASS
    assert open_handles(db) == 1
    await health.astop()
    assert open_handles(db) == 0


async def test_a_missing_file_fails_and_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    health = Health()
    health.add(SQLiteCheck(db))
    result = await run(health)
    await health.astop()
    assert result.status is Status.FAIL
    assert result.output == "the database file does not exist"
    assert not db.exists()


async def test_create_true_creates_the_file(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    health = Health()
    health.add(SQLiteCheck(db, create=True))
    result = await run(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert db.exists()


async def test_a_deleted_file_fails_and_its_connection_is_released(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db")
    health = Health()
    health.add(SQLiteCheck(db))
    assert (await run(health)).status is Status.PASS
    db.unlink()
    result = await run(health)
    assert result.status is Status.FAIL
    assert result.output == "the database file does not exist"
    make_db(db)
    assert (await run(health)).status is Status.PASS  # the same instance recovers
    await health.astop()


async def test_a_file_that_is_not_a_database_fails(tmp_path: Path) -> None:
    db = tmp_path / "junk.db"
    db.write_bytes(b"this is not a database file at all" * 200)
    health = Health()
    health.add(SQLiteCheck(db))
    result = await run(health)
    await health.astop()
    assert result.status is Status.FAIL
    assert result.output == "DatabaseError: file is not a database"


async def test_quick_check_passes_on_a_sound_database(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db")
    health = Health()
    health.add(SQLiteCheck(db, quick_check=True))
    result = await run(health)
    await health.astop()
    assert result.status is Status.PASS
    assert result.output == "SELECT 1 and quick_check ok"


async def test_a_locked_database_fails_after_the_busy_timeout_then_recovers(
    tmp_path: Path,
) -> None:
    db = make_db(tmp_path / "app.db")
    health = Health()
    health.add(SQLiteCheck(db, timeout=0.5), timeout=3.0)
    assert (await run(health)).status is Status.PASS  # schema now cached on its connection
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        result = await run(health)
        elapsed = time.monotonic() - started
    finally:
        writer.close()  # rolls back and releases the lock
    assert result.status is Status.FAIL
    assert result.output == "OperationalError: database is locked"
    assert 0.4 < elapsed < 2.5
    assert (await run(health)).status is Status.PASS
    await health.astop()


async def test_close_of_an_unused_check_is_harmless(tmp_path: Path) -> None:
    check = SQLiteCheck(tmp_path / "never.db")
    check.close()
    check.close()
    assert not (tmp_path / "never.db").exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count handles")
async def test_astop_during_a_stuck_run_returns_at_once_and_the_run_closes_after(
    tmp_path: Path,
) -> None:
    db = make_db(tmp_path / "app.db")
    health = Health()
    health.add(SQLiteCheck(db, timeout=1.0), timeout=0.2)
    assert (await run(health)).status is Status.PASS
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        # The run times out for the engine but its thread waits on SQLite's busy timeout.
        assert (await run(health)).status is Status.FAIL
        started = time.monotonic()
        await health.astop()
        assert time.monotonic() - started < 0.1  # close() never waits for the stuck run
        assert open_handles(db) == 2  # the writer's and the stuck run's, still in use
    finally:
        writer.close()
    for _ in range(40):  # bounded: the stuck run ends within its 1 s busy timeout
        if open_handles(db) == 0:
            break
        await asyncio.sleep(0.05)
    assert open_handles(db) == 0


@pytest.mark.parametrize("filename", ["plain.db", "odd ?name# 100%.db"])
async def test_file_names_that_look_like_uri_syntax_open_the_right_file(
    tmp_path: Path, filename: str
) -> None:
    db = make_db(tmp_path / filename)
    health = Health()
    health.add(SQLiteCheck(db))
    result = await run(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.details["schema_objects"] == 1  # the database made above, not a new one
    assert os.listdir(tmp_path) == [filename]  # and no stray file was created


async def test_an_in_memory_database_passes() -> None:
    health = Health()
    health.add(SQLiteCheck(":memory:", quick_check=True))
    result = await run(health)
    await health.astop()
    assert result.status is Status.PASS, result.output
    assert result.details["schema_objects"] == 0
