"""The Django URL patterns and app, through Django's own test client and middleware chain."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from ._django_settings import configure

configure()

from django.test import Client  # noqa: E402 - Django's settings must exist first

from healthprobe.integrations import django as hp_django  # noqa: E402 - as above
from tests.integrations import _django_urls as project  # noqa: E402 - as above

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def client() -> Iterator[Client]:
    project.db.result = project.mail.result = True
    yield Client()
    project.db.result = project.mail.result = True


def test_the_app_config_marked_the_configured_health_started_without_threads() -> None:
    # ready() ran in django.setup() above: started, but nothing polls before a request.
    assert project.health.lifecycle.started
    start = hp_django.process_start(project.health)
    assert start.health is project.health


def test_probes_pass_through_djangos_middleware_and_login_wall(client: Client) -> None:
    assert client.get("/").status_code == 302  # the app's own login wall stands
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready["Content-Type"] == "application/json"
    assert ready["Cache-Control"] == "no-store"
    assert ready.json()["status"] == "healthy"
    assert ready.json()["version"] == "2.0.0"
    project.db.result = False
    assert client.get("/readyz").status_code == 503
    assert client.get("/livez").status_code == 200
    assert client.get("/health/db").status_code == 503
    assert client.get("/health/nope").status_code == 404
    assert client.post("/readyz").status_code == 405  # not a CSRF 403
    assert client.get("/readyz?format=xml").status_code == 400


def test_formats_details_policy_and_head(client: Client) -> None:
    project.mail.result = (False, "smtp refused")
    public = client.get("/readyz?verbose")
    assert public.status_code == 200  # a non-critical failure degrades
    assert b"[+]mail warn: reason withheld" in public.content
    private = client.get("/readyz?verbose", HTTP_AUTHORIZATION=f"Bearer {project.TOKEN}")
    assert b"[+]mail warn: smtp refused" in private.content
    assert b"smtp refused" in client.get("/ops/readyz?verbose").content  # details="always"
    ietf = client.get("/health", HTTP_ACCEPT="application/health+json")
    assert ietf["Content-Type"] == "application/health+json"
    assert ietf.json()["status"] == "warn"
    project.db.result = False
    head = client.head("/readyz")
    assert head.status_code == 503
    assert head.content == b""
    assert int(head["Content-Length"]) > 0


def test_polling_starts_in_this_process_with_a_request_of_any_kind(client: Client) -> None:
    assert client.get("/").status_code == 302  # not a probe: request_started starts the process
    assert hp_django.process_start(project.health).pid == os.getpid()
    before = project.heartbeat.calls
    deadline = time.monotonic() + 5.0
    while project.heartbeat.calls < before + 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert project.heartbeat.calls >= before + 3  # polled without any probe request


@pytest.fixture(autouse=True, scope="module")
def _stop_polling() -> Iterator[None]:
    yield
    project.health.stop()


def test_the_middleware_answers_before_host_checks_and_login() -> None:
    from django.conf import settings
    from django.test import override_settings

    kubelet = Client(HTTP_HOST="10.1.2.3:8000")  # the pod IP: not in ALLOWED_HOSTS
    assert kubelet.get("/readyz").status_code == 400
    first = ["healthprobe.integrations.django.HealthProbeMiddleware", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=first, HEALTHPROBE_OPTIONS={"details": "always"}):
        kubelet = Client(HTTP_HOST="10.1.2.3:8000")
        project.mail.result = (False, "smtp refused")
        ready = kubelet.get("/readyz?verbose")
        assert ready.status_code == 200
        assert b"[+]mail warn: smtp refused" in ready.content  # the options were applied
        assert kubelet.get("/").status_code == 400  # everything else is still checked
        assert Client().get("/").status_code == 302  # and still behind the login wall
        project.mail.result = True
