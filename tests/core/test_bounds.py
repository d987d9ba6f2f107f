"""Bounded evaluation: growth chains are refused at load; arithmetic past 64 bits is the same
EvaluationError on the Python, DuckDB and Polars backends, never a hang or a different answer."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.backends.runtime import OUT_OF_RANGE
from welfare_rules.errors import EvaluationError
from welfare_rules.expr.bounds import MAX_RULE_DEPTH, MAX_TEXT

from .test_regex import Backends

AS_OF = datetime.date(2024, 1, 1)
KK = "3375010101010001"
BATCH = ("duckdb", "polars")  # held to the Python backend's answer


def chain(prefix: str, first: str, step: str, n: int) -> str:
    rules = [f"- id: {prefix}0\n  value: {first}\n"]
    rules += [f"- id: {prefix}{i}\n  value: {step.format(p=f'{prefix}{i - 1}')}\n"
              for i in range(1, n + 1)]
    return "".join(rules)


def test_a_text_doubling_chain_is_refused_at_load(errors_from: Any) -> None:
    """40 rules s_i = s_(i-1) + s_(i-1) passed `check` and needed 3 GB for one person."""
    errors = errors_from(chain("t_s", "name", "{p} + {p}", 40))
    assert 1 == len(errors)
    text = str(errors[0])
    assert "t_rules.yaml:" in text
    assert f"more than the limit of {MAX_TEXT:,}" in text
    assert "'t_s7'" in text


def test_short_text_chains_load(engine_from: Any) -> None:
    eng = engine_from(chain("t_s", "name", "{p} + '-'", 30))
    assert "ab" + "-" * 30 == eng.evaluate("household", {"name": "ab"},
                                            as_of=AS_OF).value("t_s30")


def test_a_chain_deeper_than_the_limit_is_refused_at_load(errors_from: Any) -> None:
    errors = errors_from(chain("t_c", "x", "{p} + 1", MAX_RULE_DEPTH + 5))
    assert 1 == len(errors)
    assert f"more than {MAX_RULE_DEPTH} rules" in str(errors[0])


def _both(eng: Any, record: dict[str, Any], rule: str) -> list[Any]:
    out: list[Any] = []
    try:
        out.append(eng.evaluate("household", record, as_of=AS_OF).value(rule))
    except EvaluationError as exc:
        out.append(("error", str(exc).split(":")[0]))
    table = pa.table({"id": [KK], **{k: [v] for k, v in record.items()}})
    for backend in BATCH:
        try:
            res = eng.evaluate_batch("household", table, as_of=AS_OF, backend=backend)
            out.append(res.to_arrow().column(rule).to_pylist()[0])
        except EvaluationError as exc:
            out.append(("error", str(exc).split(":")[0]))
    return out


def test_a_squaring_chain_is_the_same_error_on_python_and_duckdb(engine_from: Any) -> None:
    """40 rules x_i = x_(i-1) * x_(i-1) ran past 60 s on the Python backend."""
    eng = engine_from(chain("t_x", "x", "{p} * {p}", 40), extra_plugins=[Backends()])
    assert [("error", OUT_OF_RANGE)] * 3 == _both(eng, {"x": 3}, "t_x40")
    assert [1, 1, 1] == _both(eng, {"x": 1}, "t_x40")


@pytest.mark.parametrize(("expr", "x", "expected"), [
    ("x * x", 2**32, ("error", OUT_OF_RANGE)),
    ("x * 3", 2**62, ("error", OUT_OF_RANGE)),
    ("x + 1", 2**63 - 1, ("error", OUT_OF_RANGE)),
    ("0 - x - x - x", 2**62, ("error", OUT_OF_RANGE)),
    ("0 - x - x", 2**62, -(2**63)),
    ("x * 2", 2**61, 2**62),
    ("x * 999999999999", 9_000_000, 9_000_000 * 999999999999),
])
def test_int64_bounds_are_the_same_on_python_and_duckdb(engine_from: Any, expr: str, x: int,
                                                        expected: Any) -> None:
    eng = engine_from(f"- id: t_r\n  value: {expr}\n", extra_plugins=[Backends()])
    assert [expected] * 3 == _both(eng, {"x": x}, "t_r")


def test_a_24_digit_literal_is_a_load_error_not_a_sql_crash(errors_from: Any) -> None:
    big = "123456789012345678901234"
    errors = errors_from(f"- id: t_r\n  value: {big} * {big}\n")
    assert "64-bit" in str(errors[0])
