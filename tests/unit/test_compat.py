"""The compat adapters read each peer's results with that peer's semantics (issue 13 point 10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from healthprobe import Health, Status
from healthprobe.compat import (
    django_health_check,
    fastapi_health,
    fastapi_healthchecks,
    py_healthcheck,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def health() -> Iterator[Health]:
    health = Health()
    yield health
    health.stop()


def _status(health: Health, name: str) -> Status:
    return health.run(None, only=name).checks[name].result.status


def _named(name: str, value: object) -> object:
    def condition() -> object:
        return value

    condition.__name__ = name
    return condition


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("connected", Status.PASS),
        (1, Status.PASS),
        ({"status": "online"}, Status.PASS),
        ({"status": "down"}, Status.PASS),  # truthy: fastapi-health answers 200 for it
        (True, Status.PASS),
        (False, Status.FAIL),
        (None, Status.FAIL),
        ({}, Status.FAIL),
        (0, Status.FAIL),
        ("", Status.FAIL),
    ],
)
def test_fastapi_health_reads_truthiness(health: Health, value: object, status: Status) -> None:
    fastapi_health.add_conditions(health, [_named("cond", value)])  # type: ignore[list-item]  # a callable
    assert _status(health, "cond") is status


def test_fastapi_health_merges_dicts_and_refuses_unresolvable_parameters(health: Health) -> None:
    fastapi_health.add_conditions(
        health,
        [_named("a", {"database": "online"}), _named("b", {"cache": "warm"})],  # type: ignore[list-item]  # callables
    )
    assert fastapi_health.merged(health.run("ready")) == {"database": "online", "cache": "warm"}

    def needs_request(request: object) -> bool:
        return True

    with pytest.raises(ValueError, match="'request' has no default"):
        fastapi_health.add_conditions(health, [needs_request])


class HealthCheckException(Exception):
    def __str__(self) -> str:
        return f"{type(self).__name__}: {self.args[0]}"


class ServiceWarning(HealthCheckException):
    pass


class ServiceUnavailable(HealthCheckException):
    pass


@dataclasses.dataclass
class QueueBacklog:
    backlog: int = 0

    def run(self) -> None:
        if self.backlog > 100:
            raise ServiceUnavailable("1000 jobs waiting")
        if self.backlog > 10:
            raise ServiceWarning("50 jobs waiting")


def test_django_health_check_keeps_warn_and_fail_and_names_by_class(health: Health) -> None:
    backend = QueueBacklog()
    assert django_health_check.add_check(health, backend) == "queue_backlog"
    assert _status(health, "queue_backlog") is Status.PASS
    backend.backlog = 50
    assert _status(health, "queue_backlog") is Status.WARN
    backend.backlog = 1000
    result = health.run(None, only="queue_backlog").checks["queue_backlog"].result
    assert (result.status, result.output) == (Status.FAIL, "ServiceUnavailable: 1000 jobs waiting")


def test_py_healthcheck_truthiness_ttls_and_exceptions(health: Health) -> None:
    calls: list[int] = []

    def flaky() -> tuple[object, str]:
        calls.append(1)
        return (1 if len(calls) > 1 else ""), "x"

    py_healthcheck.add_check(health, flaky, failed_ttl=0.0, success_ttl=60.0)
    assert _status(health, "flaky") is Status.FAIL  # "" is falsy
    assert _status(health, "flaky") is Status.PASS  # failure not cached (ttl 0), 1 is truthy
    assert _status(health, "flaky") is Status.PASS
    assert len(calls) == 2  # the success is cached

    def boom() -> tuple[bool, str]:
        raise ConnectionError("payments API unreachable")

    py_healthcheck.add_check(health, boom)
    result = health.run(None, only="boom").checks["boom"].result
    assert (result.status, result.output) == (Status.FAIL, "payments API unreachable")


@dataclasses.dataclass
class PeerResult:
    name: str
    passed: bool
    details: str | None = None


class BrokenCheck:
    async def __call__(self) -> PeerResult:
        trace = (
            "Traceback (most recent call last):\n"
            '  File "/srv/site-packages/asyncpg/connect.py", line 12, in connect\n'
            "ConnectionRefusedError: [Errno 111] Connection refused"
        )
        return PeerResult("db", False, trace)


def test_fastapi_healthchecks_result_and_traceback_cut(health: Health) -> None:
    assert fastapi_healthchecks.add_check(health, BrokenCheck()) == "broken_check"
    result = health.run(None, only="broken_check").checks["broken_check"].result
    assert result.status is Status.FAIL
    assert result.output == "ConnectionRefusedError: [Errno 111] Connection refused"
