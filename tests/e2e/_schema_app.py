"""The FastAPI app the schemathesis test fuzzes through a real uvicorn process.

``install()`` adds the probe routes; the checks give every verdict a probe
can have: ``db`` passes, ``cache`` fails but is not critical (readiness
degraded, 200), ``search`` fails critically and sits only in the full
``/health`` report (503), ``heartbeat`` belongs to liveness and startup.
``details="always"`` puts every optional field (outputs, errors, observed
values) into the bodies the schema must describe.
"""

from __future__ import annotations

from fastapi import FastAPI

from healthprobe import CheckResult, Health
from healthprobe.integrations.fastapi import install

health = Health(version="e2e-schema")


@health.check(interval=0.5)
async def db() -> CheckResult:
    return CheckResult.passed("SELECT 1", observed_value=1.5, observed_unit="ms")


@health.check(interval=0.5, critical=False)
async def cache() -> bool:
    raise ConnectionError("cache is down")


@health.check(probes=())
async def search() -> tuple[bool, str]:
    return False, "index missing"


@health.check(probes=("live", "startup"))
def heartbeat() -> dict[str, object]:
    return {"status": "ok", "beats": 3}


app = FastAPI(title="healthprobe schema e2e")


@app.get("/work")
async def work() -> dict[str, str]:
    return {"app": "ok"}


install(app, health, drain=None, details="always")
