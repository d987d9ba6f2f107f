"""One part of a DuckDB result computed in parts, alone: with and without DuckDB's own window
splitting (``partitioned_execution``), alternately, CPU medians.

The DuckDB backend computes a large input in parts, by ranges of the household key
(``backends/duckdb.py`` ``in_parts``); each part is the compiled query of the three benchmark
rules restricted to one range (``sqlrun.key_range_select``). This script times one such part
of the ``bench_batch.py`` data (``benchmarks/generate.py``; households ``lo`` ≤ id < ``hi``),
written into a temporary table as ``in_parts`` does, under ``memory_limit="1GB"``.

    .venv/bin/python benchmarks/bench_duckdb_part.py benchmarks/data/batch-10000000 \\
        3375000001000000 3375000002000000 --repeat 2
"""

from __future__ import annotations

import argparse
import datetime
import resource
import statistics
from pathlib import Path

import duckdb
from sqlglot import exp

import welfare_rules as wr
from welfare_rules.backends.duckdb import DuckDBCompiler, register_input
from welfare_rules.backends.sqlrun import carry_select, compile_query, key_range_select

RULES = ["poor_bps", "pkh_eligible", "deceased_recipient"]
SETTINGS = {  # constant texts, as the backend's
    "with the split": "SET disabled_optimizers = 'build_side_probe_side'",
    "without": "SET disabled_optimizers = 'build_side_probe_side,partitioned_execution'",
}


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one(data: Path, lo: str, hi: str, setting: str) -> float:
    """CPU seconds of the part ``[lo, hi)`` on a fresh connection."""
    plan = wr.Engine.load().plan(datetime.date(2024, 7, 1))
    con = duckdb.connect(config={"memory_limit": "1GB", "preserve_insertion_order": False})
    cols = register_input(con, "src_entity", data / "households.parquet")
    mcols = register_input(con, "src_members", data / "persons.parquet")
    comp = DuckDBCompiler(plan)
    q = compile_query(comp, "household", cols, mcols, RULES)
    part = key_range_select(q, carry_select(q, []), "id", comp.literal(lo), comp.literal(hi))
    con.execute(setting)
    sql = comp.sql(exp.Create(this=exp.to_table("part"), kind="TABLE", expression=part,
                              properties=exp.Properties(expressions=[exp.TemporaryProperty()])))
    c0 = cpu_s()
    con.execute(sql)
    spent = cpu_s() - c0
    con.close()
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("lo")
    ap.add_argument("hi")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in SETTINGS}
    for _ in range(args.repeat):
        for kind, setting in SETTINGS.items():
            times[kind].append(one(args.data, args.lo, args.hi, setting))
            print(f"{kind:<15} cpu {times[kind][-1]:6.2f} s", flush=True)
    meds = {k: statistics.median(v) for k, v in times.items()}
    print(f"median with the split {meds['with the split']:.2f} s, without "
          f"{meds['without']:.2f} s: {meds['without'] / meds['with the split']:.2f}x")


if __name__ == "__main__":
    main()
