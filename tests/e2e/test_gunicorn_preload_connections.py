"""gunicorn ``--preload``: one PostgreSQL connection per worker, none in the master (issue 17.9).

On ``eda6039`` an import-time ``health.run()`` left its connection open in
the master, and every worker inherited the socket: 4 server backends for 3
workers.  The engine now closes what the checks opened before a fork
(``os.register_at_fork``), and each worker opens its own on its first run.
Counted on the server, in ``pg_stat_activity``, by this test's own
application name.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import free_port, require_server

from ._processes import process, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.timeout(120)]

WORKERS = 3
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def backends(application_name: str) -> list[int]:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return sorted(row[0] for row in rows)


def test_preload_keeps_one_connection_per_worker_and_none_in_the_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_server("PostgreSQL", 5432)
    name = f"hp-preload-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("HP_TEST_APPNAME", name)
    port = free_port()
    args = [
        sys.executable, "-m", "gunicorn", "tests.e2e._preload_app:app",
        "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
        "--worker-class", "sync", "--preload", "--graceful-timeout", "5",
    ]  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with process(args, log) as proc:
        wait_for(f"http://127.0.0.1:{port}/livez", proc, log)
        served_by: set[int] = set()
        deadline = time.monotonic() + 60
        # Until every worker has served a probe (each then holds its connection).
        while len(served_by) < WORKERS and time.monotonic() < deadline:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                assert client.get("/readyz").status_code == 200
                served_by.add(int(client.get("/").text))
        assert len(served_by) == WORKERS, log.read_text()[-2000:]
        for _ in range(30):  # more probes: every worker reuses its own connection
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                assert client.get("/readyz").status_code == 200
        held = backends(name)
        assert len(held) == WORKERS, f"{len(held)} backends for {WORKERS} workers"
        assert proc.pid not in served_by
    text = log.read_text()
    assert "Traceback" not in text
    deadline = time.monotonic() + 10
    while backends(name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backends(name) == []  # the workers closed theirs on the way out
    assert os.path.exists(log)
