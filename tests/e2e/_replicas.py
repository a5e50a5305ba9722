"""uvicorn replicas of ``tests/e2e/_resilience_app.py`` that a test starts, stops and restarts.

Each replica keeps its port across restarts (what a load balancer's
server line expects) and is stopped by its own PID only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class Replica:
    """One uvicorn process serving the resilience app on a fixed loopback port."""

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        workdir: Path,
        *,
        app: str = "tests.e2e._resilience_app:app",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.app = app
        self.extra_args = extra_args
        self.port = free_port()
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.log_path = workdir / f"{name}.log"
        self.base = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start uvicorn; return once the port answers HTTP (not necessarily ready)."""
        assert self._proc is None or self._proc.poll() is not None, f"{self.name} is running"
        args = [
            sys.executable, "-m", "uvicorn", self.app,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--no-access-log", "--timeout-graceful-shutdown", "5", *self.extra_args,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_status("/livez", 200, timeout=30.0)

    def wait_status(self, path: str, status: int, timeout: float) -> float:
        """Poll ``path`` until it answers ``status``; return the seconds it took."""
        began = time.monotonic()
        deadline = began + timeout
        last: object = None
        with httpx.Client(base_url=self.base, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.poll() is not None:
                    pytest.fail(f"{self.name} exited early:\n{self.log_text()}")
                try:
                    last = client.get(path).status_code
                    if last == status:
                        return time.monotonic() - began
                except httpx.TransportError as exc:
                    last = exc
                time.sleep(0.05)
        pytest.fail(f"{self.name}{path} never answered {status} (last: {last!r})")

    def signal_term(self) -> None:
        """SIGTERM without waiting: the drain begins while the process keeps serving."""
        proc = self._proc
        assert proc is not None, f"{self.name} is not running"
        assert proc.poll() is None, f"{self.name} has exited"
        proc.send_signal(signal.SIGTERM)

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait for the exit (the drain runs first); return the exit code."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return proc.returncode if proc is not None else 0
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail(f"{self.name} did not exit within {timeout} s of SIGTERM")

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


@contextlib.contextmanager
def running(replica: Replica) -> Iterator[Replica]:
    """Start ``replica``; on the way out kill it if a test left it running."""
    replica.start()
    try:
        yield replica
    finally:
        replica.kill()


class Sampler:
    """A background loop of GETs, bounded in count and time, recording what came back.

    ``samples`` holds ``(monotonic time, status)``; a transport error is
    recorded with status 0 and its text in ``errors``.
    """

    def __init__(
        self,
        url: str,
        *,
        pause: float = 0.02,
        max_seconds: float = 60.0,
        max_requests: int = 20_000,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.pause = pause
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.timeout = timeout
        self.samples: list[tuple[float, int]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def _loop(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(timeout=self.timeout) as client:
            for _ in range(self.max_requests):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                try:
                    status = client.get(self.url).status_code
                except httpx.TransportError as exc:
                    status = 0
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                self.samples.append((time.monotonic(), status))
                time.sleep(self.pause)

    def first_after(self, since: float, status: int, until: float) -> float | None:
        """Seconds from ``since`` to the first sample with ``status``, or None."""
        for at, seen in list(self.samples):
            if since <= at <= until and seen == status:
                return at - since
        return None
