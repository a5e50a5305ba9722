"""One replica of a service for tests/e2e/test_prometheus_rules.py (uvicorn, one per port).

``dep`` fails while the file ``HP_FLEET_STATE`` says ``fail``; ``slow``
(non-critical, timeout 1 s) takes as many seconds as ``HP_FLEET_SLOW`` says.
Both are polled every 0.25 s, so a change shows in the next scrape.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from healthprobe import Health
from healthprobe.integrations.asgi import HealthApp

STATE = Path(os.environ["HP_FLEET_STATE"])
SLOW = Path(os.environ["HP_FLEET_SLOW"])

health = Health(version="fleet")


@health.check(interval=0.25, timeout=1.0)
def dep() -> tuple[bool, str]:
    state = STATE.read_text().strip()
    return state != "fail", f"state is {state}"


@health.check(interval=0.25, timeout=1.0, critical=False)
async def slow() -> bool:
    seconds = float((await asyncio.to_thread(SLOW.read_text)) or 0)
    await asyncio.sleep(seconds)
    return True


app = HealthApp(health, drain=None)
