"""The application the work-in-flight drain test serves with a real uvicorn process.

``POST /start`` begins a background job (not a request: uvicorn itself would
not wait for it) that holds ``health.lifecycle.work("job")`` for
``JOB_SECONDS`` and then writes ``$WORK_DONE_FILE``.  The drain minimum is
short and the cap long, so a graceful exit that comes after the job proves
the drain waited for the work.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from healthprobe import Health
from healthprobe.integrations.asgi import HealthMiddleware

JOB_SECONDS = 3.0
health = Health(version="e2e")
_jobs: set[asyncio.Task[None]] = set()


async def job() -> None:
    async with health.lifecycle.work("job"):
        await asyncio.sleep(JOB_SECONDS)
        await asyncio.to_thread(Path(os.environ["WORK_DONE_FILE"]).write_text, "done")


async def inner(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/start":
        task = asyncio.ensure_future(job())
        _jobs.add(task)
        task.add_done_callback(_jobs.discard)
        await asyncio.sleep(0)  # the job has opened its work before we answer
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app ok"})


app = HealthMiddleware(inner, health, drain=0.5)
app.lifecycle.drain_max = 20.0
