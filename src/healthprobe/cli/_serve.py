"""``healthprobe serve``: a health sidecar serving the probe endpoints of a config file.

For services not written in Python: the checks of ``healthprobe.toml``
(their database, cache, broker...) are served on ``/livez``, ``/readyz``,
``/startupz`` and ``/health`` by uvicorn (extra ``uvicorn``, imported only
here).  The ``[serve]`` table sets the HTTP options (see
:mod:`healthprobe.config._http`); ``--host``/``--port``/``--drain`` override
it.  Polled checks poll for the server's lifetime; on SIGTERM readiness
fails at once, the server keeps serving for the drain period, then exits 0.
Probe requests are kept out of the access log unless ``access_log = true``.

Exit codes: 0 after a graceful stop, 2 for a bad config, 3 when the address
cannot be bound (in use, or not allowed): the socket is bound before anything
starts, so that failure is one line naming the address and the option that
moves it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from healthprobe import logfilter
from healthprobe._optional import require
from healthprobe.config._http import serve_options
from healthprobe.engine.errors import ConfigurationError

from ._config import load_and_build

__all__ = ["BIND_FAILED", "DEFAULT_HOST", "DEFAULT_PORT", "main"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: The exit code when the address cannot be bound.
BIND_FAILED = 3


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
        uvicorn = require("uvicorn", "uvicorn")
        config, health = load_and_build(args.config, require_checks=False)
        options = config.http_options()
        listen = serve_options(config.serve, config.path)
    except (ConfigurationError, ImportError) as exc:
        sys.stderr.write(f"healthprobe: bad config: {exc}\n")
        return 2
    if args.drain is not None:
        if not 0 <= args.drain < float("inf"):
            health.stop()
            sys.stderr.write("healthprobe: --drain must be zero or a positive number\n")
            return 2
        options["drain"] = args.drain
    from healthprobe.integrations.asgi import HealthApp  # noqa: PLC0415 - after the config

    try:
        app = HealthApp(health, **options)
    except ValueError as exc:
        health.stop()
        sys.stderr.write(f"healthprobe: bad config: {config.path}: serve: {exc}\n")
        return 2
    host = args.host or listen.get("host", DEFAULT_HOST)
    port = args.port if args.port is not None else listen.get("port", DEFAULT_PORT)
    try:
        sock = _bind(host, port)
    except OSError as exc:
        health.stop()
        sys.stderr.write(
            f"healthprobe: cannot listen on {host}:{port}: "
            f"{os.strerror(exc.errno) if exc.errno else exc}"
            " (choose another with --port / --host, or [serve] port / host)\n"
        )
        return BIND_FAILED
    if not listen.get("access_log", False):
        logfilter.install(prefix=options.get("prefix", ""))
    settings = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_level=args.log_level,
        # A sidecar only serves probes: no proxy headers, no server banner.
        proxy_headers=False,
        server_header=False,
    )
    server = _server_class(uvicorn)(settings)
    server.run(sockets=[sock])
    return 0 if server.started else 1


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (IPv4 or IPv6, as the host says)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


def _server_class(uvicorn: Any) -> Any:
    class Server(uvicorn.Server):  # type: ignore[misc] # a module found at run time
        """uvicorn's server, saying where it listens once it really serves."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and sockets:
                address = sockets[0].getsockname()
                shown = f"[{address[0]}]" if ":" in address[0] else address[0]
                sys.stderr.write(f"healthprobe: serving on http://{shown}:{address[1]}\n")
                sys.stderr.flush()

    return Server
