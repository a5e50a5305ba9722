"""The drivers' own DEBUG records carry no secret a check declared (issue 17.12).

A real HttpCheck against a real stdlib HTTP server on loopback, with DEBUG
logging on for every logger: httpcore writes ``connect_tcp.started
host='localhost' ...`` and httpx the request line; the host is marked secret,
so neither may show it.  The app's own records are left alone.
"""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from healthprobe import Health, Status
from healthprobe.checks.http import HttpCheck
from healthprobe.engine import driver_logs

pytestmark = pytest.mark.timeout(30)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.asyncio
async def test_a_secret_host_is_scrubbed_from_httpcore_and_httpx_debug_records(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's DEBUG records
    health = Health()
    health.add(HttpCheck(f"http://localhost:{port}/ok", name="web"), secrets=["localhost"])
    try:
        report = await health.arun()
    finally:
        await health.astop()
    assert report.checks["web"].status is Status.PASS
    drivers = [r for r in caplog.records if r.name.startswith(("httpcore", "httpx"))]
    assert any("connect_tcp" in r.getMessage() for r in drivers), "no httpcore DEBUG record"
    assert any(r.name == "httpx" for r in drivers)  # "HTTP Request: GET http://***:.../ok"
    leaked = [r.getMessage() for r in caplog.records if "localhost" in r.getMessage()]
    assert not leaked, leaked
    assert driver_logs.installed()
    # Another logger's records stay as they are: only the drivers' are scrubbed.
    logging.getLogger("myapp").debug("talking to localhost")
    assert caplog.records[-1].getMessage() == "talking to localhost"


def test_an_exception_in_a_driver_record_becomes_one_scrubbed_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver_logs.declare(["db-secret-host.internal"])
    caplog.set_level(logging.DEBUG)
    try:
        raise ConnectionError("cannot reach db-secret-host.internal:5432")
    except ConnectionError:
        logging.getLogger("asyncpg.pool").exception(
            "connection lost to %s", "db-secret-host.internal"
        )
    record = caplog.records[-1]
    assert record.getMessage() == "connection lost to *** (ConnectionError: cannot reach ***:5432)"
    assert record.exc_info is None
    assert "db-secret-host" not in caplog.text
