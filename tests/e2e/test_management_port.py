"""The management listener under a real uvicorn: lifecycle, drain, binding errors, overload."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

from ._processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@contextmanager
def uvicorn(
    tmp_path: Path,
    *,
    target: str = "tests.e2e._management_app:app",
    factory: bool = False,
    **env: str,
) -> Iterator[tuple[subprocess.Popen[bytes], str, str, Path]]:
    """Run ``target`` under uvicorn; yields (process, app URL, management URL, log)."""
    port, mgmt = free_port(), free_port()
    env.setdefault("HP_MGMT_PORT", str(mgmt))
    log = tmp_path / "uvicorn.log"
    args = [
        sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", *(["--factory"] if factory else []),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )  # fmt: skip
        try:
            yield proc, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{env['HP_MGMT_PORT']}", log
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def _until(
    predicate: object, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30
) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"uvicorn exited early:\n{log.read_text()[-3000:]}")
        try:
            if predicate():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"condition not met in {timeout} s:\n{log.read_text()[-3000:]}")


def _status(url: str) -> int:
    return httpx.get(url, timeout=5).status_code


def test_starts_before_the_apps_startup_and_serves_the_same_endpoints(tmp_path: Path) -> None:
    with uvicorn(tmp_path, HP_STARTUP="1.5") as (proc, app, mgmt, log):
        _until(lambda: _status(f"{mgmt}/livez") == 200, proc, log)
        # The app is still warming up: alive, not started, not ready; its own port is closed.
        assert _status(f"{mgmt}/startupz") == 503
        assert _status(f"{mgmt}/readyz") == 503
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{app}/livez", timeout=1)
        _until(lambda: _status(f"{mgmt}/readyz") == 200, proc, log)
        assert _status(f"{app}/readyz") == 200
        assert httpx.get(f"{mgmt}/metrics", timeout=5).text.startswith("# HELP")
        assert _status(f"{mgmt}/health/ui") == 200
        assert httpx.get(f"{mgmt}/", timeout=5).status_code == 404  # not the app's routes


def test_answers_while_the_apps_loop_is_blocked(tmp_path: Path) -> None:
    with uvicorn(tmp_path) as (proc, app, mgmt, log):
        _until(lambda: _status(f"{app}/readyz") == 200, proc, log)
        blocker = threading.Thread(
            target=lambda: httpx.get(f"{app}/block?ms=3000", timeout=10), daemon=True
        )
        blocker.start()
        time.sleep(0.3)  # the loop is now inside the sync call
        started = time.monotonic()
        assert _status(f"{mgmt}/livez") == 200
        answered = time.monotonic() - started
        with pytest.raises(httpx.TimeoutException):
            httpx.get(f"{app}/livez", timeout=1.0)  # the app's port queues behind the call
        blocker.join(10)
    assert answered < 1.0, answered


def test_drains_on_sigterm_with_the_app_then_stops(tmp_path: Path) -> None:
    drain = 2.0
    with uvicorn(tmp_path, HP_DRAIN=str(drain)) as (proc, app, mgmt, log):
        _until(lambda: _status(f"{mgmt}/readyz") == 200, proc, log)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        seen: list[tuple[int, int, int]] = []
        while time.monotonic() - sent < drain - 0.4 and len(seen) < 100:
            seen.append((_status(f"{mgmt}/readyz"), _status(f"{mgmt}/livez"), _status(app + "/")))
            time.sleep(0.05)
        assert len(seen) >= 5, seen
        assert all(row == (503, 200, 200) for row in seen), seen
        code = proc.wait(timeout=20)
        elapsed = time.monotonic() - sent
        output = log.read_text()
        assert code == 0, output
        assert elapsed >= drain - 0.2, elapsed
        with pytest.raises(httpx.ConnectError):  # the listener closed with the app
            httpx.get(f"{mgmt}/livez", timeout=2)


def test_a_taken_management_port_fails_the_startup_clearly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with uvicorn(tmp_path, HP_MGMT_PORT=str(port)) as (proc, _app, _mgmt, log):
            code = proc.wait(timeout=30)
            output = log.read_text()
    assert code != 0, output
    assert f"healthprobe cannot listen on 127.0.0.1:{port}: Address already in use" in output
    assert "Traceback" not in output


def test_fastapi_install_serves_the_management_port(tmp_path: Path) -> None:
    target = "tests.e2e._management_app:fastapi_app"
    with uvicorn(tmp_path, target=target, factory=True) as (proc, app, mgmt, log):
        _until(lambda: _status(f"{mgmt}/readyz") == 200, proc, log)
        assert _status(f"{app}/readyz") == 200
        blocker = threading.Thread(
            target=lambda: httpx.get(f"{app}/block?ms=2000", timeout=10), daemon=True
        )
        blocker.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert _status(f"{mgmt}/livez") == 200
        assert time.monotonic() - started < 1.0
        blocker.join(10)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert _status(f"{mgmt}/readyz") == 503
        assert proc.wait(timeout=20) == 0, log.read_text()
