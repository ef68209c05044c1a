"""The package's import graph: no cycle (imports inside functions included), nothing upward.

Imports are read with ``ast`` from every module of the package, wherever they are (module level
or inside functions); imports under ``if TYPE_CHECKING:`` are skipped (they never run). Each
top-level module or subpackage belongs to a layer; a module may import its own layer or lower
ones, never a higher one.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest_kubevirt_burner

PACKAGE = "pytest_kubevirt_burner"
ROOT = Path(pytest_kubevirt_burner.__file__).resolve().parent

# lowest first; "" is the package's own __init__
LAYERS: list[set[str]] = [
    {
        "",
        "errors",
        "results",
        "labels",
        "durations",
        "yamlerrors",
        "stashkeys",
        "interrupt",
        "console",
        "runlock",
    },
    {"sim", "cluster", "templates", "statuspaths"},
    {"jobspec", "jobfields"},
    {"measurements"},
    {"indexers"},
    {"metrics"},
    {"jobs", "recording", "hooks", "hookspecs"},
    {"observability", "report", "markers", "options"},
    {"session"},
    {"jobrun", "collection", "fixtures", "compat", "cleanup_cmd"},
    {"plugin", "__main__", "results_cmd"},
]
# (importing module, imported module): upward imports still to be removed, with the reason
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, name: str, is_pkg: bool, known: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if full in known else module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in known and m != name}


@functools.cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: _imports(ast.parse(path.read_text()), name, is_pkg, known)
        for name, (path, is_pkg) in modules.items()
    }


def _component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    component = _component(module)
    for index, layer in enumerate(LAYERS):
        if component in layer:
            return index
    raise AssertionError(f"{module}: {component!r} is in no layer; add it to LAYERS")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_nothing_imports_upward() -> None:
    upward = [
        f"{src} -> {dst}"
        for src, targets in sorted(_graph().items())
        for dst in sorted(targets)
        if _layer(dst) > _layer(src) and (src, dst) not in KNOWN_UPWARD
    ]
    assert upward == []


def test_simulator_is_independent_of_the_plugin() -> None:
    outside = [
        f"{src} -> {dst}"
        for src, targets in sorted(_graph().items())
        if _component(src) == "sim"
        for dst in sorted(targets)
        if _component(dst) != "sim"
    ]
    assert outside == []


def test_measurements_do_not_import_jobs() -> None:
    graph = _graph()
    assert not [
        (src, dst)
        for src, targets in graph.items()
        if _component(src) == "measurements"
        for dst in targets
        if _component(dst) in ("jobs", "report", "session", "fixtures", "plugin")
    ]


def test_the_checker_sees_cycles_and_function_level_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .x import X\n"
        "def f():\n    from .y import Y\n"
    )
    known = {f"{PACKAGE}.m", f"{PACKAGE}.x", f"{PACKAGE}.y"}
    assert _imports(tree, f"{PACKAGE}.m", False, known) == {f"{PACKAGE}.y"}
