"""Expression semantics every backend shares (review 2: #3, #11, #22, #23, #27, #28, #15).

Each case is a rule over a household and records chosen at the edge the review found; the
answer (value, status and Arrow type) of every registered backend must equal
``Engine.evaluate`` and the Python batch backend, and the expected value written here.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import welfare_rules as wr
from welfare_rules.errors import EvaluationError

from . import backend_plugin

AS_OF = datetime.date(2024, 1, 1)
KK = "3375010101010009"
_FIELDS = {"desil": pa.int64(), "owns_car": pa.bool_(), "meals_per_day": pa.int64(),
           "floor_area_m2": pa.float64(), "kecamatan": pa.string(),
           "savings_value": pa.int64()}


_ENGINES: dict[str, wr.Engine] = {}


def _engine(tmp_path: Path, rules: str) -> wr.Engine:
    if rules not in _ENGINES:
        path = tmp_path / "rules.yaml"
        path.write_text('id: t_expr\nversion: "1"\nentity: household\nrules:\n' + rules)
        _ENGINES[rules] = wr.Engine.load(rules=[path], plugins=[backend_plugin])
    return _ENGINES[rules]


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    cols = {"id": pa.array([f"3375{i:012d}" for i in range(len(rows))], pa.string())}
    for k, ty in _FIELDS.items():
        cols[k] = pa.array([r.get(k) for r in rows], ty)
    return pa.table(cols)


def _answers(engine: wr.Engine, rows: list[dict[str, Any]], rule: str, backend: str,
             request: pytest.FixtureRequest) -> tuple[list[Any], list[str], pa.DataType]:
    kw = {"spark": request.getfixturevalue("spark")} if backend == "spark" else {}
    members = pa.table({"nik": pa.array([], pa.string()),
                        "household_id": pa.array([], pa.string())})
    res = engine.evaluate_batch("household", _table(rows), members=members, as_of=AS_OF,
                                backend=backend, validate=False, settle=False,
                                dataset_checks=False, outputs=[rule], **kw).to_arrow()
    return (res.column(rule).to_pylist(), res.column(rule + "__status").to_pylist(),
            res.schema.field(rule).type)


def _agree(tmp_path: Path, backend: str, request: pytest.FixtureRequest, rules: str,
           rule: str, rows: list[dict[str, Any]], expected: list[Any], *,
           valid: bool = True) -> None:
    """``rule`` over ``rows`` gives ``expected`` from Engine.evaluate (when the rows are
    ``valid`` for the schema), the Python batch and ``backend``, with the same statuses and
    Arrow type."""
    engine = _engine(tmp_path, rules)
    if valid:
        one = [engine.evaluate("household", {"id": KK, **r, "members": []},
                               as_of=AS_OF).value(rule) for r in rows]
        assert one == expected
    ref = _answers(engine, rows, rule, "python", request)
    assert ref[0] == expected
    got = _answers(engine, rows, rule, backend, request)
    assert got == ref, backend


# -- #27: a list literal is a list (order and duplicates kept), not a set ----------------------

#: a rule whose value is a list: [c or b, a] for desil < 6, [a] for 6-8, [] above
LIST_RULE = """
  - id: t_list
    table:
      hit_policy: rule_order
      inputs: [desil]
      rows:
        - {when: ["< 6"], then: "= 'c' if owns_car else 'b'"}
        - {when: ["< 9"], then: a}
"""
LISTS = LIST_RULE + """
  - id: t_eq
    when: 't_list == ["b", "a"]'
  - id: t_ne
    when: 't_list != ["a", "b"]'
  - id: t_lit
    value: '["b", "a", "b"] if owns_car else ["a"]'
