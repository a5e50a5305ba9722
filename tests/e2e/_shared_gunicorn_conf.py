"""gunicorn settings for tests/e2e/_shared_app.py: each worker starts polling when it boots.

Without this a WSGI worker starts on its first request, and a worker that
has had none would not stand for leader when the leader dies.
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    from tests.e2e._shared_app import health

    health.start()
