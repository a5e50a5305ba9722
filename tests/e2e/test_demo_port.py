"""The demo on a busy port says which variable moves it; its URLs come once it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _env(port: int, data: Path) -> dict[str, str]:
    return {**os.environ, "HEALTHPROBE_DEMO_PORT": str(port), "HEALTHPROBE_DEMO_DATA": str(data)}


def test_a_busy_port_names_the_variable_that_moves_it(tmp_path: Path) -> None:
    with socket.socket() as busy:  # the test's own listener holds the port
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "examples.demo"],
            cwd=ROOT,
            env=_env(port, tmp_path / "data"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        f"healthprobe demo: cannot listen on 127.0.0.1:{port}: Address already in use.\n"
        "Set HEALTHPROBE_DEMO_PORT (or HEALTHPROBE_DEMO_HOST) to move it"
    ), proc.stderr
    assert f"HEALTHPROBE_DEMO_PORT={port + 1} make demo" in proc.stderr
    assert "curl" not in proc.stdout  # no URLs for a server that never listened
    assert "Traceback" not in proc.stderr


def test_the_urls_are_printed_once_the_server_answers(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        env=_env(port, tmp_path / "data"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "/livez" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the demo exited"
        assert "/livez" in line
        # At once, no retry: it prints the URL only when it answers on it.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=5) as response:
            assert response.status == 200
    finally:
        proc.terminate()  # by its own handle: only the process this test started
        proc.communicate(timeout=30)