"""


def test_list_equality_compares_lists(tmp_path: Path, backend: str,
                                      request: pytest.FixtureRequest) -> None:
    rows = [{"desil": 2, "owns_car": False}, {"desil": 2, "owns_car": True},
            {"desil": 7, "owns_car": False}]
    _agree(tmp_path, backend, request, LISTS, "t_eq", rows, [True, False, False])
    _agree(tmp_path, backend, request, LISTS, "t_ne", rows, [True, True, True])


def test_a_list_literal_rule_keeps_order_and_duplicates(tmp_path: Path, backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    rows = [{"owns_car": True}, {"owns_car": False}, {}]
    _agree(tmp_path, backend, request, LISTS, "t_lit", rows, [["b", "a", "b"], ["a"], None])


# -- #11: membership is Kleene: an unknown item may be the one --------------------------------

MEMBERSHIP = LIST_RULE + """
  - {id: t_in_field, when: "desil in [meals_per_day, 9]"}
  - {id: t_notin_field, when: "desil not in [meals_per_day, 9]"}
  - {id: t_in_rule, when: '"b" in t_list'}
  - {id: t_notin_rule, when: '"a" not in t_list'}
  - id: t_table_in
    table:
      hit_policy: first
      inputs: [desil]
      rows:
        - {when: ["meals_per_day, 9"], then: hit}
      default: miss
"""


def test_in_with_an_unknown_item_is_unknown_unless_found(tmp_path: Path, backend: str,
                                                         request: pytest.FixtureRequest) -> None:
    rows = [{"desil": 2, "meals_per_day": 2}, {"desil": 2, "meals_per_day": None},
            {"desil": 9, "meals_per_day": None}, {"desil": 2, "meals_per_day": 3},
            {"desil": None, "meals_per_day": 2}]
    _agree(tmp_path, backend, request, MEMBERSHIP, "t_in_field", rows,
           [True, None, True, False, None])
    _agree(tmp_path, backend, request, MEMBERSHIP, "t_notin_field", rows,
           [False, None, False, True, None])
    _agree(tmp_path, backend, request, MEMBERSHIP, "t_table_in", rows,
           ["hit", None, "hit", "miss", None])


def test_in_a_rules_list_with_an_unknown_item(tmp_path: Path, backend: str,
                                              request: pytest.FixtureRequest) -> None:
    rows = [{"desil": 2, "owns_car": False}, {"desil": 2, "owns_car": True},
            {"desil": 2, "owns_car": None}, {"desil": 9}]
    _agree(tmp_path, backend, request, MEMBERSHIP, "t_in_rule", rows, [True, False, None, False])
    # the known item decides although another is unknown
    _agree(tmp_path, backend, request, MEMBERSHIP, "t_notin_rule", rows,
           [False, False, False, True])


# -- #3: decimal // and % have one definition: q = floor(a / b), r = a - b * q -----------------

DIVISION = """
  - {id: t_fdiv, value: "floor_area_m2 // 0.1"}
  - {id: t_fmod, value: "floor_area_m2 % 0.1"}
  - {id: t_fdiv3, value: "floor_area_m2 // -0.3"}
  - {id: t_fmod3, value: "floor_area_m2 % -0.3"}
  - {id: t_idiv, value: "desil // 0.3 + desil % 0.3"}
  - {id: t_div, value: "floor_area_m2 / 0.1"}
