"""DuckDB evaluates an input larger than its memory limit allows in parts, by ranges of the
record key (``welfare_rules.backends.duckdb.in_parts``): the parts together give exactly the
result of one query, and the Python reference's."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
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
    """Every household table evaluated in parts of about 75 members (the parts counted): four
    or five parts of the generated populations, each part a query of its own inside the one
    (nine parts of 40 members took twice as long)."""
    seen: list[int] = []
    real = duck.in_parts
    monkeypatch.setattr(duck, "MEMBERS_PER_GIB", 80)

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

    with duckdb.connect() as con:  # its own, not the module's shared default connection
        optimizers = {r[0] for r in con.sql("SELECT name FROM duckdb_optimizers()").fetchall()}
    if "partitioned_execution" not in optimizers:
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


def _in_row_groups(hh: pa.Table, path: Path, rows: int, seed: int) -> None:
    """``hh`` in key order, written in row groups of ``rows`` records, each row group's
    records in no key order (the statistics then prove the row groups' key ranges, not the
    rows' order within them)."""
    hh = hh.sort_by("id")
    rng = random.Random(seed)
    order: list[int] = []
    for start in range(0, hh.num_rows, rows):
        block = list(range(start, min(start + rows, hh.num_rows)))
        rng.shuffle(block)
        order += block
    pq.write_table(hh.take(order), path, row_group_size=rows)


def test_parts_on_row_groups_are_one_query_in_input_order(
        national: wr.Engine, parts_seen: list[int], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Parquet file of households whose row groups are in key order is cut on row-group
    boundaries: every part is written sorted, one after the other, with no table of the
    parts and no sort of the whole (``in_parts`` is not called); the rows, values, statuses
    and types are those of one query — streamed to Parquet and fetched — and of the Python
    reference, in input order (the rows within a row group in no key order)."""
    hh, pp = population(23, 150, 0.05, AS_OF)
    # NaN as missing, as evaluate_batch reads an Arrow table (DuckDB scanning the file
    # would keep a NaN: held to the reference, which reads the tables, the inputs agree)
    floats = [i for i, f in enumerate(hh.schema) if pa.types.is_floating(f.type)]
    for i in floats:
        c = hh.column(i)
        hh = hh.set_column(i, hh.field(i), pc.if_else(pc.is_nan(c), None, c))
    _in_row_groups(hh, tmp_path / "h.parquet", 9, 23)
    pq.write_table(pp.take(random.Random(3).sample(range(pp.num_rows), pp.num_rows)),
                   tmp_path / "p.parquet", row_group_size=50)
    cut: list[list[Any]] = []
    real = duck.row_group_cuts

    def spy(*a: Any) -> list[Any] | None:
        cuts = real(*a)
        cut.append(cuts or [])
        return cuts
    monkeypatch.setattr(duck, "row_group_cuts", spy)
    h, p = tmp_path / "h.parquet", tmp_path / "p.parquet"
    sel = ["poor_bps", "pkh_eligible", "deceased_recipient"]
    _run(national, h, p, outputs=sel, output=tmp_path / "parts.parquet")
    got = _run(national, h, p)
    assert len(cut) == 2
    assert all(len(c) > 1 for c in cut), cut
    assert parts_seen == []  # no part went through the table of parts
    _run(national, h, p, outputs=sel, output=tmp_path / "one.parquet", memory_limit="64GB")
    one = pq.read_table(tmp_path / "one.parquet")
    assert pq.read_table(tmp_path / "parts.parquet").equals(one)
    assert one.column("id").equals(pq.read_table(h).column("id"))
    assert got.equals(_run(national, h, p, memory_limit="64GB"))
    ref = _run(national, pq.read_table(h), pq.read_table(p), backend="python")  # no ingestion
    assert not differences(ref, got, "households")


def test_row_group_cuts_only_where_the_statistics_prove_them(
        national: wr.Engine, tmp_path: Path) -> None:
    """Cuts on whole row groups of about equal size where each row group's keys are above
    the previous one's; none for row groups whose keys overlap or go down, a missing key,
    a file with its own ``__row``, or fewer row groups than parts."""
    from welfare_rules.backends.sqlrun import compile_query

    hh, pp = population(2, 40, 0.0, AS_OF)
    hh = hh.sort_by("id")
    q = compile_query(duck.DuckDBCompiler(national.plan(AS_OF)), "household",
                      dict.fromkeys(hh.column_names, "VARCHAR"), list(pp.column_names))

    def cuts(tbl: pa.Table, parts: int, rows: int = 5) -> list[Any] | None:
        path = tmp_path / "h.parquet"
        pq.write_table(tbl, path, row_group_size=rows)
        return duck.row_group_cuts(path, q, "id", parts)

    ids = hh.column("id").to_pylist()
    assert cuts(hh, 4) == [ids[10], ids[20], ids[30]]  # 8 row groups of 5, 2 a part
    assert cuts(hh, 3) == [ids[15], ids[25]]  # row groups nearest a third and two thirds
    assert cuts(hh, 9) is None  # 8 row groups for 9 parts
    assert cuts(hh.take(list(range(39, -1, -1))), 2) is None  # keys going down
    swapped = list(range(40))
    swapped[4], swapped[5] = 5, 4  # row groups 0 and 1 overlap
    assert cuts(hh.take(swapped), 2) is None
    nulls = hh.set_column(0, "id", pa.array([*ids[:39], None], pa.string()))
    assert cuts(nulls, 2) is None
    own = hh.append_column("__row", pa.array(range(40), pa.int64()))
    assert cuts(own, 2) is None
    assert duck.row_group_cuts(hh, q, "id", 2) is None  # an Arrow table: no statistics
