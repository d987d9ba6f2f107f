"""Spark runs one after another in one session: the first pays the JVM's warm-up.

Starts a ``local_session()``, then evaluates the national pack over the Parquet files of
``benchmarks/generate.py`` ``--repeat`` times in it (``validate=False``,
``dataset_checks=False``, ``settle=False`` where the code has it, the results collected with
``to_arrow``), printing the wall time and the CPU time of the driver JVM (where Spark does the
work in local mode; read from ``/proc``) for the session start and each run. The first run in
a fresh JVM carries its just-in-time compilation and Spark's code generation; later runs show
what the query itself costs. CPU time is much less disturbed than wall time by other work on a
shared machine, so it is the figure to compare two versions by, in the same minutes.

    python benchmarks/bench_spark_runs.py --households 100000 --repeat 2
    python benchmarks/bench_spark_runs.py --households 100000 --all   # every rule
    PYTHONPATH=<checkout of an older commit>/src python benchmarks/bench_spark_runs.py ...

(the last runs an older version on the same files: it takes what its ``evaluate_batch``
accepts).
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import os
import time
from pathlib import Path

HERE = Path(__file__).parent
AS_OF = datetime.date(2024, 7, 1)
RULES = ["poor_bps", "pkh_eligible", "deceased_recipient"]


def jvm_cpu_s(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--all", action="store_true", help="every rule, not the three of RULES")
    args = ap.parse_args()
    import welfare_rules as wr
    import welfare_rules.batch
    from welfare_rules.backends.spark import local_session

    data = HERE / "data" / f"batch-{args.households}"
    engine = wr.Engine.load()
    t0 = time.perf_counter()
    spark = local_session()
    pid = int(spark._jvm.java.lang.ProcessHandle.current().pid())
    print(f"session start: wall {time.perf_counter() - t0:.1f} s, JVM CPU "
          f"{jvm_cpu_s(pid):.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    accepts = inspect.signature(welfare_rules.batch.evaluate_batch).parameters
    kw: dict[str, object] = {"spark": spark, "validate": False, "dataset_checks": False}
    if "settle" in accepts:
        kw["settle"] = False
    if "outputs" in accepts and not args.all:
        kw["outputs"] = RULES
    for i in range(args.repeat):
        t0, c0 = time.perf_counter(), jvm_cpu_s(pid)
        res = engine.evaluate_batch("household", data / "households.parquet",
                                    members=data / "persons.parquet", as_of=AS_OF,
                                    backend="spark", **kw)
        cols = res.to_arrow().num_columns
        print(f"run {i + 1}: wall {time.perf_counter() - t0:.1f} s, JVM CPU "
              f"{jvm_cpu_s(pid) - c0:.1f} s, {cols} columns, load {os.getloadavg()[0]:.1f}",
              flush=True)
        res.close()


if __name__ == "__main__":
    main()
