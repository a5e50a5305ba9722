"""The peers' own test scenarios, run through healthprobe's compat adapters (issue 13 point 10).

Each scenario is one test of the peer's own suite, rewritten here (not
copied) with the same checks and the same expectations, and tried twice:

* ``unchanged``: the peer's check code, registered through the adapter, and
  the peer's expectations (status code, body content) against healthprobe's
  answer;
* ``changed``: the same after the change the migration guide documents
  (a different status code, a field read from healthprobe's document...).

The first that holds gives the scenario's outcome; neither: "not at all".
docs/migration/<peer>.md carries the table this file renders, counts
included, between ``<!-- scenarios -->`` markers: a test compares them, so
the guides' numbers are computed, never typed.  The peers are not
installed: their check base classes and exceptions have small stand-ins.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from healthprobe import CheckResult, Health, Status
from healthprobe.compat import django_health_check as dhc
from healthprobe.compat import fastapi_health as fh
from healthprobe.compat import py_healthcheck as pyh
from healthprobe.http.handler import ProbeHandler
from healthprobe.http.messages import Request, Response

pytestmark = pytest.mark.timeout(120)

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "migration"
TOKEN = "peer-scenarios-token-01234"


class Scenario(NamedTuple):
    peer: str
    name: str  # the peer's own test
    unchanged: Callable[[], None] | None
    changed: Callable[[], None] | None = None
    note: str = ""  # the change, or why not at all


def serve(health: Health, path: str = "/readyz", query: str = "", **options: Any) -> Response:
    """One request through the handler every integration shares (authorized: full details)."""
    health.lifecycle.mark_started()
    handler = ProbeHandler(health, token=TOKEN, **options)
    return handler.handle(Request("GET", path, query, {"authorization": f"Bearer {TOKEN}"}))


def doc(response: Response) -> Any:
    return json.loads(response.body)


def with_health(run: Callable[[Health], None], **options: Any) -> Callable[[], None]:
    def scenario() -> None:
        health = Health(**options)
        try:
            run(health)
        finally:
            health.stop()

    return scenario


# -- fastapi-health (Kludex/fastapi-health tests/test_health.py, tests/test_endpoint.py) -------


def healthy() -> bool:
    return True


def another_healthy() -> bool:
    return True


def sick() -> bool:
    return False


async def healthy_async() -> bool:
    return True


def healthy_dict() -> dict[str, str]:
    return {"potato": "yes"}


def another_health_dict() -> dict[str, str]:
    return {"banana": "yes"}


class _Depends:
    """fastapi.Depends' shape: the dependency callable in ``.dependency``."""

    def __init__(self, dependency: Callable[..., Any]) -> None:
        self.dependency = dependency


def with_dependency(condition_banana: bool = _Depends(healthy)) -> bool:  # type: ignore[assignment]  # FastAPI's Depends idiom
    return condition_banana


def _fh_health(
    conditions: list[Callable[..., Any]], status: int, body: dict[str, Any]
) -> Callable[[], None]:
    def run(health: Health) -> None:
        fh.add_conditions(health, conditions)
        assert serve(health).status == status
        assert fh.merged(health.run("ready")) == body

    return with_health(run)


def _fh_ietf(
    calls: list[Callable[[], Any]],
    status: int,
    expected: dict[str, Any],
    health_options: dict[str, Any] | None = None,
    **handler_options: Any,
) -> Callable[[], None]:
    """The IETF endpoint's scenario, with healthprobe's own document read field by field."""

    def run(health: Health) -> None:
        for call in calls:
            health.add(call, name="postgres")
        answer = serve(health, query="format=ietf", **handler_options)
        document = doc(answer)
        assert answer.status == status
        for key, value in expected.items():
            if key == "checks":  # the peer's "postgres:connection" is our "postgres:responseTime"
                entry = document["checks"]["postgres:responseTime"][0]
                assert entry.items() >= value.items(), entry
            else:
                assert document[key] == value, (key, document)

    return with_health(run, **(health_options or {}))


def _peer_check(status: str = "pass", time: str | None = None) -> CheckResult:
    # fastapi-health's Check(status=..., time=...) written as healthprobe's CheckResult.
    moment = dt.datetime.fromisoformat(time).replace(tzinfo=dt.timezone.utc) if time else None
    return CheckResult(Status.parse(status), time=moment)


