"""Selectable result columns (``evaluate_batch(outputs=[...])``) and what the SQL compiler
leaves out for them: the rules not needed, casts of columns already in their type."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import welfare_rules as wr
from welfare_rules.backends.duckdb import DuckDBCompiler
from welfare_rules.backends.sql import same_type, sql_type
from welfare_rules.batch import evaluate_batch
from welfare_rules.errors import EvaluationError

from .compare import CHECKS, differences
from .gen import population

AS_OF = datetime.date(2024, 7, 1)
#: the rules of the batch benchmark (benchmarks/bench_batch.py)
BENCH = ["poor_bps", "pkh_eligible", "deceased_recipient"]


def _pop(seed: int = 7, missing: float = 0.05) -> tuple[pa.Table, pa.Table]:
    return population(seed, 300, missing, AS_OF)


def _full(engine: wr.Engine, backend: str, seed: int = 7, missing: float = 0.05) -> Any:
    hh, pp = _pop(seed, missing)
    return evaluate_batch(engine, "household", hh, members=pp, as_of=AS_OF, settle=False,
                          backend=backend,
                          validate=False, dataset_checks=CHECKS)


def test_outputs_give_the_key_carried_columns_then_each_rule_and_status(
        national: wr.Engine) -> None:
    """A rule named gives its value and status, in rule order whatever the order asked;
    ``<rule>__status`` alone gives the status alone."""
    hh, pp = _pop()
    res = evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, settle=False,
                         validate=False,
                         outputs=["pkh_eligible", "poor_bps", "member_count__status"],
                         dataset_checks=False)
    tbl = res.to_arrow()
    assert tbl.column_names == ["id", "kecamatan", "kelurahan", "member_count__status",
                                "pkh_eligible", "pkh_eligible__status", "poor_bps",
                                "poor_bps__status"]
    assert res.rule_ids == ["member_count", "pkh_eligible", "poor_bps"]
    assert tbl.schema.field("pkh_eligible__status").type == pa.dictionary(pa.int8(),
                                                                         pa.string())


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_selection_equals_the_same_columns_of_the_whole_pack(national: wr.Engine,
                                                               engine_name: str) -> None:
    """The selected columns hold what the whole pack gives for them (DuckDB compiles only
    the rules they need; Python computes all and drops the rest); member results and
    findings are those of the whole pack."""
    full = _full(national, "python")
    hh, pp = _pop()
    got = evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, settle=False,
                         backend=engine_name, validate=False, dataset_checks=CHECKS,
                         outputs=BENCH)
    ref = full.to_arrow()
    ordered = [r for r in national.visible_rule_ids("household") if r in BENCH]
    want = ["id", "kecamatan", "kelurahan", *[c for r in ordered for c in (r, r + "__status")]]
    assert got.to_arrow().column_names == want
    assert differences(ref.select(want), got.to_arrow(), "households") == []
    assert differences(full.member_results, got.member_results, "members") == []
    assert differences(full.findings, got.findings, "findings") == []


@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), missing=st.sampled_from([0.0, 0.3]),
       k=st.integers(1, 6), data=st.data())
def test_any_selection_agrees_with_the_reference(national: wr.Engine, seed: int,
                                                 missing: float, k: int,
                                                 data: st.DataObject) -> None:
    """For any handful of rules, DuckDB's pruned query gives the Python reference's values,
    statuses and Arrow types for them."""
    visible = national.visible_rule_ids("household")
    picked = data.draw(st.lists(st.sampled_from(visible), min_size=1, max_size=k,
                                unique=True))
    hh, pp = _pop(seed, missing)
    ref = evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, settle=False,
                         backend="python", validate=False, dataset_checks=False).to_arrow()
    got = evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, settle=False,
                         validate=False, dataset_checks=False, outputs=picked).to_arrow()
    names = got.column_names
    assert names[:3] == ["id", "kecamatan", "kelurahan"]
    assert sorted(names[3:]) == sorted(c for r in picked for c in (r, r + "__status"))
    assert differences(ref.select(names), got, "households") == []


def test_unknown_outputs_are_a_clear_error(national: wr.Engine) -> None:
    hh, pp = _pop()
    with pytest.raises(EvaluationError, match=r"'pkh_eligble' is not a rule of household.*"
                                              r"pkh_eligible"):
        evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, settle=False,
                         validate=False,
                       outputs=["pkh_eligble"])
    with pytest.raises(EvaluationError, match="give a list of rule ids"):
        evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, settle=False,
                         validate=False,
                       outputs="pkh_eligible")  # type: ignore[arg-type]


def test_a_selection_compiles_only_the_rules_it_needs(national: wr.Engine) -> None:
    """``pkh_eligible`` needs the PKH member components and ranks, not the NIK decoding nor
    the poverty criteria."""
    comp = DuckDBCompiler(national.plan(AS_OF))
    need = comp.needed("household", ["pkh_eligible"])
    assert {"pkh_eligible", "pkh_has_component", "pkh_component"} <= need
    assert "poor_bps" not in need
    assert "bps_01_floor_area" not in need
    assert not any(r.startswith("nik_") for r in need)
    q = comp.compile_entity("household", "h", ["id"], "m", ["nik", "household_id"],
                            outputs=["pkh_eligible"])
    sql = comp.sql(q.with_ctes(q.result))
    assert '"pkh_eligible"' in sql
    assert '"poor_bps"' not in sql
    assert "nik_format" not in sql
    assert q.members is None
    assert q.findings is None


def test_columns_already_in_their_type_are_not_cast(national: wr.Engine) -> None:
    """Known source types: a column of its declared type is read as is, another is cast, and
    the parent key keeps the type of the household key (no text copy)."""
    comp = DuckDBCompiler(national.plan(AS_OF))
    q = comp.compile_entity("household", "h", {"id": "VARCHAR", "desil": "INTEGER"}, "m",
                            {"nik": "VARCHAR", "household_id": "VARCHAR"},
                            outputs=["pkh_eligible"])
    p0, h0 = dict(q.ctes)["p0"], dict(q.ctes)["h0"]
    p0_sql, h0_sql = comp.sql(p0), comp.sql(h0)
    assert 'CAST("nik"' not in p0_sql
    assert 'CAST("household_id"' not in p0_sql
    assert '"household_id" AS "__parent"' in p0_sql
    assert 'CAST("id"' not in h0_sql
    assert 'CAST("desil" AS BIGINT)' in h0_sql
    assert same_type("string", sql_type(national.schema.entity("person")
                                        .fields["nik"].type))  # type: ignore[arg-type]


@pytest.mark.spark
def test_spark_selection_equals_duckdb(national: wr.Engine, spark: Any) -> None:
    """Spark compiles the same pruned plan: the selected columns equal DuckDB's, and its
    member results (from the whole pack, evaluated when asked for) too."""
    hh, pp = _pop(11, 0.05)
    kw: dict[str, Any] = {"as_of": AS_OF, "settle": False, "validate": False,
                          "dataset_checks": False, "outputs": BENCH}
    ref = evaluate_batch(national, "household", hh, members=pp, **kw)
    got = evaluate_batch(national, "household", hh, members=pp, backend="spark", spark=spark,
                         **kw)
    assert differences(ref.to_arrow(), got.to_arrow(), "households") == []
    assert differences(ref.member_results, got.member_results, "members") == []
    got.close()
