"""Running the installed ``healthprobe`` console script, and a real uvicorn, in subprocesses."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.conftest import server_reachable

ROOT = Path(__file__).resolve().parents[2]


def healthprobe_command() -> list[str]:
    """The installed console script (next to this interpreter), else ``python -m healthprobe``."""
    script = Path(sys.executable).with_name("healthprobe")
    if script.exists():
        return [str(script)]
    found = shutil.which("healthprobe")
    return [found] if found else [sys.executable, "-m", "healthprobe"]


def run_cli(
    args: Sequence[str], *, timeout: float = 60, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``healthprobe ARGS``; return the completed process and its wall time."""
    started = time.monotonic()
    proc = subprocess.run(
        [*healthprobe_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return proc, time.monotonic() - started


def wait_listening(port: int, proc: subprocess.Popen[bytes], limit: float = 15.0) -> None:
    """Block until ``port`` accepts connections (bounded); fail if ``proc`` died."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before listening")
        if server_reachable(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {limit} s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM ``proc`` by its PID, SIGKILL it if it lingers; return its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


@contextlib.contextmanager
def uvicorn_app(port: int, log: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """The test app (``tests/e2e/_cli_app.py``) in a real uvicorn process on ``port``."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.e2e._cli_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                # /sleep requests may still be open at the end: do not wait for them.
                "--timeout-graceful-shutdown",
                "1",
                *extra,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_listening(port, proc)
            yield proc
        finally:
            stop(proc)
