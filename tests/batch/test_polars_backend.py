"""The Polars backend beyond the differential suite: optional import, native frames, the
result schema, the regex dialect on Rust's engine and its refusals.

Results are compared three-valued (``settle=False``) where settling is not what is tested: it is
the same Python pass after every backend (``tests/explain/test_batch_settling.py``), and over
these generated populations it costs seconds a batch."""

from __future__ import annotations

import datetime
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

import welfare_rules as wr
from welfare_rules.backends.base import STATUS_TYPE
from welfare_rules.batch import evaluate_batch

from .compare import differences
from .gen import population

AS_OF = datetime.date(2025, 6, 1)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_loading_the_engine_does_not_import_polars() -> None:
    out = _python("""
        import sys
        import welfare_rules as wr
        eng = wr.Engine.load()
        assert "polars" in eng.backends
        print("polars" in sys.modules)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_without_polars_the_backend_is_one_error_naming_the_pip_line() -> None:
    out = _python("""
        import sys
        sys.modules["polars"] = None  # as if it were not installed
        import pyarrow as pa
        import welfare_rules as wr
        from welfare_rules.errors import EvaluationError
        eng = wr.Engine.load()
        try:
            persons = pa.table({"nik": pa.array([], pa.string()),
                                "household_id": pa.array([], pa.string())})
            eng.evaluate_batch("household", pa.table({"id": ["3375010101010001"]}),
                               members=persons, as_of="2025-01-01", backend="polars",
                               validate=False)
        except EvaluationError as exc:
            print(exc)
    """)
    assert out.returncode == 0, out.stderr
    assert "backend 'polars' needs the polars package: pip install 'welfare-rules[polars]'" \
        in out.stdout


def test_polars_frames_are_taken_as_they_are(national: wr.Engine) -> None:
    hh, pp = population(7, 120, 0.05, AS_OF)
    ref = evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF, backend="python",
                         validate=False, settle=False)
    for frame in (pl.from_arrow, lambda t: pl.from_arrow(t).lazy()):
        got = evaluate_batch(national, "household", frame(hh), members=frame(pp), as_of=AS_OF,
                             backend="polars", validate=False, settle=False)
        diffs = differences(ref.to_arrow(), got.to_arrow(), "households")
        diffs += differences(ref.member_results, got.member_results, "members")
        assert not diffs, "\n".join(diffs)


def test_the_result_schema_is_the_one_of_every_backend(national: wr.Engine) -> None:
    hh, pp = population(3, 60, 0.1, AS_OF)
    schemas = {}
    for backend in ("duckdb", "polars"):
        res = evaluate_batch(national, "household", hh, members=pp, as_of=AS_OF,
                             backend=backend, validate=False, settle=False)
        schemas[backend] = (res.to_arrow().schema, res.member_results.schema)
        assert res.to_arrow().schema.field("poor_bps__status").type == STATUS_TYPE
        assert res.to_arrow().schema.field("poor_bps_criteria_met").type == pa.int64()
    assert schemas["duckdb"] == schemas["polars"]


def test_the_input_order_is_kept_without_sorting(national: wr.Engine) -> None:
    hh, pp = population(11, 200, 0.0, AS_OF)
    shuffled = hh.take(pa.array(list(range(199, -1, -2)) + list(range(0, 200, 2))))
    res = evaluate_batch(national, "household", shuffled, members=pp, as_of=AS_OF,
                         backend="polars", validate=False, settle=False)
    assert res.to_arrow().column("id").to_pylist() == shuffled.column("id").to_pylist()


def test_the_cli_evaluates_with_polars_as_with_duckdb(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from welfare_rules.cli import main

    examples = Path(wr.__file__).parent / "national" / "examples"
    outs = {}
    for backend in ("duckdb", "polars"):
        out = tmp_path / backend
        res = CliRunner().invoke(main, ["evaluate", str(examples / "households.csv"),
                                        "--members", str(examples / "persons.csv"),
                                        "--backend", backend, "--as-of", "2025-06-01",
                                        "--out", str(out), "-q"])
        assert res.exit_code == 0, res.output
        outs[backend] = {p.name: p.read_bytes() for p in sorted(out.iterdir())
                         if p.suffix == ".csv"}
    assert outs["polars"].keys() == outs["duckdb"].keys()
    assert outs["polars"] == outs["duckdb"]


#: the rules of the batch benchmark (benchmarks/bench_batch.py)
BENCH = ["poor_bps", "pkh_eligible", "deceased_recipient"]


def test_a_selection_compiles_only_the_rules_it_needs(national: wr.Engine) -> None:
    """``pkh_eligible`` needs the PKH member components and ranks, not the NIK decoding nor
    the poverty criteria: they are not in the compiled frames at all (not merely dropped by
    the final select), and the selection has no member or findings part."""
    from welfare_rules.backends.polars_compiler import PolarsCompiler

    plan = national.plan(AS_OF)
    hh = pl.LazyFrame({"__row": [0], "id": ["3375010101010001"]})
    pp = pl.LazyFrame({"__row": [0], "nik": ["3375010101900001"],
                       "household_id": ["3375010101010001"]})
    comp = PolarsCompiler(plan)
    ef = comp.compile_entity("household", hh, ["__row", "id"], pp,
                             ["__row", "nik", "household_id"], outputs=["pkh_eligible"])
    names = ef.records.collect_schema().names()
    assert "pkh_eligible" in names
    assert "poor_bps" not in names
    assert "bps_01_floor_area" not in names
    assert not any(c.startswith("nik_") for c in names)
    assert ef.rule_ids == ["pkh_eligible"]
    assert ef.members is None
    assert ef.findings == []
    whole = comp.compile_entity("household", hh, ["__row", "id"], pp,
                                ["__row", "nik", "household_id"])
    assert "poor_bps" in whole.records.collect_schema().names()


def test_a_selection_equals_the_same_columns_of_the_whole_pack(national: wr.Engine) -> None:
    """The selected columns hold what the Python reference gives for them; member results and
    findings are those of the whole pack."""
    from .compare import CHECKS

    hh, pp = population(7, 300, 0.05, AS_OF)
    kw: dict[str, Any] = {"members": pp, "as_of": AS_OF, "settle": False, "validate": False,
                          "dataset_checks": CHECKS}
    full = evaluate_batch(national, "household", hh, backend="python", **kw)
    got = evaluate_batch(national, "household", hh, backend="polars", outputs=BENCH, **kw)
    ordered = [r for r in national.visible_rule_ids("household") if r in BENCH]
    want = ["id", "kecamatan", "kelurahan", *[c for r in ordered for c in (r, r + "__status")]]
    assert got.to_arrow().column_names == want
    assert differences(full.to_arrow().select(want), got.to_arrow(), "households") == []
    assert differences(full.member_results, got.member_results, "members") == []
    assert differences(full.findings, got.findings, "findings") == []


def test_output_streams_the_results_to_parquet(national: wr.Engine, tmp_path: Path) -> None:
    """``output=`` writes the file through ``sink_parquet``: the statuses as text, read back
    as the results the in-memory run gives, selection or not."""
    import pyarrow.parquet as pq

    hh, pp = population(5, 200, 0.1, AS_OF)
    for outputs in (BENCH, None):
        kw: dict[str, Any] = {"members": pp, "as_of": AS_OF, "settle": False,
                              "validate": False, "dataset_checks": False, "outputs": outputs}
        mem = evaluate_batch(national, "household", hh, backend="polars", **kw).to_arrow()
        out = tmp_path / "results.parquet"
        res = evaluate_batch(national, "household", hh, backend="polars", output=out, **kw)
        assert res.results_path == out
        written = pq.read_table(out)
        assert written.num_rows == hh.num_rows
        assert written.column("poor_bps__status").to_pylist() == \
            mem.column("poor_bps__status").to_pylist()
        assert differences(mem, res.to_arrow(), "households") == []
        out.unlink()


def test_threads_it_cannot_give_are_refused(national: wr.Engine) -> None:
    """Polars' thread pool is sized once per process: a job asking for another size is a
    clear error, the pool's own size is accepted."""
    import pytest

    from welfare_rules.errors import EvaluationError

    hh, pp = population(5, 20, 0.0, AS_OF)
    kw: dict[str, Any] = {"members": pp, "as_of": AS_OF, "settle": False, "validate": False,
                          "dataset_checks": False, "backend": "polars"}
    other = pl.thread_pool_size() + 1
    with pytest.raises(EvaluationError, match=f"POLARS_MAX_THREADS={other}"):
        evaluate_batch(national, "household", hh, threads=other, **kw)
    res = evaluate_batch(national, "household", hh, threads=pl.thread_pool_size(), **kw)
    assert res.to_arrow().num_rows == 20
