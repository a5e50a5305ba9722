"""The rooms of the package import only downwards, and nothing imports in a circle.

The rule (CONTRIBUTING.md, and each room's ``__init__`` docstring): the
engine imports nothing of http or observe; http and observe import the
engine; checks import the engine; integrations import http, observe and the
engine.  Every import counts, inside functions and under ``TYPE_CHECKING``
too: a lazy import against the rule, or one that closes a circle only for
the type checker, is still a dependency of the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import healthprobe

SOURCE = Path(healthprobe.__file__).parent

#: room -> the rooms its modules may import ("base": _optional, _version).
ALLOWED: dict[str, frozenset[str]] = {
    "base": frozenset({"base"}),
    "engine": frozenset({"base", "engine"}),
    "http": frozenset({"base", "engine", "http"}),
    "observe": frozenset({"base", "engine", "observe"}),
    "checks": frozenset({"base", "engine", "checks"}),
    "integrations": frozenset({"base", "engine", "http", "observe", "integrations"}),
    "config": frozenset({"base", "engine", "http", "integrations", "checks", "config"}),
    "cli": frozenset(
        {"base", "engine", "http", "observe", "integrations", "checks", "config", "cli", "public"}
    ),
    # healthprobe/__init__ re-exports the engine (and serve_in_thread, the
    # integrations room's thread server), observability and logfilter the
    # observe room, __main__ runs the cli.
    "public": frozenset({"base", "engine", "observe", "integrations", "cli", "public"}),
}
ROOMS = ("engine", "http", "observe", "checks", "integrations", "config", "cli")


def room_of(module: str) -> str:
    """The room of a dotted module name inside healthprobe."""
    parts = module.split(".")
    if len(parts) == 1:
        return "public"
    if parts[1] in ROOMS:
        return parts[1]
    if parts[1] in ("_optional", "_version"):
        return "base"
    return "public"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(
    tree: ast.Module, module: str, is_package: bool, root: Path
) -> Iterator[tuple[int, str]]:
    """(line, imported healthprobe module) for every import, wherever it stands."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "healthprobe":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "healthprobe":
                continue
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                candidate = f"{target}.{alias.name}"
                sub = root.parent.joinpath(*candidate.split("."))
                if sub.with_suffix(".py").exists() or (sub / "__init__.py").exists():
                    yield node.lineno, candidate
                else:
                    yield node.lineno, target


def violations(root: Path) -> list[str]:
    """Every import in the tree at ``root`` (a healthprobe package) against :data:`ALLOWED`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        tree = ast.parse(path.read_text(), str(path))
        for line, target in imports(tree, module, path.name == "__init__.py", root):
            here, there = room_of(module), room_of(target)
            if there not in ALLOWED[here]:
                found.append(f"{module}:{line} ({here}) imports {target} ({there})")
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        tree = ast.parse(path.read_text(), str(path))
        edges = {target for _, target in imports(tree, module, path.name == "__init__.py", root)}
        graph[module] = edges - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (one path per cycle found by depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_every_import_follows_the_rooms_rule() -> None:
    assert violations(SOURCE) == []


def test_no_module_imports_in_a_circle() -> None:
    assert cycles(import_graph(SOURCE)) == []


def test_the_rooms_exist_and_say_what_they_may_import() -> None:
    for room in ("engine", "http", "observe"):
        doc = ast.get_docstring(ast.parse((SOURCE / room / "__init__.py").read_text()))
        assert doc is not None
        assert "May import" in doc


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("engine/health.py", "from healthprobe.http.handler import ProbeHandler\n", "(http)"),
        ("engine/health.py", "def f():\n    from ..observe import metrics\n", "(observe)"),
        ("http/handler.py", "from healthprobe.observe.metrics import render\n", "(observe)"),
        ("observe/metrics.py", "from healthprobe.http import messages\n", "(http)"),
        ("checks/redis.py", "from healthprobe.integrations import asgi\n", "(integrations)"),
        (
            "engine/runtime.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from healthprobe.http.messages import Request\n",
            "(http)",
        ),
    ],
)
def test_an_import_against_the_rule_is_reported(
    tmp_path: Path, module: str, source: str, expected: str
) -> None:
    root = tmp_path / "healthprobe"
    for room in ("engine", "http", "observe", "checks", "integrations"):
        (root / room).mkdir(parents=True)
        (root / room / "__init__.py").write_text("")
        for name in ("health", "handler", "metrics", "messages", "redis", "asgi", "runtime"):
            (root / room / f"{name}.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / module).write_text(source)
    found = violations(root)
    assert len(found) == 1
    assert found[0].endswith(expected)


def test_a_cycle_is_reported() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
