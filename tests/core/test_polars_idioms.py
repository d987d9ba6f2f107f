"""The Polars compiler says "a list has an unknown item" in one place
(``polars_compiler.has_unknown_item``): ``==``/``!=`` on lists, ``x in <list>`` and the status of
a list rule all read it, so they cannot drift apart (review2: the idiom was written out in
``contains`` and ``compare_expr``, and once more for statuses)."""

from __future__ import annotations

import ast
import inspect

import polars as pl

from welfare_rules.backends import polars_compiler
from welfare_rules.backends.polars_compiler import has_unknown_item


def test_a_list_with_an_unknown_item_is_told_apart_from_a_known_and_an_unknown_list() -> None:
    frame = pl.DataFrame({"xs": [[1, None], [1, 2], [], None]}, schema={"xs": pl.List(pl.Int64)})
    assert frame.select(has_unknown_item(pl.col("xs"))).to_series().to_list() == [
        True, False, False, None]


def _element_null_tests(source: str) -> int:
    """How many times ``pl.element().is_null()`` is written in ``source``."""
    return sum(1 for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "is_null" and "pl.element()" == ast.unparse(node.func.value))


def test_the_idiom_is_written_once() -> None:
    assert _element_null_tests("a = x.list.eval(pl.element().is_null())\n"
                               "b = y.list.eval(pl.element().is_null()).list.any()\n") == 2
    assert _element_null_tests(inspect.getsource(polars_compiler)) == 1
