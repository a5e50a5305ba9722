"""WSGI, Flask, Django and gRPC modules: no framework imported until used; a missing one named."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

IMPORTS = """
import json, sys
before = set(sys.modules)
import healthprobe.integrations.wsgi, healthprobe.integrations.flask
import healthprobe.integrations.django, healthprobe.integrations.grpc
print(json.dumps(sorted(set(sys.modules) - before)))
"""

# Each framework hidden as if it were not installed, then used.
MISSING = """
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {module!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, NotInstalled())
from healthprobe import Health
from healthprobe._optional import MissingDependencyError
import healthprobe.integrations.{integration} as integration
try:
    {call}
except MissingDependencyError as exc:
    print(exc)
"""


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout


@pytest.mark.timeout(60)
def test_integrations_import_only_the_standard_library() -> None:
    top = {name.split(".")[0] for name in json.loads(_run(IMPORTS))}
    third_party = sorted(
        name
        for name in top
        if name not in sys.stdlib_module_names
        and name != "healthprobe"
        and not name.startswith("_")
    )
    assert third_party == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("module", "integration", "call", "extra"),
    [
        ("flask", "flask", "integration.HealthProbe(health=Health())", "flask"),
        ("flask", "flask", "integration.blueprint(Health())", "flask"),
        ("django", "django", "integration.urls(Health())", "django"),
        ("grpc_health", "grpc", "integration.HealthServicer(Health())", "grpc"),
        ("grpc", "grpc", "integration.AsyncHealthServicer(Health())", "grpc"),
    ],
)
def test_a_missing_framework_names_the_extra_to_install(
    module: str, integration: str, call: str, extra: str
) -> None:
    out = _run(MISSING.format(module=module, integration=integration, call=call))
    assert f"pip install 'healthprobe[{extra}]'" in out
