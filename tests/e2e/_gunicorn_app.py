"""A Flask app with healthprobe, served by a real gunicorn in tests/e2e/test_gunicorn.py.

The checks read their outcome from files the test writes (the workers are
separate processes), and the polled ``heartbeat`` check records which
process polls it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from flask import Flask

from healthprobe import Health
from healthprobe.integrations.flask import HealthProbe

STATE = Path(os.environ["HP_TEST_STATE"])
PIDS = Path(os.environ["HP_TEST_PIDS"])

health = Health(version="1.0.0")


@health.check(timeout=2.0)
async def db() -> tuple[bool, str]:
    """An async check, run by the worker's engine thread under a sync worker."""
    await asyncio.sleep(0.01)
    state = (await asyncio.to_thread(STATE.read_text)).strip()
    return state == "ok", f"state is {state}"


@health.check(interval=0.2, critical=False, timeout=1.0)
def heartbeat() -> bool:
    with PIDS.open("a") as out:
        out.write(f"{os.getpid()}\n")
    return True


app = Flask(__name__)
HealthProbe(app, health=health, details="always")


@app.route("/")
def home() -> str:
    return f"served by {os.getpid()}"