FASTAPI_HEALTH = [
    Scenario("fastapi-health", "test_health[healthy_app]", _fh_health([healthy], 200, {})),
    Scenario(
        "fastapi-health",
        "test_health[multiple_healthy_app]",
        _fh_health([healthy, another_healthy], 200, {}),
    ),
    Scenario("fastapi-health", "test_health[sick_app]", _fh_health([healthy, sick], 503, {})),
    Scenario(
        "fastapi-health",
        "test_health[with_dependency_app]",
        _fh_health([with_dependency], 200, {}),
    ),
    Scenario(
        "fastapi-health", "test_health[healthy_async_app]", _fh_health([healthy_async], 200, {})
    ),
    Scenario(
        "fastapi-health",
        "test_health[healthy_dict_app]",
        _fh_health([healthy_dict], 200, {"potato": "yes"}),
    ),
    Scenario(
        "fastapi-health",
        "test_health[multiple_healthy_dict_app]",
        _fh_health([healthy_dict, another_health_dict], 200, {"potato": "yes", "banana": "yes"}),
    ),
    Scenario(
        "fastapi-health",
        "test_health[hybrid_app]",
        _fh_health([healthy, sick, healthy_dict], 503, {"potato": "yes"}),
    ),
    Scenario(
        "fastapi-health",
        "test_health[success_handler_app]",
        None,
        note="custom success_handler bodies: healthprobe's documents are fixed",
    ),
    Scenario(
        "fastapi-health",
        "test_health[failure_handler_app]",
        None,
        note="custom failure_handler bodies: healthprobe's documents are fixed",
    ),
    # tests/test_endpoint.py: the IETF HealthEndpoint of the unreleased main branch.
    Scenario(
        "fastapi-health",
        "test_health_endpoint[healthy_app]",
        None,
        _fh_ietf([_peer_check], 200, {"status": "pass"}),
        "return CheckResult (or a status word), not Check; read fields, not the whole document",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[use_version_app]",
        None,
        _fh_ietf([_peer_check], 200, {"version": "0.1.0"}, {"version": "0.1.0"}),
        "Health(version=...) instead of allow_version",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[use_custom_version_app]",
        None,
        _fh_ietf([_peer_check], 200, {"version": "1.0.0"}, {"version": "1.0.0"}),
        "Health(version=...)",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[release_id_app]",
        None,
        _fh_ietf([_peer_check], 200, {"releaseId": "release_id"}, release_id="release_id"),
        "release_id= takes the value, not a callable",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[service_id_app]",
        None,
        _fh_ietf([_peer_check], 200, {"serviceId": "service_id"}, service_id="service_id"),
        "service_id= on the integration",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[pass_status_app]",
        None,
        note='a custom status word ("ok"): the IETF words are fixed',
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[fail_app]",
        None,
        _fh_ietf(
            [lambda: _peer_check("fail")], 503, {"status": "fail", "checks": {"status": "fail"}}
        ),
        'the check is "postgres:responseTime", not "postgres:connection"',
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[warn_app]",
        None,
        _fh_ietf(
            [lambda: _peer_check("warn")], 200, {"status": "warn", "checks": {"status": "warn"}}
        ),
        'the check is "postgres:responseTime"',
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[allow_description_app]",
        None,
        _fh_ietf([_peer_check], 200, {"description": "Test app"}, description="Test app"),
        "description= instead of the app's description",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[description_app]",
        None,
        _fh_ietf([_peer_check], 200, {"description": "Test"}, description="Test"),
        "description= on the integration",
    ),
    Scenario(
        "fastapi-health",
        "test_health_endpoint[time_app]",
        None,
        _fh_ietf(
            [lambda: _peer_check(time="2022-01-01T00:00:00")],
            200,
            {"checks": {"time": "2022-01-01T00:00:00.000Z"}},
        ),
        "the check's own time is kept, written in UTC with milliseconds",
    ),
]


# -- django-health-check (codingjoe/django-health-check tests/test_base.py, tests/test_views.py) --


class HealthCheckException(Exception):
    message_type = "Unknown Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.message_type}: {self.message}"


class ServiceWarning(HealthCheckException):
    message_type = "Warning"


class ServiceUnavailable(HealthCheckException):
    message_type = "Unavailable"


@dataclasses.dataclass
class SuccessBackend:
    async def run(self) -> None:
        pass


@dataclasses.dataclass
class SyncBackend:
    def run(self) -> None:
        pass


@dataclasses.dataclass
class UnexpectedErrorBackend:
    async def run(self) -> None:
        raise RuntimeError("Unexpected error at /srv/app/secret.py")


@dataclasses.dataclass
class FailingBackend:
    async def run(self) -> None:
        raise HealthCheckException("Super Fail!")


