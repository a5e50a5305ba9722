"""The worker recipes in docs/workers.md parse, and agree with each other and with the code.

Each recipe is a fenced block whose first line is ``# recipe: NAME``.  The
checks are the ones an operator would make by hand: the probe paths are
healthprobe's, the ports match, the exec probe reads the file the worker
writes, the sidecar is a native one with a startup probe, and the grace
period leaves room for the shutdown cap.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from healthprobe.config._load import _toml
from healthprobe.http.handler import DEFAULT_PATHS
from healthprobe.integrations import celery as celery_health

DOC = Path(__file__).resolve().parents[2] / "docs" / "workers.md"
BLOCK = re.compile(r"```(\w+)\n# recipe: ([\w-]+)\n(.*?)```", re.DOTALL)
RECIPES = {name: (lang, body) for lang, name, body in BLOCK.findall(DOC.read_text())}


def manifest(name: str) -> dict[str, Any]:
    lang, body = RECIPES[name]
    assert lang == "yaml"
    loaded: dict[str, Any] = yaml.safe_load(body)
    return loaded


def pod(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = manifest(name)["spec"]["template"]["spec"]
    return spec


def install_default(option: str) -> Any:
    return inspect.signature(celery_health.install).parameters[option].default


def test_every_recipe_is_there() -> None:
    assert set(RECIPES) == {
        "celery-worker-http",
        "celery-worker-exec",
        "native-sidecar",
        "nightly-job",
        "cron-job",
        "cron-watcher",
    }


def test_the_http_worker_probes_healthprobe_paths_on_its_probe_port() -> None:
    spec = pod("celery-worker-http")
    (worker,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert ports["probes"] == install_default("port")
    probes = {
        "startupProbe": "startup",
        "livenessProbe": "live",
        "readinessProbe": "ready",
    }
    for key, probe in probes.items():
        get = worker[key]["httpGet"]
        assert get["port"] == "probes"
        assert DEFAULT_PATHS[get["path"]] == probe
    # Celery's warm shutdown may take shutdown_cap, then the cold one needs a moment.
    assert spec["terminationGracePeriodSeconds"] > install_default("shutdown_cap") + 5


def test_the_exec_worker_checks_the_file_it_writes_on_a_mounted_volume() -> None:
    spec = pod("celery-worker-exec")
    (worker,) = spec["containers"]
    env = {e["name"]: e["value"] for e in worker["env"]}
    command = worker["livenessProbe"]["exec"]["command"]
    assert command[:3] == ["healthprobe", "check", "--heartbeat-file"]
    path = command[command.index("--heartbeat-file") + 1]
    max_age = float(command[command.index("--max-age") + 1])
    assert env["HEARTBEAT_FILE"] == path
    mounts = [m["mountPath"] for m in worker["volumeMounts"]]
    assert any(path.startswith(mount + "/") for mount in mounts)
    assert max_age >= install_default("max_age")
    # The probe's own timeout covers a Python start on a loaded node.
    assert worker["livenessProbe"]["timeoutSeconds"] >= 3
    assert spec["terminationGracePeriodSeconds"] > install_default("shutdown_cap") + 5


def test_the_sidecar_is_native_with_a_startup_probe_and_serves_the_readiness() -> None:
    spec = pod("native-sidecar")
    (sidecar,) = spec["initContainers"]
    assert sidecar["restartPolicy"] == "Always"
    assert sidecar["command"][:2] == ["healthprobe", "serve"]
    port = int(sidecar["command"][sidecar["command"].index("--port") + 1])
    assert {p["name"]: p["containerPort"] for p in sidecar["ports"]}["health"] == port
    assert DEFAULT_PATHS[sidecar["startupProbe"]["httpGet"]["path"]] == "live"
    (main,) = spec["containers"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    # The sidecar's /livez says the sidecar is alive, not the service: not the main liveness.
    assert "httpGet" not in main["livenessProbe"]


def test_the_cron_job_the_watcher_and_the_job_agree_on_the_file_and_its_age() -> None:
    lang, job = RECIPES["nightly-job"]
    assert lang == "python"
    tree = ast.parse(job)  # it must at least be valid Python
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Heartbeat"
    )
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    lang, text = RECIPES["cron-watcher"]
    assert lang == "toml"
    (watch,) = _toml().loads(text)["checks"].values()
    assert watch["type"] == "file_age"
    assert watch["path"] == keywords["file"]
    assert watch["max_age"] == keywords["max_age"]
    cron = manifest("cron-job")
    assert cron["kind"] == "CronJob"
    template = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = template["containers"]
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert any(keywords["file"].startswith(mount + "/") for mount in mounts)
    # A daily job, watched with a deadline of a day plus room for a slow run.
    assert cron["spec"]["schedule"].split()[2:] == ["*", "*", "*"]
    assert 24 * 3600 < watch["max_age"] <= 30 * 3600


@pytest.mark.parametrize("name", ["celery-worker-http", "celery-worker-exec", "native-sidecar"])
def test_deployments_select_their_own_pods(name: str) -> None:
    document = manifest(name)
    assert document["kind"] == "Deployment"
    labels = document["spec"]["template"]["metadata"]["labels"]
    assert document["spec"]["selector"]["matchLabels"].items() <= labels.items()
