"""A real gunicorn (sync and threaded workers, with --preload) serving a Flask app's probes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

from ._processes import process, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]
WORKERS = 2


def _statuses(client: httpx.Client, path: str, count: int = 8) -> set[int]:
    # Several requests so that both workers are very likely to answer some.
    return {client.get(path).status_code for _ in range(count)}


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_gunicorn_workers_serve_probes_with_async_and_polled_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker_class: str
) -> None:
    state, pids = tmp_path / "state", tmp_path / "pids"
    state.write_text("fail")
    monkeypatch.setenv("HP_TEST_STATE", str(state))
    monkeypatch.setenv("HP_TEST_PIDS", str(pids))
    port = free_port()
    args = [
        sys.executable, "-m", "gunicorn", "tests.e2e._gunicorn_app:app",
        "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
        "--worker-class", worker_class,
        # More than one thread would turn a sync worker into gthread behind our back.
        "--threads", "4" if worker_class == "gthread" else "1",
        "--preload",  # the app is created in the master, then forked: nothing may start early
        "--graceful-timeout", "5",
    ]  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with (
        process(args, log) as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client,
    ):
        wait_for(f"http://127.0.0.1:{port}/livez", proc, log)
        assert _statuses(client, "/livez") == {200}
        assert _statuses(client, "/readyz") == {503}
        failing = client.get("/readyz?verbose")
        assert b"[-]db failed: state is fail" in failing.content
        state.write_text("ok")
        assert _statuses(client, "/readyz") == {200}
        ok = client.get("/readyz?verbose")
        assert b"[+]db ok" in ok.content
        assert b"[+]heartbeat ok" in ok.content
        assert client.get("/health/db").json()["status"] == "healthy"
        assert client.get("/").text.startswith("served by ")
        # Polling runs in the workers (started on their first request), never in
        # the master, which forked them after creating the app.
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and not pids.exists():
            time.sleep(0.05)
        polled_by = {int(line) for line in pids.read_text().split()}
        assert polled_by
        assert proc.pid not in polled_by
        assert len(polled_by) <= WORKERS
    text = log.read_text()
    assert "Traceback" not in text
    assert f"Using worker: {worker_class}" in text
