"""One result schema per entity, derived from the declared rule types, from every backend."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import welfare_rules as wr
from welfare_rules import types as t
from welfare_rules.backends.base import (
    STATUS_TYPE,
    STATUS_VALUES,
    arrow_type,
    conform,
    result_fields,
)
from welfare_rules.batch import evaluate_batch
from welfare_rules.errors import EvaluationError

from .compare import schema_differences

EXAMPLES = Path(wr.__file__).parent / "national" / "examples"
AS_OF = datetime.date(2024, 1, 1)


@pytest.fixture(scope="module")
def loaded(national: wr.Engine) -> Any:
    return national.read(EXAMPLES / "households.csv", members=EXAMPLES / "persons.csv")


def test_arrow_types_follow_the_declared_rule_types() -> None:
    assert arrow_type(t.INT) == pa.int64()
    assert arrow_type(t.BOOL) == pa.bool_()
    assert arrow_type(t.DATE) == pa.date32()
    assert arrow_type(t.DECIMAL) == pa.float64()
    assert arrow_type(t.enum(("a", "b"))) == pa.string()
    assert arrow_type(t.list_of(t.INT)) == pa.list_(pa.int64())
    rec = t.record_of((("a", t.STR), ("b", t.INT)))
    assert arrow_type(t.list_of(rec)) == pa.list_(pa.struct([("a", pa.string()),
                                                             ("b", pa.int64())]))
    assert arrow_type(t.ANY) is None
    assert arrow_type(t.record_of((("a", t.ANY),))) is None


def test_counts_and_scores_are_int64_and_statuses_dictionaries_on_every_backend(
        national: wr.Engine, loaded: Any) -> None:
    """member_count and priority_score were decimal128(38,0) from DuckDB and int64 from
    Python; bpnt_benefit_month int32 and int64: now each column has one type everywhere."""
    schemas = {}
    for backend in ("python", "duckdb"):
        res = evaluate_batch(national, "household", loaded, as_of=AS_OF, backend=backend)
        schema = res.to_arrow().schema
        for rid in ("member_count", "priority_score", "bpnt_benefit_month",
                    "exclusion_flags", "poor_bps_criteria_met"):
            assert schema.field(rid).type == pa.int64(), (backend, rid)
        assert schema.field("pkh_eligible").type == pa.bool_()
        assert schema.field("pkh_eligible__status").type == STATUS_TYPE
        assert res.member_results is not None
        assert res.member_results.schema.field("age").type == pa.int64()
        expected = result_fields(national.plan(AS_OF), "household", res.rule_ids, "id",
                                 ["kecamatan", "kelurahan"])
        assert [f.name for f in schema] == [name for name, _ in expected]
        for name, ty in expected:
            if ty is not None:
                assert str(schema.field(name).type) == str(ty), (backend, name)
        schemas[backend] = (schema, res.member_results.schema)
    assert schema_differences(schemas["python"][0], schemas["duckdb"][0], "results") == []
    assert schema_differences(schemas["python"][1], schemas["duckdb"][1], "members") == []


def test_a_streamed_parquet_result_reads_back_in_the_same_schema(national: wr.Engine,
                                                                  loaded: Any,
                                                                  tmp_path: Path) -> None:
    ref = evaluate_batch(national, "household", loaded, as_of=AS_OF).to_arrow()
    streamed = evaluate_batch(national, "household", loaded, as_of=AS_OF,
                              output=tmp_path / "r.parquet").to_arrow()
    assert schema_differences(ref.schema, streamed.schema, "streamed") == []
    assert streamed.column("pkh_eligible__status").to_pylist() == \
        ref.column("pkh_eligible__status").to_pylist()


@pytest.mark.parametrize("settle", [False, True])
@pytest.mark.parametrize("name", ["python", "duckdb", "polars"])
def test_output_writes_the_shared_schema_on_every_backend(national: wr.Engine, loaded: Any,
                                                          tmp_path: Path, name: str,
                                                          settle: bool) -> None:
    """review 3 F4: the Python backend wrote no file (unless settling changed something);
    DuckDB wrote the statuses as text, Polars as dictionary<uint8, ordered>."""
    outputs = ["pkh_eligible", "member_count", "exclusion_flags"]
    ref = evaluate_batch(national, "household", loaded, as_of=AS_OF, backend="python",
                         settle=False, outputs=outputs).to_arrow()
    out = tmp_path / f"{name}_{settle}.parquet"
    res = evaluate_batch(national, "household", loaded, as_of=AS_OF, backend=name,
                         settle=settle, outputs=outputs, output=out)
    import pyarrow.parquet as pq

    written = pq.read_table(out)
    assert written.schema.field("pkh_eligible__status").type == STATUS_TYPE
    assert schema_differences(ref.schema, written.schema, "written") == []
    assert written.equals(res.to_arrow())


def test_to_pandas_has_no_object_columns_and_keeps_integers_with_gaps(national: wr.Engine,
                                                                      loaded: Any) -> None:
    import pandas as pd

    for backend in ("python", "duckdb"):
        res = evaluate_batch(national, "household", loaded, as_of=AS_OF, backend=backend)
        df = res.to_pandas()
        assert not [c for c in df.columns if df[c].dtype == object], backend
        assert df["member_count"].dtype == pd.Int64Dtype()
        assert df["pkh_eligible"].dtype == pd.BooleanDtype()
        assert isinstance(df["pkh_eligible__status"].dtype, pd.CategoricalDtype)
        tbl = res.to_arrow()
        gaps = [f.name for f in tbl.schema if f.type == pa.int64()
                and tbl.column(f.name).null_count > 0]
        assert gaps, "the examples have integer rules with unknown values"
        for name in gaps:
            assert df[name].dtype == pd.Int64Dtype()
            assert df[name].isna().sum() == tbl.column(name).null_count


def test_conform_refuses_what_the_type_cannot_hold() -> None:
    fields = [("n", pa.int64()), ("n__status", STATUS_TYPE)]
    good = conform(pa.table({"n": pa.array([1.0, None]), "n__status": ["value", None]}),
                   fields)
    assert good.schema.field("n").type == pa.int64()
    assert good.column("n__status").to_pylist() == ["value", None]
    assert good.column("n__status").chunk(0).dictionary.to_pylist() == list(STATUS_VALUES)
    with pytest.raises(EvaluationError, match="result column 'n' is double"):
        conform(pa.table({"n": [2.5]}), fields)
    with pytest.raises(EvaluationError, match="status 'maybe' is none of"):
        conform(pa.table({"n__status": ["true", "maybe"]}), fields)
