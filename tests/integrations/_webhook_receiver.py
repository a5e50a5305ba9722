"""A real local webhook receiver (stdlib http.server in a thread) for the notifier tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from healthprobe import CheckResult, Health
from healthprobe.observability import WebhookNotifier

__all__ = ["Receiver", "Switch", "make"]


class Receiver:
    """A webhook receiver on 127.0.0.1:port that can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bodies: list[dict[str, Any]] = []
        #: (time received, headers, raw body) of every delivered request, in order.
        self.requests: list[tuple[float, dict[str, str], bytes]] = []
        #: When each POST arrived, delivered or not (retry timing), and its headers.
        self.arrivals: list[float] = []
        self.attempts: list[tuple[dict[str, str], bytes]] = []
        self.delay = 0.0
        self.answers: list[int] = []  # statuses to answer first, then 204
        #: Headers sent with the answers above (``Retry-After``), in the same order.
        self.answer_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/T0KEN-s3cret"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                body = json.loads(raw)
                arrived = time.monotonic()
                time.sleep(receiver.delay)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.arrivals.append(arrived)
                    receiver.attempts.append((headers, raw))
                    status = receiver.answers.pop(0) if receiver.answers else 204
                    extra = receiver.answer_headers.pop(0) if receiver.answer_headers else {}
                    if status < 300:
                        receiver.bodies.append(body)
                        receiver.requests.append((arrived, headers, raw))
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def events(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(b["name"], b["event"]) for b in self.bodies]

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.bodies) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.bodies)} of {count} notifications arrived")


class Switch:
    """An async check that passes until ``ok`` is set to False."""

    def __init__(self) -> None:
        self.ok = True

    async def __call__(self) -> CheckResult:
        return CheckResult.passed() if self.ok else CheckResult.failed("connection refused")


def make(url: str, **options: Any) -> tuple[Health, Switch, WebhookNotifier]:
    health = Health()
    switch = Switch()
    health.add(switch, name="db")
    notifier = WebhookNotifier(url, backoff=0.05, max_backoff=0.2, attempts=200, **options)
    notifier.attach(health, scopes=("check",))
    return health, switch, notifier