@dataclasses.dataclass
class WarningBackend:
    async def run(self) -> None:
        raise ServiceWarning("so so")


@dataclasses.dataclass
class SlowBackend:
    async def run(self) -> None:
        await asyncio.sleep(0.01)


@dataclasses.dataclass
class TwoStateBackend:
    """One backend, two states (the issue's case): warn in one, fail in the other."""

    state: str = "warn"

    def run(self) -> None:
        if self.state == "warn":
            raise ServiceWarning("backlog growing")
        if self.state == "down":
            raise ServiceUnavailable("queue unreachable")


def _dhc(
    backend: Any,
    check: Callable[[Health, str], None],
) -> Callable[[], None]:
    def run(health: Health) -> None:
        name = dhc.add_check(health, backend)
        check(health, name)

    return with_health(run)


def _status_is(
    code: int, *, text: str | None = None, query: str = "verbose"
) -> Callable[[Health, str], None]:
    def check(health: Health, name: str) -> None:
        answer = serve(health, query=query)
        assert answer.status == code, answer
        if text is not None:
            assert text.encode() in answer.body, answer.body

    return check


def _json_success(health: Health, name: str) -> None:
    answer = serve(health, "/health", "format=json")
    assert (answer.status, answer.content_type) == (200, "application/json")
    assert doc(answer)["checks"][name]["status"] == "healthy"


def _json_error(health: Health, name: str) -> None:
    answer = serve(health, "/health", "format=json")
    assert (answer.status, answer.content_type) == (503, "application/json")
    assert "Super Fail!" in doc(answer)["checks"][name]["output"]


def _unexpected(health: Health, name: str) -> None:
    entry = doc(serve(health, "/health"))["checks"][name]
    assert entry["output"] == "Unknown Error: unknown error"  # never the exception's text


def _timing(health: Health, name: str) -> None:
    assert doc(serve(health, "/health"))["checks"][name]["latency_ms"] > 0


def _named_after_class(health: Health, name: str) -> None:
    assert name == "success_backend"
    assert health.names() == ("success_backend",)  # not "run"


def _vary(health: Health, name: str) -> None:
    assert ("vary", "Accept") in serve(health).headers()


def _two_states(health: Health, name: str) -> None:
    backend = TwoStateBackend()
    health.add(dhc.as_check(backend), name="queue")
    warned = serve(health, "/health")
    assert warned.status == 200  # warn: degraded, still serving
    assert doc(warned)["checks"]["queue"]["status"] == "degraded"
    backend.state = "down"
    failed = serve(health, "/health")
    assert failed.status == 503
    assert doc(failed)["checks"]["queue"]["output"] == "Unavailable: queue unreachable"


def _openmetrics(health: Health, name: str) -> None:
    from healthprobe.integrations._endpoints import make_handler

    health.run(None)  # /metrics shows the last readings
    answer = make_handler(health).handle(Request("GET", "/metrics"))
    assert answer.status == 200
    assert f'check="{name}"'.encode() in answer.body


def _text(health: Health, name: str) -> None:
    answer = serve(health, query="format=text")
    assert answer.content_type.startswith("text/plain")
    assert answer.status == 200


