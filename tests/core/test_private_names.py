"""Private names stay in their module (review #35): no module of the library imports a ``_name``
from another one, at the top or inside a function; private *modules* (``_yaml``) are fine."""

from __future__ import annotations

import ast
from pathlib import Path

import welfare_rules

SRC = Path(welfare_rules.__file__).parent


def _is_module(package: Path, name: str) -> bool:
    return (package / f"{name}.py").is_file() or (package / name / "__init__.py").is_file()


def test_no_module_imports_a_private_name_of_another() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            for part in (node.module or "").split(".") if node.module else []:
                base = base / part
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not name.startswith("__") \
                        and not _is_module(base, name):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}")
    assert found == []


#: private attributes of other libraries the library reads, each with its reason
FOREIGN_PRIVATE = {
    # pyspark has no public API for these: the driver JVM's gateway (to quiet the loggers of
    # failed tasks) and a checkpointed frame's Java object (to unpersist its blocks at once)
    ("backends/spark.py", "_jvm"), ("backends/spark.py", "_jdf"),
}


def _defined_names(tree: ast.AST) -> set[str]:
    """Every name a module defines: functions, classes, assigned names and attributes,
    arguments and keywords, ``__slots__`` strings."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg) or (isinstance(node, ast.keyword) and node.arg):
            out.add(node.arg)  # type: ignore[arg-type]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)
    return out


def private_attribute_reads(path: Path, text: str) -> list[str]:
    """``x._name`` (``self._name`` too) where ``_name`` is not defined in the module itself:
    a private attribute or method of another module read across the boundary."""
    tree = ast.parse(text)
    own = _defined_names(tree)
    return [f"{path}:{node.lineno} {ast.unparse(node)}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_")
            and not node.attr.startswith("__") and node.attr not in own]


def test_the_attribute_check_sees_a_read_of_another_module_s_private_slots() -> None:
    """What backends/reference.py did with a RecordResult (review2 #24)."""
    text = "def fill(d):\n    return d._values[d._slots['x']]\n"
    assert private_attribute_reads(Path("m.py"), text) == ["m.py:2 d._values", "m.py:2 d._slots"]
    assert private_attribute_reads(Path("m.py"), "class A:\n    def __init__(self):\n"
                                   "        self._v = 1\n    def f(self):\n"
                                   "        return self._v\n") == []


def test_no_module_reads_a_private_attribute_of_another() -> None:
    """Private attributes and methods stay in the module that defines them (a subclass in
    another module uses the public names: ``slots``, ``values``, ``slot()``, ``blocked()``)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for hit in private_attribute_reads(path.relative_to(SRC),
                                           path.read_text(encoding="utf-8")):
            if (rel, hit.rpartition(".")[2]) not in FOREIGN_PRIVATE:
                found.append(hit)
    assert found == []
