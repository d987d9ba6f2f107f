"""Deep nesting stays bounded on every backend (docs/security.md, "Bounded evaluation"): a part
that a backend reads twice — the test of an ``if``, the first part of an ``and``/``or`` whose
rest may fail — is not copied at every level of nesting, and what a SQL engine would still
evaluate twice at every level is refused with the limit, before anything runs."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.errors import EvaluationError

from .test_edges import AS_OF, OTHERS, ROW_SCHEMA, _agree, outcomes
from .test_operands_evaluated import _row
from .test_regex import Backends


def _alternating(depth: int) -> str:
    """``((x > 1 or y * y > 0) and y * y > 1) or …``: each first part holds the level below,
    each rest may overflow."""
    s = "x > 1"
    for i in range(depth):
        s = f"({s} {'or' if i % 2 == 0 else 'and'} y * y > {i})"
    return s


def _if_in_test(depth: int) -> str:
    """``(y > 1) if ((y > 0) if x > 1 else (y < 0)) else (y < 1)`` and so on."""
    s = "x > 1"
    for i in range(depth):
        s = f"((y > {i}) if {s} else (y < {i}))"
    return s


ROWS = [_row(1, 1, 3), _row(2, 2, None), _row(3, None, 0), _row(4, 5, 2**40)]


def _polars_plan(engine: Any) -> str:
    import polars as pl

    from welfare_rules.backends.polars_compiler import PolarsCompiler

    comp = PolarsCompiler(engine.plan(AS_OF))
    frame = pl.LazyFrame({"__row": [0], "id": ["1"], "x": [1], "y": [2]})
    ef = comp.compile_entity("household", frame, ["__row", "id", "x", "y"])
    return str(ef.records.explain(optimizations=pl.QueryOptFlags.none()))


@pytest.mark.parametrize("nest", [_alternating, _if_in_test])
def test_the_polars_plan_grows_linearly_with_nesting(engine_from: Any, nest: Any) -> None:
    """Depth 8 writes under four times the plan of depth 4. Before, the shared part was copied
    into the part and into the reach of the rest (masks on every field it reads): about five
    copies per level, and the alternation of depth 8 took 111 s on three records."""
    size = {d: len(_polars_plan(engine_from(f"- id: e_n\n  when: '{nest(d)}'\n")))
            for d in (4, 8)}
    assert size[8] < 4 * size[4], size


@pytest.mark.parametrize("nest", [_alternating, _if_in_test])
def test_deep_nesting_agrees_on_polars(engine_from: Any, nest: Any,
                                       request: pytest.FixtureRequest) -> None:
    """Depth 16, beyond the SQL limit: Polars gives Python's answers (an overflow of a rest
    that a record reaches is raised on both)."""
    engine = engine_from(f"- id: e_n\n  when: '{nest(16)}'\n", extra_plugins=[Backends()])
    _agree(engine, "polars", ROWS, request)


def test_the_sql_of_an_if_in_the_test_of_an_if_grows_linearly(engine_from: Any) -> None:
    """The test is written once (a simple CASE), not once per branch: depth 8 writes under
    three times the SQL of depth 4 (it was 22,248 characters at depth 8 and 344,814 at 12)."""
    from welfare_rules.backends.duckdb import DuckDBCompiler

    sizes = {}
    for depth in (4, 8):
        comp = DuckDBCompiler(engine_from(f"- id: e_n\n  when: '{_if_in_test(depth)}'\n")
                              .plan(AS_OF))
        q = comp.compile_entity("household", "h", ["id", "x", "y"])
        sizes[depth] = len(comp.sql(q.with_ctes(q.result)))
    assert sizes[8] < 3 * sizes[4], sizes


@pytest.mark.parametrize("nest", [_alternating, _if_in_test])
@pytest.mark.parametrize("backend", OTHERS)
def test_what_sql_would_evaluate_twice_at_every_level_is_refused(
        engine_from: Any, nest: Any, backend: str, request: pytest.FixtureRequest) -> None:
    """DuckDB (and Spark) evaluate the operand of a simple CASE once per WHEN: at depth 16
    that is about 2**16 copies (DuckDB took 54 s for the alternation on three records). The
    SQL backends refuse the rule with its file, line, the size and the limit; Python and
    Polars evaluate it. A shallow version of the same rule runs everywhere and agrees."""
    shallow = engine_from(f"- id: e_n\n  when: '{nest(6)}'\n", extra_plugins=[Backends()])
    _agree(shallow, backend, ROWS, request)
    if backend == "polars":
        return
    deep = engine_from(f"- id: e_n\n  when: '{nest(16)}'\n", extra_plugins=[Backends()])
    kw = {"spark": request.getfixturevalue("spark")} if backend == "spark" else {}
    got = outcomes(deep, backend, ROWS, **kw)
    assert isinstance(got, tuple), got
    assert got[0] == "EvaluationError", got
    with pytest.raises(EvaluationError, match=(
            r"t_rules\.yaml:\d+:\d+: rule 'e_n' is nested too deeply for the \w+ backend: its "
            r"SQL is evaluated as [\d,]+ expression nodes, more than the limit of 20,000")):
        deep.evaluate_batch("household", pa.Table.from_pylist(ROWS, schema=ROW_SCHEMA),
                            as_of=AS_OF, backend=backend, validate=False, **kw).to_arrow()


def _amount_row(i: int, amount: float | None) -> dict[str, Any]:
    return {**_row(i, 1, 2), "amount": amount}


def test_the_sql_of_a_long_decimal_sum_grows_linearly(engine_from: Any) -> None:
    """A sum of 16 decimal terms writes under three times the SQL of 8: a chain of + - * is
    checked finite at its top, not at every step (each check wrote its operand twice: 2**16
    copies of the first term; 41,103 characters for `amount * 1.5` eight times)."""
    from welfare_rules.backends.duckdb import DuckDBCompiler
    from welfare_rules.backends.spark import SparkCompiler

    sizes = {}
    for terms in (8, 16):
        body = " + ".join(f"amount * {i}.5" for i in range(terms))
        plan = engine_from(f"- id: e_n\n  value: '{body}'\n").plan(AS_OF)
        for compiler in (DuckDBCompiler, SparkCompiler):
            comp = compiler(plan)
            q = comp.compile_entity("household", "h", ["id", "x", "y", "amount"])
            sizes[terms, compiler] = len(comp.sql(q.with_ctes(q.result)))
    for compiler in (DuckDBCompiler, SparkCompiler):
        assert sizes[16, compiler] < 3 * sizes[8, compiler], sizes


#: an overflow inside a chain is the shared error, whatever follows it in the chain (inf * 0
#: and inf - inf are NaN, which the check at the top catches) or above it (a comparison, a
#: divisor, a function)
CHAINS = {
    "e_times_zero": "value: amount * 1e300 * 1e300 * 0",
    "e_inf_minus_inf": "value: amount * 1e300 * 1e300 - amount * 1e300 * 1e300",
    "e_compared": "when: amount * 1e300 * 1e300 + 1.5 > 0",
    "e_divisor": "value: 1 / (amount * 1e300 * 1e300 + 1.5)",
    "e_in_round": "value: round(amount * 1e300 * 1e300 - 1.5, 0)",
    "e_long_sum": "value: " + " + ".join(f"amount * {i}.5" for i in range(16)),
}


@pytest.mark.parametrize("backend", OTHERS)
def test_an_overflow_inside_a_decimal_chain_is_raised(
        engine_from: Any, backend: str, request: pytest.FixtureRequest) -> None:
    rows = [_amount_row(1, None), _amount_row(2, 2.0), _amount_row(3, 1e-300),
            _amount_row(4, -3.5)]
    for rule, body in CHAINS.items():
        engine = engine_from(f"- id: {rule}\n  {body}\n", extra_plugins=[Backends()])
        _agree(engine, backend, rows, request)
