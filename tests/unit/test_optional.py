"""A missing optional package says what to install; a broken one is never masked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from healthprobe._optional import MissingDependencyError, require


@pytest.mark.parametrize("module", ["nosuchpkg", "nosuchpkg.sub", "nosuchpkg.sub.deeper"])
def test_a_missing_package_names_the_extra(module: str) -> None:
    with pytest.raises(MissingDependencyError, match=r"pip install 'healthprobe\[thing\]'"):
        require(module, "thing")


def test_a_missing_parent_package_is_reported_too(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("json.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "json", None)  # the parent package is "not installed"
    with pytest.raises(MissingDependencyError, match="healthprobe\\[json\\]"):
        require("json.decoder", "json")


def test_a_broken_import_inside_an_installed_package_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "brokenpkg"
    package.mkdir()
    (package / "__init__.py").write_text("import some_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as caught:
        require("brokenpkg", "broken")
    assert not isinstance(caught.value, MissingDependencyError)
    assert caught.value.name == "some_missing_dependency_xyz"
