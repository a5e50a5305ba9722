"""`healthprobe.checks` lists every built-in check and imports none of them up front."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import healthprobe.checks

CHECKS_DIR = Path(healthprobe.checks.__file__).parent


def test_every_public_check_class_is_exported() -> None:
    declared: set[str] = set()
    for path in CHECKS_DIR.glob("[a-z]*.py"):
        module = importlib.import_module(f"healthprobe.checks.{path.stem}")
        declared.update(module.__all__)
    assert set(healthprobe.checks.__all__) == declared
    for name in healthprobe.checks.__all__:
        assert getattr(healthprobe.checks, name).__name__ == name


def test_importing_the_package_imports_no_check_module() -> None:
    code = (
        "import sys, healthprobe.checks; "
        "print(sorted(m for m in sys.modules if m.startswith('healthprobe.checks.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def test_the_lazy_table_and_all_agree() -> None:
    table = healthprobe.checks._MODULES  # private, pinned here
    assert sorted(table) == healthprobe.checks.__all__