"""
AREAS = [325.8, 222.7, 398.7, 0.3, 7.25, 1e15 + 0.5, 0.0]


def test_decimal_floor_division_and_remainder_agree(tmp_path: Path, backend: str,
                                                    request: pytest.FixtureRequest) -> None:
    import math

    rows = [{"floor_area_m2": a, "desil": i + 1} for i, a in enumerate(AREAS)]
    for rule, b in (("t_fdiv", 0.1), ("t_fdiv3", -0.3)):
        _agree(tmp_path, backend, request, DIVISION, rule, rows,
               [float(math.floor(a / b)) for a in AREAS])
    for rule, b in (("t_fmod", 0.1), ("t_fmod3", -0.3)):
        _agree(tmp_path, backend, request, DIVISION, rule, rows,
               [a - b * math.floor(a / b) for a in AREAS])
    _agree(tmp_path, backend, request, DIVISION, "t_idiv", rows,
           [float(math.floor(i / 0.3)) + (i - 0.3 * math.floor(i / 0.3))
            for i in range(1, len(AREAS) + 1)])
    # Polars divides by a constant through its reciprocal unless told otherwise
    _agree(tmp_path, backend, request, DIVISION, "t_div", rows, [a / 0.1 for a in AREAS])


# -- #22: to_int trims Python's whitespace on every backend -----------------------------------

def test_to_int_trims_the_same_whitespace(tmp_path: Path, backend: str,
                                         request: pytest.FixtureRequest) -> None:
    texts = ["\t12", "12\n", "12\r", " 12\u3000", "\u00a0-7\u2028", "\x1c3\x85", "1 2", "\t"]
    _agree(tmp_path, backend, request, '  - {id: t_ti, value: "to_int(kecamatan)"}\n', "t_ti",
           [{"kecamatan": s} for s in texts], [12, 12, 12, 12, -7, 3, None, None])


# -- text constants beyond ASCII: DuckDB's SQL text is ASCII (CHR() for the others) ----------

def test_text_constants_beyond_ascii_are_the_same_text(tmp_path: Path, backend: str,
                                                       request: pytest.FixtureRequest) -> None:
    rules = ("  - {id: t_na, value: \"kecamatan == 'Pekalongan — Ñ 北'\"}\n"
             "  - {id: t_nb, value: \"'…' if owns_car else ('x—y' if desil > 5 else kecamatan)\"}"
             "\n  - {id: t_nc, value: \"startswith(kecamatan, '—')\"}\n")
    rows = [{"kecamatan": "Pekalongan — Ñ 北", "owns_car": True, "desil": 1},
            {"kecamatan": "Pekalongan - N", "owns_car": False, "desil": 9},
            {"kecamatan": "—ok", "owns_car": False, "desil": 1}]
    _agree(tmp_path, backend, request, rules, "t_na", rows, [True, False, False])
    _agree(tmp_path, backend, request, rules, "t_nb", rows, ["…", "x—y", "—ok"])
    _agree(tmp_path, backend, request, rules, "t_nc", rows, [False, False, True])


# -- #23: round(x, n) with a huge n is clamped, never a raw OverflowError ---------------------

def test_round_with_huge_digits_is_clamped(tmp_path: Path, backend: str,
                                          request: pytest.FixtureRequest) -> None:
    rules = ('  - {id: t_rb, value: "round(floor_area_m2, desil * 40)"}\n'
             '  - {id: t_rs, value: "round(floor_area_m2, 0 - desil * 40)"}\n')
    rows = [{"floor_area_m2": 2.5, "desil": d} for d in (1, 8, 10)]
    _agree(tmp_path, backend, request, rules, "t_rb", rows, [2.5, 2.5, 2.5])
    _agree(tmp_path, backend, request, rules, "t_rs", rows, [0.0, 0.0, 0.0])


# -- #28: abs() and folded constants at -2**63 are the shared error ---------------------------

def test_abs_of_the_smallest_int_is_out_of_range(tmp_path: Path, backend: str,
                                                 request: pytest.FixtureRequest) -> None:
    engine = _engine(tmp_path, '  - {id: t_abs, value: "abs(savings_value)"}\n')
    assert engine.evaluate("household", {"id": KK, "savings_value": 5, "members": []},
                           as_of=AS_OF).value("t_abs") == 5
    for b in ("python", backend):
        with pytest.raises(EvaluationError, match="arithmetic out of range"):
            _answers(engine, [{"savings_value": -(2**63)}], "t_abs", b, request)


@pytest.mark.parametrize("expr", ["abs(0 - 9223372036854775807 - 1)",
                                  "-(-9223372036854775807 - 1)"])
def test_a_constant_out_of_range_is_the_shared_error(tmp_path: Path, backend: str, expr: str,
                                                     request: pytest.FixtureRequest) -> None:
    engine = _engine(tmp_path, f'  - {{id: t_c, value: "{expr}"}}\n')
    with pytest.raises(EvaluationError, match="arithmetic out of range"):
        engine.evaluate("household", {"id": KK, "members": []}, as_of=AS_OF)
    for b in ("python", backend):
        with pytest.raises(EvaluationError, match="arithmetic out of range"):
            _answers(engine, [{}], "t_c", b, request)


# -- #15: one constant folding for every compiler: an out-of-range constant in a branch no row
#    takes is no error (Polars refused the whole batch, even an empty one)

FOLD = "  - {id: t_fold, value: 'savings_value if owns_car else 9223372036854775807 + 1'}\n"


def test_an_out_of_range_constant_raises_only_where_taken(tmp_path: Path, backend: str,
                                                          request: pytest.FixtureRequest) -> None:
    rows = [{"owns_car": True, "savings_value": 5}, {"owns_car": True, "savings_value": 7}]
    _agree(tmp_path, backend, request, FOLD, "t_fold", rows, [5, 7])
    _agree(tmp_path, backend, request, FOLD, "t_fold", [], [])
    engine = _engine(tmp_path, FOLD)
    for b in ("python", backend):
        with pytest.raises(EvaluationError, match="arithmetic out of range"):
            _answers(engine, [{"owns_car": False, "savings_value": 5}], "t_fold", b, request)


# -- review 3 F10: a multi-output table whose row is an error is a null struct with status
#    error on every backend (Spark refused the whole batch: a struct field declared not null)

MULTI = """
  - id: t_multi
    table:
      hit_policy: any
      inputs: [desil]
      outputs: [{name: a}, {name: b}]
      rows:
        - {when: ["< 5"], then: {a: x, b: "= meals_per_day"}}
        - {when: ["< 9"], then: {a: x, b: 3}}
