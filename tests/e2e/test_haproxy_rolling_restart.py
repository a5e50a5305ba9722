"""A rolling restart behind a real HAProxy drops no client request, thanks to the drain.

Two uvicorn replicas of the resilience app (``HealthMiddleware``, 2 s drain)
sit behind Debian's ``haproxy`` health-checking ``GET /readyz`` every 200 ms
(``fall 2``: a replica is taken out about 0.4 s after readiness fails, well
inside the drain).  Client threads send a steady stream of requests through
HAProxy while each replica in turn gets SIGTERM, exits, is started again and
becomes ready (and HAProxy sees it up) before the other one restarts.

HAProxy is configured without request retries or redispatch, so a request
that reaches a replica which is no longer serving would fail the test: only
the drain keeps the count at zero.
"""

from __future__ import annotations

import contextlib
import csv
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES, free_port, server_reachable
from tests.e2e._replicas import Replica, running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

DRAIN = 2.0
CLIENTS = 4
MAX_LOAD_SECONDS = 40.0


def _haproxy() -> str:
    path = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if path is None:
        message = "haproxy is not installed (apt-get install -y haproxy)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _config(port: int, stats: Path, replicas: list[Replica]) -> str:
    servers = "\n".join(
        f"    server {r.name} 127.0.0.1:{r.port} check inter 200ms fall 2 rise 2" for r in replicas
    )
    return f"""\
global
    maxconn 512
    stats socket {stats} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    retries 0

frontend web
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
{servers}
"""


@contextlib.contextmanager
def _haproxy_running(config: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """HAProxy in the foreground (``-db``), stopped by its PID."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [_haproxy(), "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 10
        while not server_reachable(port) and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert server_reachable(port), log.read_text()
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _server_states(stats: Path, backend: str = "app") -> dict[str, str]:
    """HAProxy's own view of each server of ``backend`` (``UP``, ``DOWN``, ``NOLB``...)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        sock.connect(str(stats))
        sock.sendall(b"show stat\n")
        chunks = []
        for _ in range(1000):
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    lines = b"".join(chunks).decode().lstrip("# ").splitlines()
    rows = csv.DictReader(line for line in lines if line)
    return {row["svname"]: row["status"] for row in rows if row["pxname"] == backend}


def _wait_state(stats: Path, name: str, state: str, timeout: float) -> float:
    began = time.monotonic()
    seen = ""
    while time.monotonic() - began < timeout:
        try:
            seen = _server_states(stats).get(name, "")
        except OSError as exc:  # HAProxy binds its stats socket after its frontend
            seen = repr(exc)
        if seen == state:
            return time.monotonic() - began
        time.sleep(0.05)
    pytest.fail(f"HAProxy never saw {name} {state} (last: {seen!r})")


class _Load:
    """Client threads sending requests through HAProxy, bounded in time and count."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.bodies: Counter[str] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(CLIENTS)]

    def _loop(self) -> None:
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        with httpx.Client(timeout=5.0) as client:
            for _ in range(50_000):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                try:
                    reply = client.get(self.url)
                    outcome = reply.text if reply.status_code == 200 else None
                    failure = f"HTTP {reply.status_code}: {reply.text[:80]}"
                except httpx.TransportError as exc:
                    outcome, failure = None, f"{type(exc).__name__}: {exc}"
                with self._lock:
                    if outcome is None:
                        self.failures.append(failure)
                    else:
                        self.bodies[outcome] += 1
                time.sleep(0.005)

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def total(self) -> int:
        with self._lock:
            return sum(self.bodies.values()) + len(self.failures)


def test_rolling_restart_behind_haproxy_fails_no_request(tmp_path: Path) -> None:
    _haproxy()
    env = {"HP_E2E_DRAIN": str(DRAIN)}
    one = Replica("r1", {**env, "HP_E2E_NAME": "r1"}, tmp_path)
    two = Replica("r2", {**env, "HP_E2E_NAME": "r2"}, tmp_path)
    port, stats = free_port(), tmp_path / "haproxy.sock"
    config = tmp_path / "haproxy.cfg"
    config.write_text(_config(port, stats, [one, two]))
    restarts: list[dict[str, float]] = []
    with running(one), running(two):
        for replica in (one, two):
            replica.wait_status("/readyz", 200, timeout=20.0)
        with _haproxy_running(config, port, tmp_path / "haproxy.log"):
            _wait_state(stats, "r1", "UP", 10.0)
            _wait_state(stats, "r2", "UP", 10.0)
            with _Load(f"http://127.0.0.1:{port}/work") as load:
                time.sleep(1.0)
                for replica in (one, two):
                    before = load.total()
                    began = time.monotonic()
                    code = replica.terminate()
                    exited = time.monotonic() - began
                    assert code == 0, replica.log_text()
                    replica.start()
                    replica.wait_status("/readyz", 200, timeout=20.0)
                    up = _wait_state(stats, replica.name, "UP", 10.0)
                    restarts.append(
                        {
                            "exit_s": exited,
                            "back_up_s": time.monotonic() - began,
                            "haproxy_up_s": up,
                        }
                    )
                    assert load.total() > before, "no traffic during the restart"
                time.sleep(1.0)
            haproxy_log = (tmp_path / "haproxy.log").read_text()

    served = sum(load.bodies.values())
    assert not load.failures, (load.failures[:10], haproxy_log[-2000:])
    assert served > 200, load.bodies
    assert set(load.bodies) == {"app ok r1", "app ok r2"}, load.bodies
    # The drain is what held the replica up: it exited only after it.
    assert all(r["exit_s"] >= DRAIN - 0.1 for r in restarts), restarts
    print(f"served {served} ({dict(load.bodies)}), 0 failed; restarts {restarts}")
