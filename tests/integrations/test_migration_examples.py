"""The migration guides' "after" examples run, with the peers' check functions exactly as shown.

The code is read from the markdown files (the blocks marked ``<!-- migration:checks -->``
and ``<!-- migration:after -->``), so the guides and these tests cannot drift apart.
The peers are not installed: the few names the users' checks import from them
(fastapi-healthchecks' ``Check``/``CheckResult``, django-health-check's ``HealthCheck``
and exceptions) are provided by small stand-ins with the peers' shapes.
"""

from __future__ import annotations

import abc
import dataclasses
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ._apps import running
from ._django_settings import configure

pytestmark = pytest.mark.timeout(30)

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "migration"
_MARKED = re.compile(r"<!-- migration:(\w+) -->\n```python\n(.*?)```", re.DOTALL)


def blocks(guide: str) -> dict[str, str]:
    """The marked code blocks of ``docs/migration/<guide>.md``, by marker."""
    found: dict[str, str] = {}
    for marker, code in _MARKED.findall((GUIDES / f"{guide}.md").read_text()):
        assert marker not in found, f"{guide}: two {marker!r} blocks"
        found[marker] = code
    return found


def run_guide(guide: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Execute the guide's checks, then its "after" code, as one fresh module's code."""
    code = blocks(guide)
    module = types.ModuleType(f"migration_{guide.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look it up
    namespace: dict[str, Any] = vars(module)
    for marker in ("checks", "after"):
        exec(compile(code[marker], f"{GUIDES / guide}.md:{marker}", "exec"), namespace)
    return namespace


def _module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


# -- stand-ins for the names the peers' users import -------------------------------------


@dataclasses.dataclass
class PeerCheckResult:
    """fastapi-healthchecks' CheckResult: a name, a verdict and optional details."""

    name: str
    passed: bool
    details: str | None = None


class PeerCheck(abc.ABC):
    """fastapi-healthchecks' Check: an async callable returning a CheckResult."""

    @abc.abstractmethod
    async def __call__(self) -> PeerCheckResult: ...


@dataclasses.dataclass
class PeerHealthCheck:
    """django-health-check 4's HealthCheck: a dataclass whose run() raises on failure."""

    def run(self) -> None:
        raise NotImplementedError


class HealthCheckException(Exception):
    pass


class ServiceUnavailable(HealthCheckException):
    pass


class ServiceWarning(HealthCheckException):
    pass


@pytest.fixture
def peers(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _module("fastapi_healthchecks.checks", Check=PeerCheck, CheckResult=PeerCheckResult)
    base = _module("health_check.base", HealthCheck=PeerHealthCheck)
    exceptions = _module(
        "health_check.exceptions",
        HealthCheckException=HealthCheckException,
        ServiceUnavailable=ServiceUnavailable,
        ServiceWarning=ServiceWarning,
    )
    for module in (
        _module("fastapi_healthchecks", checks=checks),
        checks,
        _module("health_check", base=base, exceptions=exceptions),
        base,
        exceptions,
    ):
        monkeypatch.setitem(sys.modules, module.__name__, module)


@pytest.fixture
def stopped() -> Iterator[list[Any]]:
    """Health objects to stop after the test (their engine threads)."""
    healths: list[Any] = []
    yield healths
    for health in healths:
        health.stop()


# -- the guides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "guide", ["fastapi-health", "fastapi-healthchecks", "py-healthcheck", "django-health-check"]
)
def test_every_guide_has_checks_before_and_after(guide: str) -> None:
    text = (GUIDES / f"{guide}.md").read_text()
    assert set(blocks(guide)) == {"checks", "after"}
    before = text.index("## Before")
    assert before < text.index("## After")
    assert "```python" in text[before : text.index("## After")]


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe.test")


@pytest.mark.asyncio
async def test_fastapi_health_conditions_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    ns = run_guide("fastapi-health", monkeypatch)
    async with running(ns["app"]), _client(ns["app"]) as client:
        ready = await client.get("/readyz?verbose")
        assert ready.status_code == 503
        assert ready.text.startswith(
            "[+]database_online ok\n[+]cache_warm ok\n[-]queue_reachable failed: reason withheld\n"
        )
        assert (await client.get("/health/database_online")).status_code == 200
        assert (await client.get("/health/cache_warm")).status_code == 200
        assert (await client.get("/health/queue_reachable")).status_code == 503
        assert (await client.get("/livez")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.usefixtures("peers")
async def test_fastapi_healthchecks_check_classes_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ns = run_guide("fastapi-healthchecks", monkeypatch)
    async with running(ns["app"]), _client(ns["app"]) as client:
        assert (await client.get("/health/readiness")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        ns["MAINTENANCE"] = True
        failing = await client.get("/health/readiness?verbose")
        assert failing.status_code == 503
        assert "[-]maintenance failed" in failing.text
        assert (await client.get("/health/liveness")).status_code == 200
        assert (await client.get("/health/maintenance")).status_code == 503


def test_py_healthcheck_checkers_unchanged(
    stopped: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = run_guide("py-healthcheck", monkeypatch)
    stopped.append(ns["health"])
    client = ns["app"].test_client()
    report = client.get("/healthcheck")
    assert report.status_code == 200
    assert report.json["status"] == "degraded"  # payments_api raised, but is not critical
    assert report.json["checks"]["payments_api"]["status"] == "unhealthy"
    assert report.json["checks"]["disk_has_space"]["status"] == "healthy"
    ns["REDIS_UP"] = False
    assert client.get("/healthcheck").status_code == 503
    assert b"[-]redis_available failed" in client.get("/readyz?verbose").data
    assert client.get("/livez").status_code == 200


@pytest.mark.usefixtures("peers")
def test_django_health_check_classes_unchanged(
    stopped: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure()
    from django.test import Client, override_settings

    ns = run_guide("django-health-check", monkeypatch)
    stopped.append(ns["health"])
    urlconf = _module("migration_django_urls", urlpatterns=ns["urlpatterns"])
    with override_settings(ROOT_URLCONF=urlconf):
        client = Client()
        assert client.get("/readyz").status_code == 200
        ns["BACKLOG"] = 500  # ServiceWarning: degraded, still 200
        degraded = client.get("/readyz")
        assert (degraded.status_code, degraded.json()["status"]) == (200, "degraded")
        ns["SEARCH_UP"] = False  # ServiceUnavailable: not ready
        assert client.get("/readyz").status_code == 503
        assert b"[-]search_index failed: reason withheld" in client.get("/readyz?verbose").content
        assert client.get("/health/search_index").status_code == 503
        assert client.get("/livez").status_code == 200
