"""Numbers for people are formatted in one place, with Babel (``welfare_rules.formatting`` /
``wording.number``): no message or error groups digits with Python's ``f"{n:,}"``, which knows
one locale only (review2 #37: the CLI's Indonesian summary read ``1,500 keluarga``)."""

from __future__ import annotations

import ast
from pathlib import Path

import welfare_rules

SRC = Path(welfare_rules.__file__).parent


def python_grouping(text: str) -> list[int]:
    """The lines of ``text`` where an f-string or ``format()`` groups digits with ``,``/``_``."""
    out = []
    for node in ast.walk(ast.parse(text)):
        spec = None
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = "".join(c.value for c in ast.walk(node.format_spec)
                           if isinstance(c, ast.Constant) and isinstance(c.value, str))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "format" and len(node.args) == 2
              and isinstance(node.args[1], ast.Constant)):
            spec = str(node.args[1].value)
        if spec is not None and ("," in spec or "_" in spec):
            out.append(node.lineno)
    return sorted(out)


def test_the_check_sees_python_s_digit_grouping() -> None:
    assert python_grouping('x = f"{n:,} rows"\ny = format(n, ",")\nz = f"{n:>8}"\n') == [1, 2]


def test_no_module_groups_digits_without_babel() -> None:
    found = [f"{p.relative_to(SRC)}:{line}" for p in sorted(SRC.rglob("*.py"))
             for line in python_grouping(p.read_text(encoding="utf-8"))]
    assert found == []
