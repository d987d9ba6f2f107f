"""Impact cost: ``wr.impact`` vs the two batch evaluations it replaces.

The reference is what a planner would otherwise run: ``evaluate_batch`` of the national pack,
then of the same pack with a reform (PKH up to decile 6, BPNT Rp250,000 a month), both over
the same Parquet files (``benchmarks/generate.py``, cached under ``benchmarks/data/``) with
``validate=False`` and the results fetched as Arrow tables. ``impact`` does the same two
evaluations (one DuckDB query over the input registered once) and computes its totals. Every
measurement runs in its own process; the runs alternate and the medians are printed (CPU and
wall time).

    python benchmarks/bench_impact.py                          # 1M households, 3 rounds
    python benchmarks/bench_impact.py --sizes 100000 --repeat 5

The target (docs/performance.md): impact ≤ 1.2x the two batch evaluations.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_batch import cpu_s, measure  # the same child-process measurement

HERE = Path(__file__).parent
AS_OF = datetime.date(2025, 7, 1)
REFORM = """\
title: {id: PKH sampai desil 6, BPNT Rp250.000, en: PKH up to decile 6, BPNT Rp250,000}
reference: benchmark
parameters:
  pkh.max_desil: 6
  bpnt.amount_month: 250000
"""


def run_one(kind: str, data: Path, n: int, memory_limit: str) -> dict[str, object]:
    """One measurement in this process (called in a child process)."""
    import sqlglot

    import welfare_rules as wr
    import welfare_rules.backends.duckdb
    import welfare_rules.batch
    import welfare_rules.impact  # imported before the clock, like the rest

    sqlglot.Dialect.get_or_raise("duckdb")
    reform_file = Path(tempfile.mkdtemp()) / "reform.yaml"
    reform_file.write_text(REFORM, encoding="utf-8")
    base = wr.Engine.load()
    reform = wr.Engine.load(reform=reform_file)
    hp, pp = data / "households.parquet", data / "persons.parquet"
    t0, c0 = time.perf_counter(), cpu_s()
    if kind == "two-batches":
        rows = 0
        for eng in (base, reform):
            res = eng.evaluate_batch("household", hp, members=pp, as_of=AS_OF,
                                     backend="duckdb", validate=False, dataset_checks=False,
                                     memory_limit=memory_limit, settle=False)
            rows += res.to_arrow().num_rows
            res.close()
            del res
    else:
        # three-valued on both sides (settle=False): the one paired DuckDB query against two
        # batches, as measured before settling became the default
        out = wr.impact(base, reform, hp, members=pp, as_of=AS_OF, validate=False,
                        memory_limit=memory_limit, settle=False)
        rows = out.totals.num_rows
    wall = time.perf_counter() - t0
    cpu = cpu_s() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "n": n, "rows": rows, "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "households_per_s": round(n / wall),
            "peak_rss_mib": round(peak)}


def row(n: int, kind: str, r: dict[str, float], ref: dict[str, float] | None) -> None:
    ratio = f"{r['wall_s'] / ref['wall_s']:.2f}" if ref else ""
    cratio = f"{r['cpu_s'] / ref['cpu_s']:.2f}" if ref else ""
    print(f"{n:>10} {kind:<19} {r['wall_s']:>8.2f} {ratio:>6} {r['cpu_s']:>8.2f} {cratio:>9} "
          f"{round(r['peak_rss_mib']):>9}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, data, n = args.child
        print(json.dumps(run_one(kind, Path(data), int(n), args.memory_limit)))
        return
    print(f"{'N':>10} {'run':<19} {'wall s':>8} {'ratio':>6} {'cpu s':>8} {'cpu ratio':>9} "
          f"{'peak MiB':>9}")
    for n in args.sizes:
        data = HERE / "data" / f"batch-{n}"
        if not (data / "persons.parquet").exists():
            subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(data)],
                           check=True)
        kinds = ["two-batches", "impact"]
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
        for _ in range(args.repeat):
            for kind in kinds:  # alternating: a busy spell of the machine hits both alike
                r = measure(kind, data, n, args.memory_limit, script=__file__)
                if r is None:
                    continue
                runs[kind].append(r)
                ref = runs["two-batches"][-1] if runs["two-batches"] else None
                row(n, kind, r, ref)
        meds = {k: {f: statistics.median(x[f] for x in v) for f in v[0]}
                for k, v in runs.items() if v}
        for kind, m in meds.items():
            row(n, f"median {kind}", m, meds.get("two-batches"))


if __name__ == "__main__":
    main()
