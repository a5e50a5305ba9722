"""The service the deployment recipes run: a FastAPI app with healthprobe's endpoints.

Its checks and HTTP options come from ``healthprobe.toml`` (next to this file,
or ``$HEALTHPROBE_CONFIG``); the DSNs come from the environment.  Run it as
the recipes do::

    uvicorn app:create_app --factory --host 0.0.0.0 --port 8000 --timeout-graceful-shutdown 10

``/livez``, ``/readyz``, ``/startupz`` and ``/health`` are served by
healthprobe; SIGTERM fails readiness at once, the app keeps serving for the
``[serve] drain`` period, then uvicorn shuts down gracefully.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from healthprobe import logfilter
from healthprobe.config import load
from healthprobe.integrations.fastapi import install

CONFIG = Path(__file__).with_name("healthprobe.toml")


def create_app(config_path: str | os.PathLike[str] | None = None) -> FastAPI:
    """Build the app: your routes, plus the probe endpoints of the config file."""
    path = config_path or os.environ.get("HEALTHPROBE_CONFIG") or CONFIG
    config = load(path)
    health = config.build()
    app = FastAPI(title="example service")

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"hello": "world"}

    install(app, health, **config.http_options())
    # kubelet and Docker poll the probes every few seconds: keep them out of the access log.
    logfilter.install()
    return app
