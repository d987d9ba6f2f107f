"""A guard keeps an error from being raised however the guarded part reads its fields (review
4, F2). Polars computes every branch for every row, so the part behind an ``and``/``or``/``if``
reads its fields as null on the rows that do not reach it; a part that makes a value of a null
(``coalesce``, ``is_missing``, a Kleene ``or``) then fed its operator a value there, and the
overflow of a row Python never evaluates was raised for the whole batch. Every backend agrees
with Python on these records (docs/architecture.md, "Semantics at the edges")."""

from __future__ import annotations

from typing import Any

import pytest

from .test_edges import AS_OF, OTHERS, _agree

RULES = """\
- id: e_coalesce
  when: x > 5 and coalesce(y, 9223372036854775807) * 2 > 0
- id: e_coalesce_if
  value: coalesce(y, 4611686018427387904) * 2 if x > 5 else 0
- id: e_missing_if
  value: (9223372036854775807 if is_missing(y) else 0) + 1 if x > 5 else 0
- id: e_or_inside
  value: (4611686018427387904 if (y > 0 or x < 9) else 0) * 2 if x > 5 else 0
"""


def _row(i: int, x: int | None, y: int | None) -> dict[str, Any]:
    return {"id": f"337500000000000{i}", "x": x, "y": y, "amount": None, "seen": None,
            "name": None}


@pytest.mark.parametrize("backend", OTHERS)
def test_a_guarded_part_that_makes_a_value_of_a_null_raises_only_where_reached(
        engine_from: Any, backend: str, request: pytest.FixtureRequest) -> None:
    from .test_regex import Backends

    engine = engine_from(RULES, extra_plugins=[Backends()])
    # not reached: every rule is known (false / 0) on every backend
    _agree(engine, backend, [_row(1, 1, 1), _row(2, 1, None)], request)
    # reached with y unknown: the overflow is raised, on every backend
    _agree(engine, backend, [_row(3, 7, None)], request)


def test_a_plugin_function_behind_a_guard_is_not_called_where_not_reached(
        engine_from: Any) -> None:
    """Polars runs a plugin's function through its Python version row by row; on a row that
    does not reach it (the guard false) it is not called, as on the Python backend — before,
    it was called with the field read null there, and a function that does not take unknowns
    failed the batch."""
    import pyarrow as pa

    from welfare_rules.expr.functions import Function, simple_signature
    from welfare_rules.hookspecs import hookimpl

    from .test_regex import Backends

    def doubled(v: int | None) -> int:
        if v is None:
            raise TypeError("doubled() takes no unknown")
        return v * 2

    class Funcs:
        PLUGIN_NAME = "t-guarded-funcs"

        @hookimpl
        def register_functions(self, register: Any) -> None:
            register(Function("doubled", "doubled(int) -> int",
                              simple_signature(["int"], "int"), doubled,
                              null_propagating=False))

    engine = engine_from("- id: e_called\n  value: doubled(y) if x > 5 else 0\n",
                         extra_plugins=[Backends(), Funcs()])
    table = pa.table({"id": ["3375000000000001", "3375000000000002"], "x": [1, 7],
                      "y": [4, 4]})
    for backend in ("python", "polars"):
        res = engine.evaluate_batch("household", table, as_of=AS_OF, backend=backend,
                                    validate=False, dataset_checks=False)
        assert res.to_arrow().column("e_called").to_pylist() == [0, 8], backend