"""


def test_a_multi_output_error_row_is_a_null_struct(tmp_path: Path, backend: str,
                                                   request: pytest.FixtureRequest) -> None:
    engine = _engine(tmp_path, MULTI)
    rows = [{"desil": 2, "meals_per_day": 3}, {"desil": 2, "meals_per_day": 2},
            {"desil": 7}, {"desil": 9}]
    ref = _answers(engine, rows, "t_multi", "python", request)
    assert ref[0] == [{"a": "x", "b": 3}, None, {"a": "x", "b": 3}, None]
    assert ref[1] == ["value", "error", "value", "unknown"]
    assert _answers(engine, rows, "t_multi", backend, request) == ref, backend


# -- review3 F5: a ranked expression output outside the declared values is an error -----------

RANKED = """
  - id: t_prio
    table:
      hit_policy: priority
      inputs: [desil]
      outputs: [{name: level, values: [severe, moderate, none]}]
      rows:
        - {when: ["< 5"], then: "= kecamatan"}
        - {when: ["< 9"], then: moderate}
      default: none
  - id: t_order
    table:
      hit_policy: output_order
      inputs: [desil]
      outputs: [{name: level, values: [severe, moderate, none]}]
      rows:
        - {when: ["< 5"], then: "= kecamatan"}
        - {when: ["< 9"], then: moderate}
"""


@pytest.mark.parametrize("rule", ["t_prio", "t_order"])
def test_a_ranked_output_outside_the_declared_values_is_an_error(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest, rule: str) -> None:
    """`= kecamatan` giving "zzz" (declared: severe, moderate, none) was ranked below every
    declared value: PRIORITY answered "moderate", OUTPUT ORDER listed "zzz" last. It cannot
    be ranked: the row's status is `error` on every backend, and Engine.evaluate names the
    value and the declared ones."""
    engine = _engine(tmp_path, RANKED)
    rows = [{"desil": 2, "kecamatan": "zzz"}, {"desil": 2, "kecamatan": "severe"},
            {"desil": 2}, {"desil": 7, "kecamatan": "zzz"}]
    ref = _answers(engine, rows, rule, "python", request)
    if rule == "t_prio":
        assert ref[0] == [None, "severe", None, "moderate"]
    else:
        assert ref[0] == [None, ["severe", "moderate"], ["moderate", None], ["moderate"]]
    assert ref[1] == ["error", "value", "unknown", "value"]
    assert _answers(engine, rows, rule, backend, request) == ref, backend
    with pytest.raises(wr.HitPolicyError, match=r"row 1 gives level 'zzz', not one of its "
                       r"declared values \('severe', 'moderate', 'none'\)"):
        engine.evaluate("household", {"id": KK, **rows[0], "members": []},
                        as_of=AS_OF).value(rule)
