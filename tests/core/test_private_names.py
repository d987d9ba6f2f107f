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
