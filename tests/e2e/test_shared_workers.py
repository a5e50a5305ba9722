"""Four real gunicorn / uvicorn workers and a private PostgreSQL, with and without sharing.

The server counts what reaches it: the statements run in the check's
database (``pg_stat_statements``, joined to ``pg_database``; the counters of
``pg_stat_database`` are flushed by an idle backend only every ~10 s, too
coarse for a per-second rate) and the check's connections
(``pg_stat_activity``, ``application_name`` healthprobe).
With the shared directory one worker polls for the host (about 1 query per
second on 1 connection); without it every worker polls (about 4 and 4).
``kill -9`` of the leader: every worker keeps answering ``/readyz`` from
the readings, and another worker polls within interval + timeout.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES, free_port
from tests.services._pg_server import PgServer, can_run, pg_server

from ._processes import process, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

WORKERS = 4
INTERVAL, TIMEOUT = 1.0, 2.0  # the db check's, in tests/e2e/_shared_app.py
WINDOW = 8.0  # seconds of counting


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    reason = can_run()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    with pg_server("-c shared_preload_libraries=pg_stat_statements") as server:
        with _connect(server.dsn) as conn:
            conn.execute("CREATE DATABASE hpcheck")
            conn.execute("CREATE EXTENSION pg_stat_statements")
        yield server


def _connect(dsn: str) -> Any:
    import psycopg

    return psycopg.connect(dsn, autocommit=True, connect_timeout=5)


class Counts:
    """What the private server sees of the check: its queries and its connections."""

    def __init__(self, server: PgServer) -> None:
        self.conn = _connect(server.dsn)

    def commits(self) -> int:
        row = self.conn.execute(
            "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'hpcheck'"
        ).fetchone()
        return int(row[0])

    def connections(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'healthprobe'"
        ).fetchone()
        return int(row[0])

    def rate(self, seconds: float = WINDOW) -> tuple[float, int]:
        """Queries per second over ``seconds``, and the most connections seen meanwhile."""
        began, start = time.monotonic(), self.commits()
        most = 0
        while time.monotonic() - began < seconds:
            most = max(most, self.connections())
            time.sleep(0.25)
        return (self.commits() - start) / (time.monotonic() - began), most

    def close(self) -> None:
        self.conn.close()


class Receiver:
    """A local webhook receiver recording every POSTed JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def serve(
    kind: str, tmp_path: Path, pg: PgServer, hook: str, *, shared: bool
) -> Iterator[tuple[str, Path, Path]]:
    """Serve the app with 4 workers; yields (base URL, shared directory, log file)."""
    port = free_port()
    directory = tmp_path / "shared"
    gate = tmp_path / "gate"
    gate.write_text("ok")
    env = {
        "HP_PG_DSN": pg.dsn.rsplit("/", 1)[0] + "/hpcheck",
        "HP_GATE": str(gate),
        "HP_WEBHOOK": hook,
    }
    if shared:
        env["HEALTHPROBE_SHARED_DIR"] = str(directory)
    if kind == "gunicorn":
        args = [
            sys.executable, "-m", "gunicorn", "tests.e2e._shared_app:flask_app",
            "--config", "python:tests.e2e._shared_gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
            "--graceful-timeout", "5",
        ]  # fmt: skip
    else:
        args = [
            sys.executable, "-m", "uvicorn", "tests.e2e._shared_app:asgi_app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
            "--no-access-log", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
    log = tmp_path / f"{kind}.log"
    saved = {key: os.environ.get(key) for key in (*env, "HEALTHPROBE_SHARED_DIR")}
    os.environ.pop("HEALTHPROBE_SHARED_DIR", None)
    os.environ.update(env)  # process() passes the test's environment on
    try:
        with process(args, log) as proc:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/livez", proc, log, timeout=45.0)
            yield base, directory, log
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def by_worker(base: str, path: str, *, want: int = WORKERS, tries: int = 300) -> dict[int, int]:
    """``path``'s status per answering worker PID (fresh connections), until ``want`` answered."""
    seen: dict[int, int] = {}
    for _ in range(tries):
        response = httpx.get(f"{base}{path}", timeout=5.0, headers={"Connection": "close"})
        seen[int(response.headers["x-worker-pid"])] = response.status_code
        if len(seen) >= want:
            break
    return seen


def wait_ready_everywhere(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answers = by_worker(base, "/readyz", want=WORKERS, tries=40)
        if len(answers) >= 2 and set(answers.values()) == {200}:
            return
        time.sleep(0.3)
    pytest.fail(f"/readyz never answered 200 from every worker: {answers}")


def leader(directory: Path) -> tuple[int, int, float]:
    """Who published the db check's latest reading (PID), its number and its monotonic time."""
    record = json.loads((directory / "check.db.json").read_text())
    return int(record["pid"]), int(record["seq"]), float(record["at"])


def check_takeover(base: str, directory: Path, counts: Counts) -> float:
    """``kill -9`` the leader; return how long until another worker published a reading."""
    old, seq, last = leader(directory)
    assert int((directory / "leader.lock").read_text()) == old
    os.kill(old, signal.SIGKILL)
    killed = time.monotonic()
    resumed = None
    while time.monotonic() - killed < 20.0:
        pid, new_seq, at = leader(directory)
        if pid != old and new_seq > seq:
            resumed = time.monotonic() - killed
            # The dead leader's last reading to the new one's first (the host's clock).
            assert at - last < INTERVAL + TIMEOUT + 2.0, at - last
            break
        # Meanwhile every worker left answers truthfully from the readings: ready.
        answers = by_worker(base, "/readyz", want=2, tries=10)
        answers.pop(old, None)
        assert set(answers.values()) <= {200}, answers
        time.sleep(0.05)
    assert resumed is not None, "no worker took over"
    # One interval plus the timeout, with room for a loaded machine.
    assert resumed < INTERVAL + TIMEOUT + 2.0, resumed
    answers = by_worker(base, "/readyz", want=3)
    assert set(answers.values()) == {200}, answers
    deadline = time.monotonic() + 15.0
    while counts.connections() != 1 and time.monotonic() < deadline:
        time.sleep(0.2)  # the dead leader's backend notices its socket closed
    assert counts.connections() == 1
    return resumed


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_four_workers_with_a_shared_directory_poll_once_per_host(
    tmp_path: Path, pg: PgServer, kind: str
) -> None:
    counts = Counts(pg)
    try:
        with Receiver() as hooks, serve(kind, tmp_path, pg, hooks.url, shared=True) as served:
            base, directory, _ = served
            wait_ready_everywhere(base)
            rate, most = counts.rate()
            assert 0.5 <= rate <= 1.6, rate  # about 1 query per second for the host
            assert most == 1
            assert counts.connections() == 1
            check_takeover(base, directory, counts)
            rate, _ = counts.rate(4.0)
            assert 0.5 <= rate <= 1.75, rate
    finally:
        counts.close()


def test_four_workers_without_a_shared_directory_each_poll(tmp_path: Path, pg: PgServer) -> None:
    counts = Counts(pg)
    try:
        with Receiver() as hooks, serve("gunicorn", tmp_path, pg, hooks.url, shared=False) as s:
            base, directory, _ = s
            wait_ready_everywhere(base)
            deadline = time.monotonic() + 20.0
            while counts.connections() < WORKERS and time.monotonic() < deadline:
                time.sleep(0.2)  # each worker opens its connection on its first poll
            rate, most = counts.rate()
            assert rate >= 0.75 * WORKERS, rate
            assert most == WORKERS
            assert not directory.exists()
    finally:
        counts.close()


def test_one_transition_one_log_line_and_one_webhook_per_host(tmp_path: Path, pg: PgServer) -> None:
    with Receiver() as hooks, serve("gunicorn", tmp_path, pg, hooks.url, shared=True) as served:
        base, _, log = served
        wait_ready_everywhere(base)
        gate = tmp_path / "gate"
        gate.write_text("fail")
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            answers = by_worker(base, "/readyz", want=WORKERS, tries=40)
            if len(answers) >= 2 and set(answers.values()) == {503}:
                break
            time.sleep(0.2)
        assert set(answers.values()) == {503}, answers
        # Every worker's /metrics gives the same check series (between two readings).
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            texts = _metrics_by_worker(base)
            if len(texts) >= 2 and len(set(texts.values())) == 1:
                break
        assert len(texts) >= 2
        assert len(set(texts.values())) == 1, texts
        (text,) = set(texts.values())
        assert 'healthprobe_check_status{check="gate",status="fail"} 1' in text
        gate.write_text("ok")
        wait_ready_everywhere(base)
        time.sleep(2.0)  # time for any second (wrong) delivery to arrive
        events = [(b["name"], b["event"]) for b in hooks.bodies]
        assert events.count(("gate", "failed")) == 1, hooks.bodies
        assert events.count(("gate", "recovered")) == 1, hooks.bodies
        lines = log.read_text().splitlines()
        assert sum("check gate failed" in line for line in lines) == 1, lines[-40:]
        assert sum("check gate recovered" in line for line in lines) == 1, lines[-40:]
        assert "Traceback" not in log.read_text()


def _metrics_by_worker(base: str) -> dict[int, str]:
    texts: dict[int, str] = {}
    for _ in range(60):
        response = httpx.get(f"{base}/metrics", timeout=5.0, headers={"Connection": "close"})
        pid = int(response.headers["x-worker-pid"])
        texts[pid] = "\n".join(
            line for line in response.text.splitlines() if line.startswith("healthprobe_check")
        )
        if len(texts) >= WORKERS:
            break
    return texts
