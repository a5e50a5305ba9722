"""The core imports nothing outside the standard library; the public surface is pinned."""

from __future__ import annotations

import json
import subprocess
import sys

import healthprobe

PROBE = """
import json, sys
before = set(sys.modules)
import healthprobe
new = sorted(set(sys.modules) - before)
print(json.dumps(new))
"""


def test_import_healthprobe_imports_only_the_standard_library() -> None:
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
    assert any(name.startswith("healthprobe") for name in imported)
    assert third_party == []


def test_public_surface_is_pinned() -> None:
    assert sorted(healthprobe.__all__) == [
        "BUILTIN_PROBES",
        "CheckReport",
        "CheckResult",
        "CheckSpec",
        "ConfigurationError",
        "Health",
        "Heartbeat",
        "Reading",
        "Report",
        "Reported",
        "Status",
        "UnknownCheckError",
        "UnknownProbeError",
        "__version__",
        "interpret",
        "sanitize",
        "serve_in_thread",
    ]
    for name in healthprobe.__all__:
        assert getattr(healthprobe, name) is not None


def test_import_healthprobe_defers_the_engine_until_a_name_is_used() -> None:
    # `healthprobe probe` runs in every container's HEALTHCHECK: importing the
    # package must not pay for asyncio and the engine.
    probe = (
        "import sys, healthprobe; a = 'asyncio' in sys.modules; "
        "healthprobe.Health; print(a, 'asyncio' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["False", "True"]


def test_the_probe_command_pays_for_no_heavy_module() -> None:
    # `healthprobe probe` runs every few seconds in every container: socket.py (its enums,
    # ~10 ms), collections and typing would triple its import time (docs/benchmarks.md).
    probe = (
        "import sys; from healthprobe.cli import main; main(['probe', '--help']); "
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    imported = set(out.strip().splitlines()[-1].split())  # after the usage text
    heavy = {"socket", "enum", "collections", "typing", "asyncio", "argparse", "ssl"}
    assert not imported & heavy, imported & heavy
