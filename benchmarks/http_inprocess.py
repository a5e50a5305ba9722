"""In-process cost of each HTTP benchmark target: the ASGI app called directly, no server.

Run:  .venv/bin/python benchmarks/http_inprocess.py   (about 20 s)

Complements http_bench.py: throughput through uvicorn depends on the machine's
load, while the microseconds an application spends per request (called with a
ready-made scope and no-op send/receive) do not, much.  Medians of 5 batches.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import statistics
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from healthprobe import Health
from healthprobe.http.handler import ProbeHandler

sys.path.insert(0, str(Path(__file__).parent))  # for _http_bench_apps
BATCH = 5000


async def _send(message: MutableMapping[str, Any]) -> None:
    return None


async def _receive() -> MutableMapping[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "state": {},
    }


def _load(kind: str) -> Any:
    os.environ["BENCH_APP"] = kind
    module = importlib.import_module("_http_bench_apps")
    return importlib.reload(module).app


async def _per_request_us(app: Any, path: str) -> float:
    scope = _scope(path)
    for _ in range(500):
        await app(dict(scope), _receive, _send)
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(BATCH):
            await app(dict(scope), _receive, _send)
        batches.append((time.perf_counter() - started) / BATCH * 1e6)
    return statistics.median(batches)


async def main() -> None:
    kinds = ("floor", "same_answer", "starlette", "fastapi", "middleware", "fastapi_probes")
    apps = {kind: _load(kind) for kind in kinds}
    healths = {obj.health for obj in gc.get_objects() if isinstance(obj, ProbeHandler)}
    for health in healths:
        assert isinstance(health, Health)
        health.lifecycle.mark_started()
        await health.astart()
    await asyncio.sleep(0.3)  # the first polls
    targets = [
        ("raw ASGI fixed JSON (floor)", "floor", "/"),
        ("raw ASGI, healthprobe's /livez bytes (same-answer floor)", "same_answer", "/"),
        ("bare Starlette route", "starlette", "/json"),
        ("bare FastAPI route", "fastapi", "/json"),
        ("middleware /livez", "middleware", "/livez"),
        ("middleware /readyz (10 polled)", "middleware", "/readyz"),
        ("FastAPI install() /livez", "fastapi_probes", "/livez"),
        ("FastAPI install() /readyz (10 polled)", "fastapi_probes", "/readyz"),
    ]
    print("| target | app time per request (in process) |")
    print("|---|---:|")
    for label, kind, path in targets:
        print(f"| {label} | {await _per_request_us(apps[kind], path):.1f} us |")
    for health in healths:
        await health.astop()


if __name__ == "__main__":
    asyncio.run(main())
