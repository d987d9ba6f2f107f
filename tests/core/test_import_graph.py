"""The import graph of ``src/welfare_rules``: no circles, and the backends never reach up.

Built with the standard :mod:`ast` module from the source files: every ``import`` and
``from ... import`` counts, at module level, inside a function or under ``if TYPE_CHECKING:``
(annotations only, never executed, but a dependency all the same: a module typed against
another cannot be understood, moved or tested without it). The faces are typed against the
protocols of :mod:`welfare_rules.views`, never against the engine that builds them
(docs/architecture.md).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = "welfare_rules"
#: what no module of welfare_rules.backends may import (at run time or for annotations)
ABOVE_BACKENDS = ("engine", "decision", "batch", "explain", "cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PKG).rglob("*.py"))}


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:``."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                out |= {id(x) for x in ast.walk(sub)}
    return out


def imports(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, bool]]:
    """(imported module of the package, only for type checking) for each import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = _type_checking_blocks(tree)
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                stem = base[:len(base) - node.level + 1]
                mod = ".".join([*stem, node.module] if node.module else stem)
            else:
                mod = node.module or ""
            # ``from . import types`` imports the submodule welfare_rules.types; other names
            # come from the module itself
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            targets = subs if len(subs) == len(node.names) else [mod, *subs]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith(PKG) and target != name:
                yield target, id(node) in typing_only


@functools.cache
def graph(*, typing: bool) -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: {t for t, only_typing in imports(name, path, known) if typing or not only_typing}
            for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_imports_inside_functions_and_relative_imports() -> None:
    g = graph(typing=False)
    # engine.evaluate_batch imports batch inside the method
    assert "welfare_rules.batch" in g["welfare_rules.engine"]
    # ``from . import types as t`` is the module welfare_rules.types
    assert "welfare_rules.types" in g["welfare_rules.plan"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    found = cycles(graph(typing=True))
    assert found == [], ("import circles (imports inside functions and for type checking "
                         "count): " + "; ".join(" ↔ ".join(c) for c in found))


def test_the_graph_counts_imports_for_type_checking() -> None:
    typed, run = graph(typing=True), graph(typing=False)
    # explain.py reads a decision through the protocol, for annotations only
    assert "welfare_rules.views" in typed["welfare_rules.explain"]
    assert "welfare_rules.views" not in run["welfare_rules.explain"]


@pytest.mark.parametrize("name", sorted(m for m in modules() if m.startswith(f"{PKG}.backends")))
def test_backends_never_import_the_layers_above(name: str) -> None:
    above = {f"{PKG}.{m}" for m in ABOVE_BACKENDS}
    bad = sorted(graph(typing=True)[name] & above)
    assert bad == [], f"{name} imports {bad}: a backend reads the plan (welfare_rules.plan)"