DJANGO_HEALTH_CHECK = [
    Scenario("django-health-check", "test_run__success", _dhc(SuccessBackend(), _status_is(200))),
    Scenario(
        "django-health-check",
        "test_run__unexpected_exception_handled",
        _dhc(UnexpectedErrorBackend(), _unexpected),
    ),
    Scenario("django-health-check", "test_run__sync_check", _dhc(SyncBackend(), _status_is(200))),
    Scenario("django-health-check", "test_result__timing", _dhc(SlowBackend(), _timing)),
    Scenario(
        "django-health-check",
        "test_labels",
        None,
        _dhc(SuccessBackend(), _named_after_class),
        "no labels: the check is named after its class, fields are never shown (no secret leaks)",
    ),
    Scenario(
        "django-health-check",
        "test_get__success",
        None,
        _dhc(SuccessBackend(), _status_is(200)),
        "200 as there; the body is JSON (the HTML page is /health/ui)",
    ),
    Scenario(
        "django-health-check",
        "test_get__error",
        _dhc(FailingBackend(), _status_is(500, text="Super Fail!")),
        _dhc(FailingBackend(), _status_is(503, text="Super Fail!")),
        "503, not 500",
    ),
    Scenario(
        "django-health-check",
        "test_get__warning",
        _dhc(WarningBackend(), _status_is(500, text="so so")),
        _dhc(WarningBackend(), _status_is(200, text="so so")),
        "a warning degrades (200), as 3.x's non-critical did; 4.x answers 500",
    ),
    Scenario(
        "django-health-check",
        "test_get__non_critical_service",
        _dhc(FailingBackend(), _status_is(500, text="Super Fail!")),
        _dhc(FailingBackend(), _status_is(503, text="Super Fail!")),
        "503, not 500",
    ),
    Scenario(
        "django-health-check",
        "test_get__json_format_parameter",
        None,
        _dhc(SuccessBackend(), _json_success),
        "the body is healthprobe's JSON (checks by name)",
    ),
    Scenario(
        "django-health-check",
        "test_get__error_json_format_parameter",
        None,
        _dhc(FailingBackend(), _json_error),
        "503; the message is the check's output",
    ),
    Scenario(
        "django-health-check",
        "test_get__unsupported_accept",
        None,
        note="no 406: an unsatisfiable Accept gets JSON (a probe reads the status code)",
    ),
    Scenario(
        "django-health-check",
        "test_vary_header_on_accept",
        _dhc(SuccessBackend(), _vary),
    ),
    Scenario(
        "django-health-check",
        "test_get__text_format_parameter",
        None,
        _dhc(SuccessBackend(), _text),
        "Kubernetes text, not the peer's own",
    ),
    Scenario(
        "django-health-check",
        "test_get__openmetrics_format_parameter",
        None,
        _dhc(SuccessBackend(), _openmetrics),
        "Prometheus text at /metrics (healthprobe_check_status...), not ?format=openmetrics",
    ),
    Scenario(
        "django-health-check",
        "test_get__atom_format_parameter (and the other feed tests)",
        None,
        note="no RSS/Atom feeds",
    ),
    Scenario(
        "django-health-check",
        "a backend that warns in one state and fails in another",
        _dhc(SuccessBackend(), _two_states),
    ),
]


# -- py-healthcheck (ateliedocodigo/py-healthcheck tests/unit, tests/web) ------------------------


def check_that_works() -> tuple[bool, str]:
    return True, "it works"


def check_throws_exception() -> tuple[bool, str]:
    bad: Any = None
    return bad["explode"]  # type: ignore[no-any-return]  # raises TypeError, as the peer's


def fail_check() -> tuple[bool, str]:
    return False, "FAIL"


def _pyh(
    checkers: list[Callable[[], Any]],
    expect: Callable[[Health], None],
    **options: Any,
) -> Callable[[], None]:
    def run(health: Health) -> None:
        for checker in checkers:
            pyh.add_check(health, checker, **options)
        expect(health)

    return with_health(run)


def _report_is(code: int, label: str, path: str = "/health") -> Callable[[Health], None]:
    def expect(health: Health) -> None:
        answer = serve(health, path)
        assert (answer.status, doc(answer)["status"]) == (code, label), answer

    return expect


def _slow(seconds: float) -> Callable[[], tuple[bool, str]]:
    def timeout_check() -> tuple[bool, str]:
        time.sleep(seconds)
        return True, f"Waited for {seconds} seconds"

    return timeout_check


def _one_result(health: Health) -> None:
    answer = serve(health, "/health/check_that_works")
    assert (answer.status, list(doc(answer)["checks"])) == (200, ["check_that_works"])


def _bounded(code: int, seconds: float) -> Callable[[Health], None]:
    def expect(health: Health) -> None:
        started = time.monotonic()
        answer = serve(health, "/health")
        assert answer.status == code
        assert time.monotonic() - started < seconds

    return expect


