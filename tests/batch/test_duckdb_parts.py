"""DuckDB evaluates an input larger than its memory limit allows in parts, by ranges of the
record key (``welfare_rules.backends.duckdb.in_parts``): the parts together give exactly the
result of one query, and the Python reference's."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import welfare_rules as wr
import welfare_rules.backends.duckdb as duck
from welfare_rules.batch import evaluate_batch

from .compare import differences
from .gen import population

AS_OF = datetime.date(2024, 7, 1)


def _run(engine: wr.Engine, hh: Any, pp: Any, backend: str = "duckdb", **kw: Any) -> pa.Table:
    res = evaluate_batch(engine, "household", hh, members=pp, as_of=AS_OF, backend=backend,
                         validate=False, dataset_checks=False, settle=False, **kw)
    return res.to_arrow()


def _odd(hh: pa.Table, pp: pa.Table) -> tuple[pa.Table, pa.Table]:
    """A household without a key and members of a household not in the input, so the parts
    must still cover every record once."""
    ids = hh.column("id").to_pylist()
    ids[3] = None
    hh = hh.set_column(hh.column_names.index("id"), "id", pa.array(ids, pa.string()))
    par = pp.column("household_id").to_pylist()
    par[0] = "9999999999999999"
    pp = pp.set_column(pp.column_names.index("household_id"), "household_id",
                       pa.array(par, pa.string()))
    return hh, pp


@pytest.fixture
def parts_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every household table evaluated in parts of a few dozen members (the parts counted)."""
    seen: list[int] = []
    real = duck.in_parts
    monkeypatch.setattr(duck, "MEMBERS_PER_GIB", 40)

    def spy(con: Any, comp: Any, q: Any, result: Any, key: str, parts: int) -> str:
        seen.append(parts)
        return real(con, comp, q, result, key, parts)
    monkeypatch.setattr(duck, "in_parts", spy)
    return seen


@settings(max_examples=4, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), missing=st.sampled_from([0.0, 0.1, 0.3]))
def test_parts_equal_one_query_and_python(national: wr.Engine, parts_seen: list[int],
                                          seed: int, missing: float) -> None:
    """Every national rule (ranks, member aggregations) in parts, inputs in no key order: the
    same values, statuses, types and row order as one query, and as the Python reference."""
    hh, pp = _odd(*population(seed, 120, missing, AS_OF))
    # records and members in no key order: a part takes rows from all over the input
    order = random.Random(seed).sample(range(hh.num_rows), hh.num_rows)
    hh = hh.take(order)
    pp = pp.take(random.Random(seed + 1).sample(range(pp.num_rows), pp.num_rows))
    got = _run(national, hh, pp)
    assert max(parts_seen, default=0) > 1
    whole = _run(national, hh, pp, memory_limit="64GB")  # one part
    assert got.equals(whole)
    ref = _run(national, hh, pp, backend="python")
    assert not differences(ref, got, "households")


def test_parts_from_parquet_with_a_selection_stream_to_parquet(
        national: wr.Engine, parts_seen: list[int], tmp_path: Path) -> None:
    """Parquet inputs, ``outputs=`` and ``output=`` (the benchmark's way) in parts: the file
    holds what one query writes, in input order."""
    hh, pp = _odd(*population(11, 150, 0.05, AS_OF))
    pq.write_table(hh, tmp_path / "h.parquet")
    pq.write_table(pp, tmp_path / "p.parquet")
    sel = ["poor_bps", "pkh_eligible", "deceased_recipient"]
    _run(national, tmp_path / "h.parquet", tmp_path / "p.parquet", outputs=sel,
         output=tmp_path / "parts.parquet")
    assert max(parts_seen, default=0) > 1
    _run(national, tmp_path / "h.parquet", tmp_path / "p.parquet", outputs=sel,
         output=tmp_path / "one.parquet", memory_limit="64GB")
    got, one = pq.read_table(tmp_path / "parts.parquet"), pq.read_table(tmp_path / "one.parquet")
    assert got.equals(one)
    assert got.column("id").equals(hh.column("id"))


def test_parts_for_follows_the_memory_limit() -> None:
    import duckdb

    tbl = pa.table({"x": list(range(10))})
    for limit, want in (("1GB", 1), ("64GB", 1)):
        con = duckdb.connect(config={"memory_limit": limit})
        assert duck.parts_for(con, tbl) == want
    con = duckdb.connect(config={"memory_limit": "1GB"})
    big = pa.table({"x": pa.array([0] * (duck.MEMBERS_PER_GIB + 1), pa.int8())})
    assert duck.parts_for(con, big) == 2  # 1 GB is 0.93 GiB: 1.07 parts' worth
    assert duck.parts_for(con, object()) == 1  # rows not known: one query


def test_parts_run_without_duckdbs_own_window_split(national: wr.Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part is computed with DuckDB's splitting of large windows into key ranges off
    (a part is one key range already; the split scanned the members once per range), and the
    results query's optimizer settings are back afterwards."""
    import duckdb

    if "partitioned_execution" not in {r[0] for r in duckdb.sql(
            "SELECT name FROM duckdb_optimizers()").fetchall()}:
        pytest.skip("this DuckDB does not split windows (nothing to turn off)")
    monkeypatch.setattr(duck, "MEMBERS_PER_GIB", 40)
    during: list[str] = []
    after: list[str] = []
    real = duck.in_parts

    def setting(con: Any) -> str:
        return str(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])

    class Watched:
        """The connection, noting the disabled optimizers when a part is written."""

        def __init__(self, con: Any) -> None:
            self.con = con

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.lstrip().upper().startswith(("CREATE", "INSERT")):
                during.append(setting(self.con))
            return self.con.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.con, name)

    def spy(con: Any, comp: Any, q: Any, result: Any, key: str, parts: int) -> str:
        out = real(Watched(con), comp, q, result, key, parts)
        after.append(setting(con))
        return out
    monkeypatch.setattr(duck, "in_parts", spy)
    hh, pp = population(5, 120, 0.1, AS_OF)
    got = _run(national, hh, pp, outputs=["pkh_eligible"])
    assert len(during) > 1
    assert all("partitioned_execution" in s for s in during), during
    assert after == ["build_side_probe_side"]
    assert got.equals(_run(national, hh, pp, outputs=["pkh_eligible"], memory_limit="64GB"))
