"""The demo service of `make demo`: a small FastAPI app with healthprobe on embedded defaults.

It needs nothing but this repository: an SQLite database file (created under
``demo-data/``), the disk the repository sits on, and a custom check you can
break and mend from the browser.  Run it with ``make demo`` (or
``python -m examples.demo``); ``HEALTHPROBE_DEMO_HOST`` / ``HEALTHPROBE_DEMO_PORT``
move it from 127.0.0.1:8000.  On a busy port it says so, and which variable
moves it; the URLs to try are printed once the server really answers.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from healthprobe import CheckResult, Health, __version__
from healthprobe.checks import DiskCheck, LoopLagCheck, SQLiteCheck
from healthprobe.integrations.fastapi import install

DATA = Path(os.environ.get("HEALTHPROBE_DEMO_DATA", "demo-data"))
DATABASE = DATA / "demo.sqlite3"
#: The demo's own "dependency": flip it with POST /demo/recommendations/{up|down}.
RECOMMENDATIONS = {"up": True}


def prepare_database() -> None:
    """Create the demo database file with one table, once."""
    DATA.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(DATABASE) as db:
        db.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)")
        if db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0:
            db.executemany("INSERT INTO items (name) VALUES (?)", [("kettle",), ("teapot",)])


def build_health() -> Health:
    """The demo's checks: a database, the disk, the event loop and a custom one."""
    health = Health(version=__version__)
    # Critical: without its database the service cannot serve. Polled every
    # 5 s, so probes never touch the database themselves.
    health.add(SQLiteCheck(DATABASE, name="database"), interval=5.0)
    health.add(DiskCheck(Path.cwd(), name="disk", used_warn=90, used_fail=97), interval=10.0)
    health.add(LoopLagCheck(name="event_loop"), critical=False, interval=2.0)

    # A custom check: non-critical, so when it fails the service is degraded
    # (200, "degraded") but stays in rotation.
    @health.check(critical=False, cache_ttl=1.0)
    async def recommendations() -> CheckResult:
        if RECOMMENDATIONS["up"]:
            return CheckResult.passed(
                "recommendation engine answers", observed_value=12, observed_unit="ms"
            )
        return CheckResult.failed("recommendation engine refused the connection")

    return health


def build_app() -> FastAPI:
    """The FastAPI app, with the probe routes and the lifespan installed."""
    prepare_database()
    app = FastAPI(title="healthprobe demo", version=__version__)
    health = build_health()

    @app.get("/")
    async def index() -> dict[str, Any]:
        return {"service": "healthprobe demo", "try": list(URLS)}

    @app.get("/items")
    def items() -> list[dict[str, Any]]:
        with sqlite3.connect(DATABASE) as db:
            rows = db.execute("SELECT id, name FROM items ORDER BY id").fetchall()
        return [{"id": row[0], "name": row[1]} for row in rows]

    @app.post("/demo/recommendations/{state}")
    async def flip(state: str) -> dict[str, bool]:
        RECOMMENDATIONS["up"] = state == "up"
        return {"up": RECOMMENDATIONS["up"]}

    # details="always": a demo shows every reason; production keeps the
    # default ("authorized": reasons only for a bearer token).
    install(app, health, drain=2.0, details="always")
    return app


URLS = (
    "/livez",
    "/readyz",
    "/readyz?verbose",
    "/startupz",
    "/health",
    "/health?format=ietf",
    "/health/database",
    "/docs",
)


def main() -> int:
    """Bind the port first (a busy one is one clear line), then serve the demo."""
    host = os.environ.get("HEALTHPROBE_DEMO_HOST", "127.0.0.1")
    port = int(os.environ.get("HEALTHPROBE_DEMO_PORT", "8000"))
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(
            f"healthprobe demo: cannot listen on {host}:{port}: {reason}.\n"
            f"Set HEALTHPROBE_DEMO_PORT (or HEALTHPROBE_DEMO_HOST) to move it, e.g.\n"
            f"  HEALTHPROBE_DEMO_PORT={port + 1 if port else 8001} make demo",
            file=sys.stderr,
        )
        return 1
    app = build_app()
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{sock.getsockname()[1]}"
    server = _Announcing(uvicorn.Config(app, host=host, port=port, log_level="warning"), base)
    server.run(sockets=[sock])
    return 0


class _Announcing(uvicorn.Server):
    """uvicorn's server, printing the URLs to try once it answers on them."""

    def __init__(self, config: uvicorn.Config, base: str) -> None:
        super().__init__(config)
        self.base = base

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        base = self.base
        print(f"healthprobe demo on {base} (Ctrl-C to stop)")
        for url in URLS:
            print(f"  curl -i {base}{url}")
        print(f"  curl -X POST {base}/demo/recommendations/down   # degrade the service")
        print(f"  curl -X POST {base}/demo/recommendations/up     # and mend it", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
