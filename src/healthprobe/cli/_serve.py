"""``healthprobe serve``: a health sidecar serving the probe endpoints of a config file.

For services not written in Python: the checks of ``healthprobe.toml``
(their database, cache, broker...) are served on ``/livez``, ``/readyz``,
``/startupz`` and ``/health`` by uvicorn (extra ``uvicorn``, imported only
here).  The ``[serve]`` table sets the HTTP options (see
:mod:`healthprobe.config._http`); ``--host``/``--port``/``--drain`` override
it.  Polled checks poll for the server's lifetime; on SIGTERM readiness
fails at once, the server keeps serving for the drain period, then exits 0.
Probe requests are kept out of the access log unless ``access_log = true``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from healthprobe import logfilter
from healthprobe._optional import require
from healthprobe.config import load
from healthprobe.config._http import serve_options
from healthprobe.engine.errors import ConfigurationError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "main"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="healthprobe serve",
        description="Serve /livez, /readyz, /startupz and /health for the configured checks.",
    )
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("HEALTHPROBE_CONFIG", "healthprobe.toml"),
        help="config file (default: $HEALTHPROBE_CONFIG or healthprobe.toml)",
    )
    parser.add_argument("--host", default=None, help=f"[serve] host, else {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=None, help=f"[serve] port, else {DEFAULT_PORT}")
    parser.add_argument(
        "--drain", type=float, default=None, help="seconds to drain after SIGTERM ([serve] drain)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's log level",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``healthprobe serve`` with ``argv`` (the arguments after ``serve``)."""
    args = _parser().parse_args(argv)
    try:
        config = load(args.config)
        options = config.http_options()
        listen = serve_options(config.serve, config.path)
        uvicorn = require("uvicorn", "uvicorn")
        health = config.build()
    except (ConfigurationError, ImportError) as exc:
        sys.stderr.write(f"healthprobe: bad config: {exc}\n")
        return 2
    if args.drain is not None:
        if not args.drain >= 0:
            sys.stderr.write("healthprobe: --drain must be zero or a positive number\n")
            return 2
        options["drain"] = args.drain
    from healthprobe.integrations.asgi import HealthApp  # noqa: PLC0415 - after the config

    try:
        app = HealthApp(health, **options)
    except ValueError as exc:
        sys.stderr.write(f"healthprobe: bad config: {config.path}: serve: {exc}\n")
        return 2
    if not listen.get("access_log", False):
        logfilter.install(prefix=options.get("prefix", ""))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host or listen.get("host", DEFAULT_HOST),
            port=args.port if args.port is not None else listen.get("port", DEFAULT_PORT),
            lifespan="on",
            log_level=args.log_level,
            # A sidecar only serves probes: no proxy headers, no server banner.
            proxy_headers=False,
            server_header=False,
        )
    )
    server.run()
    return 0 if server.started else 1
