"""Starting and stopping the real processes the observability e2e tests drive."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def process(args: list[str], log: Path, *, cwd: Path = ROOT) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` with output to ``log``; terminate it (then kill) on the way out."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    """Wait until ``url`` answers anything, failing early if ``proc`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited early:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def observed_app(tmp_path: Path) -> Iterator[str]:
    """Serve tests/e2e/_observed_app.py with uvicorn on a free port; yields its base URL."""
    port = free_port()
    log = tmp_path / "uvicorn.log"
    args = [
        sys.executable, "-m", "uvicorn", "tests.e2e._observed_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip
    with process(args, log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/livez", proc, log)
        yield base
