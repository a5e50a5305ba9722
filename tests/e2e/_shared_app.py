"""The app tests/e2e/test_shared_workers.py serves with 4 gunicorn or uvicorn workers.

Two polled checks: ``db`` (PostgreSQL at ``HP_PG_DSN``, every second) and
``gate`` (reads the file ``HP_GATE``: ``fail`` fails it), so a test can make
one transition happen.  Each worker posts status changes to ``HP_WEBHOOK``.
The shared directory comes from ``HEALTHPROBE_SHARED_DIR`` when the test
sets it.  Every response carries ``X-Worker-Pid``: which worker answered.

``flask_app`` is the WSGI app (gunicorn sync workers; ``gunicorn_conf``
starts each worker's polling at boot), ``asgi_app`` the ASGI one (uvicorn).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

from flask import Flask

from healthprobe import Health
from healthprobe.checks import PostgresCheck
from healthprobe.integrations.asgi import HealthApp
from healthprobe.integrations.flask import HealthProbe
from healthprobe.observability import WebhookNotifier

GATE = Path(os.environ["HP_GATE"])
# Transition records (recoveries are INFO) go to the server's log, one line each.
_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(process)d %(levelname)s %(message)s"))
logging.getLogger("healthprobe").addHandler(_handler)
logging.getLogger("healthprobe").setLevel(logging.INFO)

health = Health(version="e2e")
health.add(PostgresCheck(os.environ["HP_PG_DSN"], name="db", timeout=2.0), interval=1.0)


@health.check(interval=0.5, timeout=1.0)
def gate() -> tuple[bool, str]:
    state = GATE.read_text().strip()
    return state != "fail", f"gate is {state}"


WebhookNotifier(os.environ["HP_WEBHOOK"], attempts=3, backoff=0.2).attach(health, scopes=("check",))

flask_app = Flask(__name__)
HealthProbe(flask_app, health=health, details="always")
_inner_wsgi = flask_app.wsgi_app


def _wsgi_with_pid(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

    return _inner_wsgi(environ, respond)


flask_app.wsgi_app = _wsgi_with_pid  # type: ignore[method-assign]

_asgi = HealthApp(health, details="always", drain=None)


async def asgi_app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Any],
    send: Callable[[MutableMapping[str, Any]], Any],
) -> None:
    async def send_with_pid(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            pid = str(os.getpid()).encode()
            message = {**message, "headers": [*message.get("headers", []), (b"x-worker-pid", pid)]}
        await send(message)

    await _asgi(scope, receive, send_with_pid)
