"""``serve_in_thread`` in a process of its own: SIGTERM drains, then the process ends."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

from ._processes import process, wait_for

pytestmark = pytest.mark.timeout(60)


def _start(tmp_path: Path, drain: float, *extra: str) -> tuple[list[str], Path, str]:
    port = free_port()
    args = [sys.executable, "-m", "tests.e2e._thread_server_app", str(port), str(drain), *extra]
    return args, tmp_path / "worker.log", f"http://127.0.0.1:{port}"


def test_sigterm_fails_readiness_at_once_serves_the_drain_then_exits(tmp_path: Path) -> None:
    args, log, base = _start(tmp_path, 1.5)
    with process(args, log) as proc:
        wait_for(f"{base}/livez", proc, log)
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.1)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 503
        assert httpx.get(f"{base}/livez", timeout=5).status_code == 200
        assert "lifecycle/shutdown" in httpx.get(f"{base}/readyz?verbose", timeout=5).text
        code = proc.wait(timeout=20)
        elapsed = time.monotonic() - signalled
    assert code == -signal.SIGTERM  # the default action, handed over after the drain
    assert elapsed >= 1.2, elapsed


def test_the_drain_hands_over_to_the_workers_own_handler(tmp_path: Path) -> None:
    args, log, base = _start(tmp_path, 0.5, "own-handler")
    with process(args, log) as proc:
        wait_for(f"{base}/livez", proc, log)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 503
        assert "warm shutdown" not in log.read_text()  # not before the drain
        code = proc.wait(timeout=20)
    assert code == 0
    assert log.read_text().splitlines()[-2:] == ["warm shutdown", "worker done"]


def test_a_second_sigterm_hands_over_at_once(tmp_path: Path) -> None:
    args, log, base = _start(tmp_path, 30.0)
    with process(args, log) as proc:
        wait_for(f"{base}/livez", proc, log)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM


def test_work_in_flight_holds_the_hand_over_until_it_is_done(tmp_path: Path) -> None:
    args, log, base = _start(tmp_path, 0.2, "job=4")
    with process(args, log) as proc:
        wait_for(f"{base}/livez", proc, log)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.1)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 503
        time.sleep(0.6)  # past the 0.2 s drain: the job holds the process
        assert proc.poll() is None, log.read_text()
        assert httpx.get(f"{base}/livez", timeout=5).status_code == 200
        code = proc.wait(timeout=20)
        elapsed = time.monotonic() - signalled
    assert code == -signal.SIGTERM
    # The job thread is a daemon: had the process ended at the drain, it would not have finished.
    assert "job done" in log.read_text()
    assert elapsed < 15, elapsed  # the job's few seconds, well under the 20 s cap