_SECTION = "custom sections (extra data in the body): no counterpart"
PY_HEALTHCHECK = [
    Scenario("py-healthcheck", "test_basic_check", _pyh([], _report_is(200, "healthy"))),
    Scenario(
        "py-healthcheck",
        "test_failing_check",
        _pyh([check_throws_exception], _report_is(500, "failure")),
        _pyh([check_throws_exception], _report_is(503, "unhealthy")),
        '503 and "unhealthy", not 500 and "failure"',
    ),
    Scenario(
        "py-healthcheck",
        "test_success_check",
        _pyh([check_that_works], _report_is(200, "success")),
        _pyh([check_that_works], _report_is(200, "healthy")),
        '"healthy", not "success"; no log line per passing probe (transitions only)',
    ),
    *(
        Scenario("py-healthcheck", f"test_custom_section_{kind}", None, note=_SECTION)
        for kind in (
            "function_success_check",
            "signature_function_success_check",
            "value_success_check",
            "signature_value_success_check",
            "function_failing_check",
            "signature_function_failure_check",
            "value_failing_check",
            "signature_value_failing_check",
            "prevent_duplication",
        )
    ),
    Scenario(
        "py-healthcheck",
        "test_default_timeout_should_success_check",
        _pyh([_slow(5.3)], _report_is(200, "healthy")),
        _pyh([_slow(5.3)], _report_is(200, "healthy"), timeout=8.0),
        "no check is unbounded: give a slow checker a timeout= above its duration (default 5 s)",
    ),
    Scenario(
        "py-healthcheck",
        "test_error_timeout_function_should_failing_check",
        _pyh([_slow(3.0)], _bounded(500, 2.8), error_timeout=2),
        _pyh([_slow(3.0)], _bounded(503, 2.8), error_timeout=2),
        "503, not 500 (and it works off the main thread)",
    ),
    Scenario("py-healthcheck", "test_json_success_handler", None, note="handler functions: none"),
    Scenario(
        "py-healthcheck",
        "test_should_run_only_filtered_checks",
        None,
        _pyh([check_that_works, check_throws_exception], _one_result),
        "GET /health/<name> instead of run(<name>)",
    ),
    Scenario("py-healthcheck", "flask: test_basic_check", _pyh([], _report_is(200, "healthy"))),
    Scenario(
        "py-healthcheck",
        "flask: test_failing_check",
        _pyh([fail_check], _report_is(500, "failure")),
        _pyh([fail_check], _report_is(503, "unhealthy")),
        '503 and "unhealthy"',
    ),
    Scenario(
        "py-healthcheck",
        "flask: EnvironmentDump test_basic_check",
        None,
        note="no EnvironmentDump (it publishes secrets such as DATABASE_URL)",
    ),
]

PEERS = {
    "fastapi-health": FASTAPI_HEALTH,
    "django-health-check": DJANGO_HEALTH_CHECK,
    "py-healthcheck": PY_HEALTHCHECK,
    "fastapi-healthchecks": [],  # no public repository, no test suite to port
}


def outcome(scenario: Scenario) -> str:
    for kind, attempt in (("unchanged", scenario.unchanged), ("with a change", scenario.changed)):
        if attempt is None:
            continue
        try:
            attempt()
        except Exception:
            continue
        return kind
    return "not at all"


def render(peer: str, outcomes: list[tuple[Scenario, str]]) -> str:
    counts = {
        kind: sum(1 for _, o in outcomes if o == kind)
        for kind in ("unchanged", "with a change", "not at all")
    }
    lines = [
        f"<!-- scenarios: {peer} -->",
        f"Of this peer's own test scenarios ported here, **{counts['unchanged']} pass unchanged, "
        f"{counts['with a change']} with a change, {counts['not at all']} not at all** "
        "(computed by `tests/integrations/test_peer_scenarios.py`).",
    ]
    if outcomes:
        lines += ["", "| the peer's test | here | the change, or why not |", "|---|---|---|"]
        lines += [
            f"| `{s.name}` | {o} | {s.note if o != 'unchanged' else ''} |" for s, o in outcomes
        ]
    lines.append("<!-- /scenarios -->")
    return "\n".join(lines)


_BLOCK = re.compile(r"<!-- scenarios: (?P<peer>[\w-]+) -->.*?<!-- /scenarios -->", re.DOTALL)


@pytest.mark.parametrize("peer", list(PEERS))
def test_the_guide_states_the_computed_counts(peer: str) -> None:
    outcomes = [(s, outcome(s)) for s in PEERS[peer]]
    expected = render(peer, outcomes)
    text = (GUIDES / f"{peer}.md").read_text()
    found = _BLOCK.search(text)
    assert found is not None, f"{peer}.md has no scenarios block"
    assert found["peer"] == peer
    assert found[0] == expected, f"docs/migration/{peer}.md should say:\n{expected}"


def test_the_fastapi_health_reading_keeps_truthiness() -> None:
    # Issue 13 point 10's own examples: answered 200 by fastapi-health, so here too.
    health = Health()
    try:
        conditions = [
            _named("connected", "connected"),
            _named("one", 1),
            _named("online", {"status": "online"}),
        ]
        fh.add_conditions(health, conditions)
        assert serve(health).status == 200
        fh.add_conditions(health, [_named("empty", {})])
        assert serve(health).status == 503
    finally:
        health.stop()


def _named(name: str, value: object) -> Callable[[], object]:
    def condition() -> object:
        return value

    condition.__name__ = name
    return condition
