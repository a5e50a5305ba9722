"""A real Celery worker over the machine's RabbitMQ, with healthprobe's Celery integration.

* /livez answers 200 while it consumes; a task that wedges its consumer
  turns it 503 within ``max_age``; releasing the wedge recovers it;
* SIGTERM with a task running: readiness 503 at once, liveness 200, and the
  worker exits 0 after the task finishes, under the shutdown cap;
* the exec variant: the heartbeat file follows the consumer, so
  ``healthprobe check --heartbeat-file`` fails within ``max_age`` of a
  SIGSTOP of the worker and passes again after SIGCONT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e._celery_worker import (
    ROOT,
    celery_client,
    celery_worker,
    require_brokers,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

MAX_AGE = 3.0


@pytest.fixture(autouse=True)
def _brokers() -> None:
    require_brokers()


@pytest.fixture
def tasks() -> Iterator[Any]:
    """A Celery client app of this test's own (the worker runs the tasks by name)."""
    with celery_client() as app:
        yield app


def test_livez_follows_the_consumer_wedged_and_released(tmp_path: Path, tasks: Any) -> None:
    env = {"MAX_AGE": str(MAX_AGE)}
    with celery_worker(tmp_path, pool="solo", env=env) as worker, httpx.Client(timeout=2) as client:
        wait_status(worker, "/readyz", 200, 30, client)
        # It consumes, and stays live while it does.
        for i in range(3):
            result = tasks.send_task("e2e.add", (i, 1), queue=worker.queue)
            assert result.get(timeout=20) == i + 1
            assert client.get(f"{worker.url}/livez").status_code == 200
        time.sleep(MAX_AGE + 1)  # idle longer than max_age: the consumer's timer keeps beating
        assert client.get(f"{worker.url}/livez").status_code == 200

        release = tmp_path / "release"
        tasks.send_task("e2e.wedge", (str(release),), queue=worker.queue)
        wedged_at = time.monotonic()
        took = wait_status(worker, "/livez", 503, MAX_AGE + 15, client)
        assert time.monotonic() - wedged_at <= MAX_AGE + 15
        body = client.get(f"{worker.url}/livez?verbose").text
        assert "[-]celery.consumer failed" in body, body
        assert took >= MAX_AGE - 1.5, "it failed before max_age had passed"

        release.write_text("go")
        wait_status(worker, "/livez", 200, 15, client)
        wait_status(worker, "/readyz", 200, 15, client)


def test_sigterm_fails_readiness_at_once_and_exits_after_the_running_task(
    tmp_path: Path, tasks: Any
) -> None:
    started, done = tmp_path / "started", tmp_path / "done"
    task_seconds = 4.0
    env = {"MAX_AGE": str(MAX_AGE), "SHUTDOWN_CAP": "30"}
    with (
        celery_worker(tmp_path, pool="prefork", env=env) as worker,
        httpx.Client(timeout=2) as client,
    ):
        wait_status(worker, "/readyz", 200, 30, client)
        tasks.send_task("e2e.sleep", (task_seconds, str(started), str(done)), queue=worker.queue)
        deadline = time.monotonic() + 20
        while not started.exists():
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.05)
        worker.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        took = wait_status(worker, "/readyz", 503, 5, client)
        assert took < 2.0, took  # at once (the bound is generous for a loaded machine)
        assert client.get(f"{worker.url}/livez").status_code == 200  # draining is not dead
        while worker.proc.poll() is None and time.monotonic() - sent < task_seconds - 1.5:
            assert client.get(f"{worker.url}/readyz").status_code == 503
            assert client.get(f"{worker.url}/livez").status_code == 200
            time.sleep(0.2)
        code = worker.proc.wait(timeout=40)
        elapsed = time.monotonic() - sent
    assert code == 0, worker.output()
    assert done.read_text() == "done", worker.output()  # the task finished, then the exit
    assert elapsed < 30, elapsed  # under the cap
    assert "cold shutdown" not in worker.output()


def _exec_probe(path: Path) -> int:
    return subprocess.run(
        [sys.executable, "-m", "healthprobe", "check", "--heartbeat-file", str(path),
         "--max-age", str(MAX_AGE)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True, timeout=20, check=False,
    ).returncode  # fmt: skip


def test_exec_probe_on_the_heartbeat_file_follows_sigstop_and_sigcont(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    env = {"MAX_AGE": str(MAX_AGE), "HEARTBEAT_FILE": str(beat)}
    with celery_worker(tmp_path, pool="prefork", serve=False, env=env) as worker:
        deadline = time.monotonic() + 30
        while _exec_probe(beat) != 0:
            assert worker.proc.poll() is None, worker.output()
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.3)
        os.kill(worker.proc.pid, signal.SIGSTOP)  # the consumer (the main process) stops
        stopped = time.monotonic()
        try:
            while _exec_probe(beat) == 0:
                assert time.monotonic() - stopped < MAX_AGE + 15
                time.sleep(0.3)
            assert time.monotonic() - stopped >= MAX_AGE - 1.5, "failed before max_age"
        finally:
            os.kill(worker.proc.pid, signal.SIGCONT)
        resumed = time.monotonic()
        while _exec_probe(beat) != 0:
            assert time.monotonic() - resumed < 15, worker.output()
            time.sleep(0.3)


def test_a_warm_shutdown_still_waiting_at_the_cap_turns_cold(tmp_path: Path, tasks: Any) -> None:
    started = tmp_path / "started"
    env = {"MAX_AGE": str(MAX_AGE), "SHUTDOWN_CAP": "3"}
    with (
        celery_worker(tmp_path, pool="prefork", env=env) as worker,
        httpx.Client(timeout=2) as client,
    ):
        wait_status(worker, "/readyz", 200, 30, client)
        tasks.send_task("e2e.sleep", (40.0, str(started)), queue=worker.queue)
        deadline = time.monotonic() + 20
        while not started.exists():
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.05)
        worker.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        wait_status(worker, "/readyz", 503, 5, client)
        code = worker.proc.wait(timeout=30)
        elapsed = time.monotonic() - sent
    output = worker.output()
    assert code >= 0, output  # it exited on its own, not killed by a signal
    assert 3.0 <= elapsed < 20, (elapsed, output)  # at the cap, not after the 40 s task
    assert "still waits for 1 tasks after 3 s; cold shutdown (SIGQUIT)" in output
