"""Dependency load of N worker processes, with and without a shared directory.

For N = 1, 2, 4, 8 worker processes (each a ``Health`` polling a
PostgreSQL check every second, as a gunicorn or uvicorn worker does), counts
on a private PostgreSQL server what reaches it over a window: queries per
second (``pg_stat_statements`` calls in the check's database) and the most
``application_name = 'healthprobe'`` connections seen (``pg_stat_activity``).
With sharing it also kills the leader (SIGKILL) and times how long until
another worker published a reading.  Prints a Markdown table
(docs/benchmarks.md, "Workers of one host").

    PYTHONPATH=src .venv/bin/python benchmarks/workers.py [--window 10]

Needs root (or the postgres user) and PostgreSQL's server binaries: the
server is the tests' private one (tests/services/_pg_server.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.services._pg_server import PgServer, can_run, pg_server  # noqa: E402

COUNTS = (1, 2, 4, 8)
INTERVAL = 1.0

WORKER = """
import asyncio, os, signal
from healthprobe import Health
from healthprobe.checks import PostgresCheck

async def main() -> None:
    health = Health()  # HEALTHPROBE_SHARED_DIR, when set, turns sharing on
    health.add(PostgresCheck(os.environ["BENCH_DSN"], name="db", timeout=2.0), interval=INTERVAL)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with health:
        await stop.wait()

asyncio.run(main())
""".replace("INTERVAL", repr(INTERVAL))


def _connect(dsn: str) -> Any:
    return psycopg.connect(dsn, autocommit=True, connect_timeout=5)


def _scalar(conn: Any, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


CALLS = (
    "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
    " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'bench'"
)
CONNECTIONS = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'healthprobe'"


@contextlib.contextmanager
def workers(count: int, dsn: str, shared: str | None) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {**os.environ, "BENCH_DSN": dsn, "PYTHONPATH": str(ROOT / "src")}
    env.pop("HEALTHPROBE_SHARED_DIR", None)
    if shared is not None:
        env["HEALTHPROBE_SHARED_DIR"] = shared
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT) for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def measure(conn: Any, window: float) -> tuple[float, int]:
    began, start, most = time.monotonic(), _scalar(conn, CALLS), 0
    while time.monotonic() - began < window:
        most = max(most, _scalar(conn, CONNECTIONS))
        time.sleep(0.25)
    return (_scalar(conn, CALLS) - start) / (time.monotonic() - began), most


def takeover(directory: str) -> tuple[float, float] | None:
    """Kill the leader; seconds until another worker published, and the gap between readings.

    The gap is from the dead leader's last reading to the new leader's first
    (their ``at``, on the host's monotonic clock): one interval when the host
    kept its cadence.  None: no worker took over.
    """
    path = Path(directory) / "check.db.json"
    record = json.loads(path.read_text())
    os.kill(int(record["pid"]), signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < 15:
        with contextlib.suppress(OSError, ValueError):
            now = json.loads(path.read_text())
            if now["pid"] != record["pid"]:
                return time.monotonic() - killed, float(now["at"]) - float(record["at"])
        time.sleep(0.01)
    return None


def run(
    server: PgServer, window: float
) -> list[tuple[int, float, int, float, int, tuple[float, float] | None]]:
    dsn = server.dsn.rsplit("/", 1)[0] + "/bench"
    rows = []
    with _connect(server.dsn) as conn:
        for count in COUNTS:
            with workers(count, dsn, None):
                time.sleep(3.0)  # every worker connected and polling
                alone = measure(conn, window)
            with tempfile.TemporaryDirectory() as directory, workers(count, dsn, directory):
                time.sleep(3.0)
                shared = measure(conn, window)
                taken = takeover(directory) if count > 1 else None
            rows.append((count, *alone, *shared, taken))
            print(f"N={count}: alone {alone}, shared {shared}, takeover {taken}", file=sys.stderr)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0, help="seconds counted per setup")
    args = parser.parse_args()
    reason = can_run()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    with pg_server("-c shared_preload_libraries=pg_stat_statements") as server:
        with _connect(server.dsn) as conn:
            conn.execute("CREATE DATABASE bench")
            conn.execute("CREATE EXTENSION pg_stat_statements")
        rows = run(server, args.window)
    print(f"PostgreSQL check polled every {INTERVAL:g} s by each of N worker processes;")
    print(f"{args.window:g} s counted per setup.\n")
    print(
        "| workers | queries/s, no sharing | connections, no sharing "
        "| queries/s, shared directory | connections, shared directory "
        "| kill -9 of the leader: next reading after | gap between the two readings |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count, q_alone, c_alone, q_shared, c_shared, taken in rows:
        took, gap = ("—", "—") if taken is None else (f"{taken[0]:.2f} s", f"{taken[1]:.2f} s")
        print(
            f"| {count} | {q_alone:.2f} | {c_alone} | {q_shared:.2f} | {c_shared} "
            f"| {took} | {gap} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
