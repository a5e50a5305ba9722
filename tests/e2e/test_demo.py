"""`make demo`, the README's first command, ends up serving a ready service, fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start_demo(port: int, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HEALTHPROBE_DEMO_PORT": str(port), "HEALTHPROBE_DEMO_DATA": str(data)}
    return subprocess.Popen(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(url: str, limit: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            status, _ = get(url)
        except OSError:
            status = 0
        if status == 200:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer 200 within {limit} s")


def stop(process: subprocess.Popen[bytes]) -> bytes:
    os.killpg(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return out


def test_make_demo_serves_a_ready_service_and_is_up_within_5_s(tmp_path: Path) -> None:
    # First run: may install into .venv first.
    port = free_port()
    first = start_demo(port, tmp_path / "data")
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", limit=240)
        status, body = get(f"http://127.0.0.1:{port}/health")
        report = json.loads(body)
        assert status == 200
        assert {"database", "disk", "recommendations"} <= set(report["checks"])
    finally:
        output = stop(first)
    assert f"http://127.0.0.1:{port}/readyz" in output.decode()  # it prints the URLs to try
    assert (tmp_path / "data" / "demo.sqlite3").exists()

    # Installed: the second start must be up within 5 s.
    port = free_port()
    second = start_demo(port, tmp_path / "data")
    try:
        took = wait_ready(f"http://127.0.0.1:{port}/readyz", limit=15)
        # Degrade it through the demo's own switch: still in rotation, but degraded.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/demo/recommendations/down", method="POST"
        )
        with urllib.request.urlopen(request, timeout=2):
            pass
        time.sleep(1.2)  # the custom check's cache TTL
        status, body = get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200
        assert json.loads(body)["status"] == "degraded"
    finally:
        stop(second)
    assert took < 5.0, f"the installed demo took {took:.1f} s to be ready"
