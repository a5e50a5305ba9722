"""A WSGI app whose PostgreSQL check runs at import time, for gunicorn ``--preload`` (issue 17.9).

The import-time ``health.run()`` happens in gunicorn's master, before it
forks the workers: the connection it opens must be closed before the fork,
so that the master keeps none and no worker inherits it.  The application
name comes from the test (``HP_TEST_APPNAME``), so the server-side count
sees only this app's connections.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from healthprobe import Health
from healthprobe.checks.postgres import PostgresCheck
from healthprobe.integrations.wsgi import HealthMiddleware

health = Health()
health.add(
    PostgresCheck(
        "postgresql://postgres@127.0.0.1:5432/test",
        timeout=3.0,
        application_name=os.environ["HP_TEST_APPNAME"],
    )
)
# At import time, in the master: "is the database there before we serve?"
assert health.run().verdict.value == "pass"


def pid_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


app = HealthMiddleware(pid_app, health, poll=False)
