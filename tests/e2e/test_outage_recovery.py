"""Outage and recovery under load: test-owned Redis and PostgreSQL stop and come back.

A real uvicorn process serves the resilience app, which polls a private
Redis and a private PostgreSQL (``interval`` 0.5 s, ``timeout`` 1 s).  A
client loop hits ``/readyz`` every ~20 ms for the whole run while each server
is stopped and started again on the same port.  What must hold:

* never a 500 and never a transport error: only 200 or 503;
* readiness turns 503 within one interval plus the check timeout (plus a
  margin for a loaded 2-core machine) of the server going away;
* readiness is 200 again within one interval (plus the margin) of the
  server accepting connections again, so the checks reconnect by themselves.

A third outage freezes Redis (SIGSTOP: connections stay open, nothing
answers), the case only the check's own timeout catches; SIGCONT thaws it.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis as redis_client

from tests.conftest import REQUIRE_SERVICES
from tests.e2e._replicas import Replica, Sampler, running
from tests.services._owned_servers import owned_redis
from tests.services._pg_server import can_run, pg_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

INTERVAL = 0.5
TIMEOUT = 1.0
# Scheduling slack on a shared 2-core machine (observed delays are reported).
MARGIN = 1.5


def _await(sampler: Sampler, since: float, status: int, limit: float) -> float | None:
    """Wait (bounded by ``limit`` seconds after ``since``) for ``status`` to be sampled."""
    until = since + limit
    while time.monotonic() < until + 0.2:
        found = sampler.first_after(since, status, until)
        if found is not None:
            return found
        time.sleep(0.05)
    return sampler.first_after(since, status, until)


class _Freezer:
    """SIGSTOP/SIGCONT for the owned redis-server, whose PID it asks the server for."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pid = 0

    def freeze(self) -> None:
        # Asked at freeze time: the stop/start before has given it a new PID.
        with redis_client.Redis(port=self.port) as admin:
            self.pid = int(admin.info("server")["process_id"])
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)


def _outage(
    sampler: Sampler, name: str, stop: Callable[[], None], start: Callable[[], None]
) -> tuple[float, float]:
    """Stop then start one server; return (seconds to 503, seconds back to 200)."""
    began = time.monotonic()
    stop()
    stop_took = time.monotonic() - began
    to_503 = _await(sampler, began, 503, stop_took + INTERVAL + TIMEOUT + MARGIN)
    assert to_503 is not None, f"{name} stopped ({stop_took:.2f} s) but /readyz stayed 200"
    time.sleep(INTERVAL * 2)  # stay down for a few polls
    down = time.monotonic()
    start()
    up = time.monotonic()
    to_200 = _await(sampler, up, 200, INTERVAL + MARGIN)
    assert to_200 is not None, (
        f"{name} back (start took {up - down:.2f} s) but /readyz not 200 within "
        f"{INTERVAL + MARGIN} s"
    )
    return to_503, to_200


def test_readiness_follows_redis_and_postgres_outages(tmp_path: Path) -> None:
    reason = can_run()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    (tmp_path / "redis").mkdir()
    with owned_redis(tmp_path / "redis") as redis, pg_server() as pg:
        env = {
            "HP_E2E_REDIS": f"redis://127.0.0.1:{redis.port}/0",
            "HP_E2E_PG": pg.dsn,
            "HP_E2E_INTERVAL": str(INTERVAL),
            "HP_E2E_TIMEOUT": str(TIMEOUT),
        }
        with running(Replica("app", env, tmp_path)) as app:
            app.wait_status("/readyz", 200, timeout=20.0)
            frozen = _Freezer(redis.port)
            with Sampler(f"{app.base}/readyz", max_seconds=90.0) as sampler:
                time.sleep(1.0)
                timings = {
                    "redis": _outage(sampler, "redis", redis.stop, redis.start),
                    "postgres": _outage(sampler, "postgres", pg.stop, pg.start),
                    "redis frozen": _outage(sampler, "redis frozen", frozen.freeze, frozen.thaw),
                }
                time.sleep(1.0)  # and it stays up
            log = app.log_text()

    statuses = Counter(status for _, status in sampler.samples)
    assert not sampler.errors, sampler.errors[:5]
    assert set(statuses) == {200, 503}, statuses
    assert len(sampler.samples) > 100, statuses
    # The last moments, after every recovery, are all 200.
    tail = [s for at, s in sampler.samples if at > sampler.samples[-1][0] - 0.8]
    assert tail, sampler.samples[-5:]
    assert all(s == 200 for s in tail), tail
    assert "Traceback" not in log, log
    print(f"timings (s to 503, s back to 200): {timings}; statuses {dict(statuses)}")
