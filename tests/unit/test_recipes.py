"""The deployment recipes in examples/deploy agree with the app and with its drain period.

Every probe path a recipe names must be served by the example app, and every
timing must leave room for the drain: readiness fails for ``drain`` seconds
after SIGTERM, then uvicorn shuts down gracefully, and only then may the
orchestrator's kill come.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from healthprobe.config import load

DEPLOY = Path(__file__).resolve().parents[2] / "examples" / "deploy"
ENV = {
    "PG_DSN": "postgresql://app:pw@127.0.0.1:5432/app",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "HEALTH_TOKEN": "a-token-of-at-least-16-chars",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def drain() -> float:
    value: float = load(DEPLOY / "healthprobe.toml", environ=ENV).http_options()["drain"]
    return value


@pytest.fixture
def app_paths(env: None) -> set[str]:
    from examples.deploy.app import create_app

    app = create_app()
    return {getattr(route, "path", "") for route in app.routes}


def dockerfile() -> dict[str, str]:
    """Instruction -> its arguments (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            found[instruction] = rest.strip()
    return found


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def probe_target(command: list[str]) -> tuple[float, str, int]:
    """(--timeout, path, port) of a ``healthprobe probe`` command."""
    assert command[command.index("healthprobe") + 1] == "probe"
    url = command[-1]
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/\S*)", url)
    assert match, url
    return float(option(command, "--timeout")), match[2], int(match[1])


def uvicorn_args() -> list[str]:
    args: list[str] = json.loads(dockerfile()["CMD"])
    assert args[0] == "uvicorn"
    return args


def graceful_shutdown() -> float:
    return float(option(uvicorn_args(), "--timeout-graceful-shutdown"))


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)s", text)
    assert match, text
    return float(match[1])


def test_the_toml_loads_and_builds(env: None) -> None:
    config = load(DEPLOY / "healthprobe.toml")
    health = config.build()
    assert health.names() == ("postgres", "redis", "disk")
    assert health.names("ready") == ("postgres", "redis")
    assert drain() == 10


def test_dockerfile_healthcheck_uses_healthprobe_probe(app_paths: set[str]) -> None:
    instructions = dockerfile()
    healthcheck = instructions["HEALTHCHECK"]
    flags = dict(re.findall(r"--([a-z-]+)=(\S+)", healthcheck))
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    timeout, path, port = probe_target(command)
    assert path in app_paths
    assert path == "/livez"  # Docker's health restarts nothing: liveness, not readiness
    assert port == int(instructions["EXPOSE"]) == int(option(uvicorn_args(), "--port"))
    # The probe gives up first, so its own one-line reason is what Docker records.
    assert timeout < seconds(flags["timeout"])
    assert "curl" not in (DEPLOY / "Dockerfile").read_text().lower().replace("no curl", "")


def test_compose_services_are_health_checked_and_ordered(app_paths: set[str]) -> None:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "postgres", "redis"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    app = services["app"]
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    timeout, path, port = probe_target(app["healthcheck"]["test"])
    assert path in app_paths
    assert port == 8000
    assert timeout < seconds(app["healthcheck"]["timeout"])
    # docker stop: SIGTERM, then SIGKILL after stop_grace_period.
    assert seconds(app["stop_grace_period"]) > drain() + graceful_shutdown()


def test_kubernetes_probes_and_termination_agree_with_the_drain(app_paths: set[str]) -> None:
    deployment: dict[str, Any] = yaml.safe_load(
        (DEPLOY / "kubernetes" / "deployment.yaml").read_text()
    )
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    expected = {"startupProbe": "/startupz", "livenessProbe": "/livez", "readinessProbe": "/readyz"}
    for probe, path in expected.items():
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path
        assert path in app_paths
        assert ports[http_get["port"]] == 8000
    assert container["args"] == uvicorn_args()  # the same server options as the image

    readiness = container["readinessProbe"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod["terminationGracePeriodSeconds"]
    # kubelet sees readiness fail while the app still serves.
    assert readiness["periodSeconds"] * readiness["failureThreshold"] <= drain()
    # preStop sleep, then SIGTERM: drain, then graceful shutdown, all before SIGKILL.
    assert pre_stop + drain() + graceful_shutdown() < grace
    # A probe answers within the health deadline; kubelet waits longer than that.
    deadline = load(DEPLOY / "healthprobe.toml", environ=ENV).health["deadline"]
    assert readiness["timeoutSeconds"] > deadline
    # Liveness does not wait for readiness: the startup probe covers slow starts.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
