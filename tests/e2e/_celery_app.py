"""The Celery app the worker e2e and service tests run as a real worker.

Configured from the environment so that every test run has its own queue
(``CELERY_QUEUE``), probe port (``PROBE_PORT``) and heartbeat deadline
(``MAX_AGE``); the broker is the machine's RabbitMQ, the result backend a
spare Redis database.  ``wedge`` blocks its worker's consumer (with the
``solo`` pool a task runs on the consumer's own thread) until the file
``path`` exists: a deadlock that the test can release.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import Celery

from healthprobe import Health
from healthprobe.integrations import celery as celery_health

BROKER = os.environ["CELERY_BROKER"]  # set by tests/e2e/_celery_worker.py
BACKEND = os.environ["CELERY_BACKEND"]
QUEUE = os.environ["CELERY_QUEUE"]

app = Celery("healthprobe_e2e", broker=BROKER, backend=BACKEND)
app.conf.update(
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=1,
    result_expires=300,  # the spare Redis database keeps no results for long
)

health = Health(version="e2e")
heartbeat_file = os.environ.get("HEARTBEAT_FILE")
wiring = celery_health.install(
    app,
    health,
    serve=bool(os.environ.get("PROBE_PORT")),
    port=int(os.environ.get("PROBE_PORT") or 0),
    max_age=float(os.environ.get("MAX_AGE", "30")),
    shutdown_cap=float(os.environ.get("SHUTDOWN_CAP", "25")),
    heartbeat_file=heartbeat_file or None,
)


@app.task(name="e2e.add")  # type: ignore[untyped-decorator]  # celery is untyped
def add(x: int, y: int) -> int:
    return x + y


@app.task(name="e2e.sleep")  # type: ignore[untyped-decorator]  # celery is untyped
def sleep(seconds: float, started: str | None = None, done: str | None = None) -> str:
    if started is not None:
        Path(started).write_text("started")
    time.sleep(seconds)
    if done is not None:
        Path(done).write_text("done")
    return "slept"


@app.task(name="e2e.wedge")  # type: ignore[untyped-decorator]  # celery is untyped
def wedge(path: str, limit: float = 50.0) -> str:
    deadline = time.monotonic() + limit
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return "released"
