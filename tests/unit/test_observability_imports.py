"""healthprobe.observability imports only the standard library, like the core."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
before = set(sys.modules)
import healthprobe.observability
new = sorted(set(sys.modules) - before)
print(json.dumps(new))
"""


def test_observability_imports_no_third_party_module() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    imported = json.loads(out)
    third_party = [
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "healthprobe"
        and not name.startswith("_")
    ]
    assert "healthprobe.observe.webhook" in imported
    assert third_party == []
