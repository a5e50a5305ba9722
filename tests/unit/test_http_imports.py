"""The HTTP layer's modules import only the standard library until a framework is used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
before = set(sys.modules)
import healthprobe.integrations.asgi, healthprobe.integrations.fastapi
import healthprobe.integrations.starlette, healthprobe.http.handler
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.timeout(60)
def test_integrations_import_no_framework() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    top = {name.split(".")[0] for name in json.loads(out)}
    third_party = sorted(
        name
        for name in top
        if name not in sys.stdlib_module_names
        and name != "healthprobe"
        and not name.startswith("_")
    )
    assert third_party == []
