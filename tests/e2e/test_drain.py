"""A real uvicorn process drains on SIGTERM: readiness fails, the app keeps serving, exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[2]
DRAIN = 2.0


def _wait_ready(client: httpx.Client, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20.0
    while time.monotonic() < deadline:
        assert proc.poll() is None, "uvicorn exited before serving"
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail("uvicorn never became ready")


def test_sigterm_drains_then_exits_zero(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "tests.e2e._drain_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
            _wait_ready(client, proc)
            assert client.get("/livez").status_code == 200
            assert client.get("/anything").status_code == 200

            proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            seen: list[tuple[float, int, int, int]] = []
            # Poll the window (less a margin for scheduling) every ~50 ms.
            while time.monotonic() - sent < DRAIN - 0.3 and len(seen) < 200:
                ready = client.get("/readyz").status_code
                live = client.get("/livez").status_code
                app = client.get("/work").status_code
                seen.append((time.monotonic() - sent, ready, live, app))
                time.sleep(0.05)
            assert len(seen) >= 10, seen
            assert all(r == 503 for _, r, _, _ in seen), seen
            assert all(lv == 200 for _, _, lv, _ in seen), seen
            assert all(a == 200 for _, _, _, a in seen), seen

        code = proc.wait(timeout=15)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    output = (tmp_path / "uvicorn.log").read_text()
    assert code == 0, output
    # It did wait for the drain, and not much longer (generous bound).
    assert DRAIN - 0.1 <= elapsed < DRAIN + 8.0, (elapsed, output)
    assert "Traceback" not in output, output


def test_a_second_sigterm_hands_over_at_once(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "tests.e2e._drain_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
            _wait_ready(client, proc)
            proc.send_signal(signal.SIGTERM)
            for _ in range(40):  # until the drain has visibly begun
                if client.get("/readyz").status_code == 503:
                    break
                time.sleep(0.025)
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    assert code == 0, (tmp_path / "uvicorn.log").read_text()
    assert elapsed < DRAIN - 0.5, elapsed  # did not sit out the drain
