"""The import graph of ``src/welfare_rules``: no circles, and every arrow points down the layers.

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

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = "welfare_rules"
#: The layers of docs/architecture.md, bottom first, each with the modules (and packages) of
#: ``welfare_rules`` in it; a module imports only from its own layer or those below. A module
#: is in the layer of its longest listed prefix; what no layer lists is a face. The data model
#: (schema, types, inputs) is below the language; the rules' model (``model.py``: rules made of
#: parsed expressions, ``loading.py`` that parses them, reforms) is above it, with the plan.
LAYERS: dict[str, tuple[str, ...]] = {
    "model": ("_parse_cache", "_yaml", "types", "errors", "masking", "schema", "hookspecs",
              "packs", "national", "adapters", "sqlbuild", "safecells", "templating",
              "wording", "formatting", "display", "workbook"),
    "language": ("expr",),
    "plan": ("model", "loading", "reform", "plan", "bounds"),
    "backends": ("backends",),
    "engine": ("core", "plugins", "builtin_plugin", "views"),
    "faces": ("",),
}
ORDER = list(LAYERS)


def layer(module: str) -> str:
    """The layer of a module of the package (the longest prefix listed in :data:`LAYERS`)."""
    rel = module.removeprefix(PKG).removeprefix(".")
    best = ("faces", -1)
    for name, prefixes in LAYERS.items():
        for p in prefixes:
            if p and (rel == p or rel.startswith(p + ".")) and len(p) > best[1]:
                best = (name, len(p))
    return best[0]


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
    # Decision._repr_html_ imports explain inside the method
    assert "welfare_rules.explain" in g["welfare_rules.decision"]
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


def test_every_listed_layer_prefix_names_a_module() -> None:
    """A module renamed or moved cannot drop out of its layer unnoticed."""
    mods = {m.removeprefix(PKG).removeprefix(".") for m in modules()}
    stale = sorted(p for prefixes in LAYERS.values() for p in prefixes
                   if p and not any(m == p or m.startswith(p + ".") for m in mods))
    assert stale == []


def test_layer_of_a_module() -> None:
    assert [layer(f"{PKG}.{m}") for m in ("types", "expr.check", "model", "backends.sql",
                                           "core", "engine", "decision", "cli")] == [
        "model", "language", "plan", "backends", "engine", "faces", "faces", "faces"]
    assert layer(PKG) == "faces"  # the package re-exports the public API of every layer


def upward_imports(g: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} ({layer(m)}) imports {t} ({layer(t)})" for m, targets in g.items()
                  for t in targets if ORDER.index(layer(t)) > ORDER.index(layer(m)))


def test_the_check_finds_an_import_up_the_layers() -> None:
    """An engine module importing a face (what engine.py did with decision and batch) fails."""
    g = {f"{PKG}.core": {f"{PKG}.decision", f"{PKG}.plan"}, f"{PKG}.decision": {f"{PKG}.core"}}
    assert upward_imports(g) == [
        "welfare_rules.core (engine) imports welfare_rules.decision (faces)"]


def test_every_import_points_down_the_layers() -> None:
    """model → language → plan → backends → engine → faces, for every module of src/
    (imports inside functions and for type checking count)."""
    bad = upward_imports(graph(typing=True))
    assert bad == [], "imports up the layers (docs/architecture.md):\n" + "\n".join(bad)


def test_no_face_below_the_public_engine_imports_it() -> None:
    """The faces the engine hands its results to are typed against views.py, never against
    engine.py (which imports them) or the decision (which the engine builds)."""
    g = graph(typing=True)
    called = {f"{PKG}.{m}" for m in ("decision", "batch", "settling", "unknowns", "explain",
                                     "counterfactuals")}
    bad = sorted(f"{m} imports {t}" for m in called for t in g[m]
                 if t in {f"{PKG}.engine", f"{PKG}.decision"})
    assert bad == []
