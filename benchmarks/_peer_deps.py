"""Dependency amplification for peers.py: server-side counts of PostgreSQL and Redis work.

Counted on the servers' side: ``pg_stat_database`` (``xact_commit``,
``sessions``) and ``pg_stat_activity`` for a database of its own,
``healthprobe_bench``, on the machine's PostgreSQL (127.0.0.1:5432), created
on first use; ``INFO commandstats``/``INFO stats`` of a private redis-server
started on a free port (the machine's Redis is shared with other test
suites, whose PINGs would be counted too).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import psycopg
import redis

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "healthprobe_bench"


class Target(NamedTuple):
    label: str
    app: str
    checks: str
    path: str
    extra_env: tuple[tuple[str, str], ...] = ()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


AMPLIFICATION = [
    Target("healthprobe, polled every 1 s", "hp_middleware", "deps", "/probe"),
    Target(
        "healthprobe, on request, 1 s cache",
        "hp_middleware",
        "deps",
        "/probe",
        (("PEER_DEPS_MODE", "cached"),),
    ),
    Target("fastapi-healthchecks 1.1.0", "fastapi_healthchecks", "deps", "/probe"),
]


def _pg_connect() -> Any:
    conn = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone()
    if exists is None:
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return conn


def _pg_counts(conn: Any) -> tuple[int, int, int]:
    """(transactions committed, sessions opened, backends now) in the bench database."""
    row = conn.execute(
        "SELECT xact_commit, sessions, numbackends FROM pg_stat_database WHERE datname = %s",
        (BENCH_DB,),
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _redis_counts(client: Any) -> tuple[int, int]:
    """(PING calls, connections received so far)."""
    pings = client.info("commandstats").get("cmdstat_ping", {}).get("calls", 0)
    return int(pings), int(client.info("stats")["total_connections_received"])


@contextlib.contextmanager
def private_redis() -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [
                binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", workdir, "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                    break
                time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _settled(pg: Any) -> tuple[int, int, int]:
    """PostgreSQL's counters once no backend is left in the bench database.

    A backend that queries every second flushes its statistics only every
    60 s (PostgreSQL 15), but always when it exits; so the PostgreSQL counts
    cover an application's whole life, read after it has stopped.
    """
    deadline = time.monotonic() + 15
    counts = _pg_counts(pg)
    while counts[2] and time.monotonic() < deadline:
        time.sleep(0.2)
        counts = _pg_counts(pg)
    time.sleep(0.5)
    return _pg_counts(pg)


def amplification(
    duration: float, serve: Callable[..., Any], wrk: Callable[..., Any], interval: float = 1.0
) -> list[str]:
    """The table's lines; ``serve`` and ``wrk`` come from peers.py."""
    lines = [
        f"Dependency amplification: 64 concurrent clients (`wrk -t1 -c64 -d{duration:g}s`) "
        "on the probe after a 2 s warm-up with the same load. Redis counts cover the load "
        "window; PostgreSQL counts cover the application's whole life (see below).",
        "",
        "| target | health requests | Redis PINGs in the window (per s) "
        "| new Redis connections in the window | PostgreSQL transactions in the app's life "
        "(per s) | PostgreSQL sessions in its life | new PostgreSQL sessions in the window |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    pg = _pg_connect()
    with private_redis() as redis_port:
        reader = redis.Redis(port=redis_port)
        reader.ping()
        env = {
            "PEER_PG": f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}",
            "PEER_REDIS": f"redis://127.0.0.1:{redis_port}/0",
            "PEER_INTERVAL": str(interval),
        }
        for t in AMPLIFICATION:
            pg0 = _settled(pg)
            born = time.monotonic()
            with serve(t, env) as (port, pid):
                wrk(port, t.path, 2, 64, pid)  # warm-up: connections opened here are fine
                time.sleep(1.0)
                sessions0, (pings0, conns0) = _pg_counts(pg)[1], _redis_counts(reader)
                began = time.monotonic()
                run = wrk(port, t.path, duration, 64, pid)
                pings1, conns1 = _redis_counts(reader)
                window = time.monotonic() - began
                # Sessions are counted when they start (flushed at a new backend's first
                # idle moment or exit), so this delta is exact even though xact_commit is not.
                time.sleep(1.0)
                new_sessions = _pg_counts(pg)[1] - sessions0
            life = time.monotonic() - born
            pg1 = _settled(pg)
            xacts, sessions = pg1[0] - pg0[0], pg1[1] - pg0[1]
            pings = pings1 - pings0
            lines.append(
                f"| {t.label} | {run.requests:,} | {pings:,} ({pings / window:.2f}) | "
                f"{conns1 - conns0:,} | {xacts:,} in {life:.1f} s ({xacts / life:.2f}) | "
                f"{sessions:,} | {new_sessions:,} |"
            )
            print(f"amplification: {t.label} done", file=sys.stderr)
        reader.close()
    pg.close()
    lines += [
        "",
        f"Target: at most one query per check per cache interval ({interval:g} s: at most "
        f"{1 / interval:.2f} per s per dependency) and no new connection after warm-up.",
    ]
    return lines
