"""What every check family's import test asserts: a missing driver names its extra, and
importing the check modules imports no driver."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence

import pytest

from healthprobe._optional import MissingDependencyError

__all__ = ["assert_missing_driver_names_the_extra", "drivers_imported_by"]


def assert_missing_driver_names_the_extra(
    extra: str, hidden: Sequence[str], make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``hidden`` modules "not installed", ``make()`` says which extra to install."""
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=rf"pip install 'healthprobe\[{extra}\]'"):
        make()


def drivers_imported_by(modules: Sequence[str], drivers: Sequence[str]) -> list[str]:
    """The ``drivers`` a fresh interpreter has imported after importing ``modules``."""
    code = (
        "import json, sys\n"
        "import healthprobe\n"
        f"for name in {list(modules)!r}:\n"
        "    __import__(name)\n"
        f"print(json.dumps(sorted(m for m in {list(drivers)!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    imported: list[str] = json.loads(out.stdout)
    return imported
