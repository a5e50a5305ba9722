"""Without psutil, the system checks say exactly which extra to install."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

import healthprobe.checks
from healthprobe._optional import MissingDependencyError


def test_memory_check_without_psutil_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil now raises ImportError
    from healthprobe.checks.system import CpuCheck, LoadCheck, MemoryCheck

    with pytest.raises(MissingDependencyError, match=r"pip install 'healthprobe\[psutil\]'"):
        MemoryCheck()
    with pytest.raises(MissingDependencyError, match=r"pip install 'healthprobe\[psutil\]'"):
        CpuCheck()
    # The load average comes from the OS where it has one: no psutil needed.
    if hasattr(os, "getloadavg"):
        assert LoadCheck().check().observed_unit == "load per core"


def test_importing_the_module_does_not_import_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)
    # A fresh import of the module, with psutil unimportable: it must not need it.
    monkeypatch.delitem(sys.modules, "healthprobe.checks.system", raising=False)
    monkeypatch.delattr(healthprobe.checks, "system", raising=False)
    system = importlib.import_module("healthprobe.checks.system")

    assert system.MemoryCheck.__name__ == "MemoryCheck"


def test_the_standard_library_checks_import_only_the_standard_library() -> None:
    modules = [
        "disk",
        "dns",
        "files",
        "loop_lag",
        "ping",
        "process",
        "sqlite",
        "system",
        "tcp",
        "tls",
    ]
    probe = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        + "".join(f"import healthprobe.checks.{name}\n" for name in modules)
        + "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    third_party = [
        name
        for name in json.loads(out)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "healthprobe"
        and not name.startswith("_")
    ]
    assert third_party == []
