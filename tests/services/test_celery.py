"""CeleryWorkersCheck against a real worker over the machine's RabbitMQ.

A worker of this test run alone (its own queue and name) is started with
the ``prefork`` pool and one process, so that a running task makes it busy:
the check must still pass then (a busy worker is not a dead one).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healthprobe import Health, Status
from healthprobe.checks.celery import CeleryWorkersCheck
from tests.conftest import free_port
from tests.e2e._celery_worker import (
    Worker,
    celery_client,
    celery_worker,
    require_brokers,
    wait_status,
)

pytestmark = [pytest.mark.services, pytest.mark.timeout(90)]

BROKER = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    require_brokers()
    tmp = tmp_path_factory.mktemp("celery")
    with celery_worker(tmp, pool="prefork") as running:
        import httpx

        with httpx.Client(timeout=2) as client:
            wait_status(running, "/readyz", 200, 30, client)
        yield running


@pytest.fixture
def tasks() -> Iterator[Any]:
    """A Celery client app of this test's own (the worker runs the tasks by name)."""
    with celery_client() as app:
        yield app


def run(check: CeleryWorkersCheck) -> Any:
    health = Health()
    health.add(check)
    try:
        return health.run(None).checks[check.name].result
    finally:
        health.stop()


def test_the_expected_worker_answers_and_its_queue_is_consumed(worker: Worker) -> None:
    result = run(CeleryWorkersCheck(BROKER, workers=[worker.hostname], queues=[worker.queue]))
    assert result.status is Status.PASS, result.output
    assert result.details["workers"] == [worker.hostname]
    assert result.details["queues"] == {worker.queue: [worker.hostname]}
    assert result.observed_value == 1


def test_a_pattern_matches_the_worker(worker: Worker) -> None:
    pattern = worker.hostname.split("@")[0] + "@*"
    result = run(CeleryWorkersCheck(BROKER, workers=[pattern], reply_timeout=1.0))
    assert result.status is Status.PASS, result.output


def test_a_busy_worker_still_answers(worker: Worker, tasks: Any, tmp_path: Path) -> None:
    started = tmp_path / "started"
    tasks.send_task("e2e.sleep", (8.0, str(started)), queue=worker.queue)
    deadline = time.monotonic() + 20
    while not started.exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.05)
    # Its only pool process is busy: a ping *task* would wait; the control ping does not.
    check = CeleryWorkersCheck(BROKER, workers=[worker.hostname], queues=[worker.queue])
    result = run(check)
    assert result.status is Status.PASS, result.output


def test_a_missing_worker_and_an_unconsumed_queue_fail_by_name(worker: Worker) -> None:
    absent = f"absent-{free_port()}@nowhere"
    result = run(CeleryWorkersCheck(BROKER, workers=[worker.hostname, absent]))
    assert result.status is Status.FAIL
    assert result.output == f"1 expected workers did not answer ping: {absent}"
    result = run(CeleryWorkersCheck(BROKER, workers=[worker.hostname], queues=["nobody-eats"]))
    assert result.status is Status.FAIL
    assert result.output == "no answering worker consumes nobody-eats"


def test_a_broker_that_is_down_fails_fast_and_leaks_no_password() -> None:
    url = f"amqp://app:S3cret-pw@127.0.0.1:{free_port()}//"
    check = CeleryWorkersCheck(url, workers=["w@h"], timeout=10)
    started = time.monotonic()
    result = run(check)
    assert result.status is Status.FAIL
    assert time.monotonic() - started < 8  # no retry loop (django-health-check#285)
    assert "S3cret-pw" not in result.output
    assert "timed out" not in result.output  # it failed on its own, not at the engine's bound


def test_the_kept_connection_is_reused_across_runs(worker: Worker) -> None:
    check = CeleryWorkersCheck(BROKER, workers=[worker.hostname])
    health = Health()
    health.add(check)
    try:
        assert health.run(None).checks[check.name].result.status is Status.PASS
        first = check._connection
        assert first is not None
        assert health.run(None).checks[check.name].result.status is Status.PASS
        assert check._connection is first
    finally:
        health.stop()
    assert check._connection is None  # stop() closed it
