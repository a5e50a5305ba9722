"""Running a real Celery worker (tests/e2e/_celery_app.py) over the machine's RabbitMQ."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port, server_reachable

ROOT = Path(__file__).resolve().parents[2]
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
BACKEND = "redis://127.0.0.1:6379/11"  # a spare database of the machine's Redis


def require_brokers() -> None:
    """Skip unless the machine's RabbitMQ and Redis answer (they are CI services)."""
    if not server_reachable(5672):
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    if not server_reachable(6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    queue: str
    hostname: str
    port: int | None
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def unique_queue() -> str:
    """A queue (and worker) name of this test run alone."""
    return f"healthprobe-test-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def celery_worker(
    tmp_path: Path,
    *,
    pool: str = "solo",
    serve: bool = True,
    env: dict[str, str] | None = None,
    queue: str | None = None,
) -> Iterator[Worker]:
    """Start a worker consuming a queue of its own; kill it (and its pool) on the way out."""
    queue = queue or unique_queue()
    port = free_port() if serve else None
    hostname = f"{queue}@localhost"
    log = tmp_path / f"worker-{queue}.log"
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CELERY_QUEUE": queue,
        "CELERY_BROKER": BROKER,
        "CELERY_BACKEND": BACKEND,
        "PROBE_PORT": str(port) if port else "",
        **(env or {}),
    }
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), environment.get("PYTHONPATH", "")]
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.e2e._celery_app", "worker",
                f"--pool={pool}", "--concurrency=1", "-Q", queue, "-n", hostname,
                "--without-mingle", "--without-gossip", "--loglevel=INFO",
            ],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=environment,
            start_new_session=True,  # its own process group: the pool's children die with it
        )  # fmt: skip
        worker = Worker(proc, queue, hostname, port, log)
        try:
            yield worker
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGCONT)  # a stopped worker cannot die of TERM
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            remove_queue(queue)


def remove_queue(queue: str) -> None:
    """Delete the run's queue and its exchange from the machine's RabbitMQ (leave no litter)."""
    from kombu.connection import Connection  # only when a test runs

    with Connection(BROKER, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
        channel = connection.channel()
        try:
            channel.queue_delete(queue)
            channel.exchange_delete(queue)
        finally:
            channel.close()


@contextlib.contextmanager
def celery_client() -> Iterator[Any]:
    """A Celery app of the test's own to send tasks by name; its connections closed after."""
    import kombu.pools
    from celery import Celery

    app = Celery("healthprobe-test-client", broker=BROKER, backend=BACKEND, set_as_current=False)
    try:
        yield app
    finally:
        app.pool.force_close_all()
        app.close()
        app.backend.result_consumer.stop()  # the pub/sub connection result.get() opened
        app.backend.client.close()
        kombu.pools.reset()  # type: ignore[no-untyped-call]  # kombu shares pools per broker URL


def wait_status(
    worker: Worker, path: str, expected: int, timeout: float, client: httpx.Client
) -> float:
    """Poll ``path`` until it answers ``expected``; return the seconds it took."""
    started = time.monotonic()
    last: object = None
    while time.monotonic() - started < timeout:
        if worker.proc.poll() is not None:
            pytest.fail(f"the worker exited ({worker.proc.returncode}):\n{worker.output()}")
        try:
            last = client.get(f"{worker.url}{path}").status_code
        except httpx.TransportError as exc:
            last = exc
        if last == expected:
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"{path} never answered {expected} (last: {last!r}):\n{worker.output()}")
