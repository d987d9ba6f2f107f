"""Batch throughput: the national pack through evaluate_batch vs one hand-written DuckDB query.

Each measurement runs in its own process (so peak RSS is that run's own) on Parquet files made
by ``benchmarks/generate.py`` (cached under ``benchmarks/data/``). Both sides read the same
Parquet files and write their results to Parquet. The hand-written query implements BPS
poverty (9 of 14, Kleene), PKH eligibility (components, caps, ranks) and the deceased-recipient
check with the same semantics as the national rules.

Kinds of run (``--backends``):

* ``duckdb``: the national pack asked for the same three rules the hand-written query computes
  (``outputs=["poor_bps", "pkh_eligible", "deceased_recipient"]``: each value and its status),
  streamed to Parquet (``output=``): the like-for-like comparison;
* ``duckdb-all``: every visible household rule of the pack (about 75, each with a status);
* ``duckdb-validated``: as ``duckdb-all``, the input read through ingestion first;
* ``spark`` / ``spark-all``: as ``duckdb`` / ``duckdb-all`` on Spark ``local[2]``, the results
  collected to the driver (``to_arrow``); CPU and peak RSS include the driver JVM's (the
  session is started before the clock, in a fresh JVM per run);
* ``polars`` / ``polars-all``: as ``duckdb`` / ``duckdb-all`` on the Polars backend, each
  timed against the hand-written Polars reference (``reference_polars.py``, the same three
  rules), which then runs too, alternating with them;
* ``python``: the reference backend, record by record (100k at most).

    python benchmarks/bench_batch.py                  # 100k and 1M, duckdb + hand-written
    python benchmarks/bench_batch.py --sizes 100000 --backends duckdb duckdb-all spark python
    python benchmarks/bench_batch.py --ten-million    # adds 10M (duckdb + hand-written)
    python benchmarks/bench_batch.py --sizes 1000000 --repeat 5   # medians of 5 alternating runs
    python benchmarks/bench_batch.py --backends duckdb polars --repeat 3  # + reference_polars.py

Every backend run passes ``settle=False`` (the default settles unknowns soundly, which the
hand-written queries do not do; ``bench_settle.py`` measures that cost).

Both sides import their libraries before the clock starts (duckdb; welfare_rules and its batch
modules), and the rule engine is loaded before it too: what is timed is one evaluation.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
AS_OF = datetime.date(2024, 7, 1)
#: the rules the hand-written query computes
RULES = ["poor_bps", "pkh_eligible", "deceased_recipient"]

#: the national pack's core hand-written in Polars (reference_polars.py): what the polars
#: backend's ratio is taken against
POLARS_REFERENCE = "polars-hand-written"
#: the Polars backend's kinds of run, each timed against POLARS_REFERENCE
POLARS_KINDS = ("polars", "polars-all")

HAND_WRITTEN = """
WITH p AS (
  SELECT nik, household_id,
    CASE WHEN birth_date IS NULL THEN NULL
         WHEN DATE '{as_of}' >= birth_date THEN year(DATE '{as_of}') - year(birth_date)
              - CASE WHEN month(DATE '{as_of}') * 100 + day(DATE '{as_of}')
                        < month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END
         ELSE -(year(birth_date) - year(DATE '{as_of}')
              - CASE WHEN month(birth_date) * 100 + day(birth_date)
                        < month(DATE '{as_of}') * 100 + day(DATE '{as_of}') THEN 1 ELSE 0 END)
    END AS age,
    is_alive AND (death_date IS NULL OR death_date > DATE '{as_of}') AS alive,
    sex, is_pregnant, disability, school_level
  FROM read_parquet('{persons}')
), c AS (
  SELECT *, CASE
      WHEN age IS NULL THEN NULL WHEN age < 6 THEN 'early_childhood'
      WHEN (sex = 'female' AND is_pregnant) IS NULL THEN NULL
      WHEN sex = 'female' AND is_pregnant THEN 'pregnant'
      WHEN disability IS NULL THEN NULL WHEN disability = 'severe' THEN 'severe_disability'
      WHEN age >= 60 THEN 'elderly'
      WHEN age BETWEEN 6 AND 21 AND school_level IS NULL THEN NULL
      WHEN age BETWEEN 6 AND 21 AND school_level = 'sma' THEN 'sma'
      WHEN age BETWEEN 6 AND 21 AND school_level = 'smp' THEN 'smp'
      WHEN age BETWEEN 6 AND 21 AND school_level = 'sd' THEN 'sd'
      ELSE 'none' END AS comp
  FROM p
), a AS (
  SELECT *, CASE comp WHEN 'pregnant' THEN 3000000 WHEN 'early_childhood' THEN 3000000
      WHEN 'sd' THEN 900000 WHEN 'smp' THEN 1500000 WHEN 'sma' THEN 2000000
      WHEN 'severe_disability' THEN 2400000 WHEN 'elderly' THEN 2400000 WHEN 'none' THEN 0
      END AS amount,
    CASE WHEN (alive AND comp != 'none') IS TRUE THEN row_number() OVER (
      PARTITION BY household_id, (alive AND comp != 'none') IS TRUE, comp ORDER BY nik) END
      AS comp_rank
  FROM c
), w AS (
  SELECT *, alive AND comp != 'none' AND (CASE WHEN comp = 'early_childhood' THEN comp_rank <= 2
      WHEN comp = 'pregnant' THEN comp_rank <= 2 WHEN comp IS NULL THEN NULL ELSE TRUE END)
      AS within_cap FROM a
), r AS (
  SELECT *, CASE WHEN within_cap IS TRUE THEN row_number() OVER (
      PARTITION BY household_id, within_cap IS TRUE ORDER BY amount IS NULL, amount DESC, nik)
      END AS person_rank FROM w
), m AS (
  SELECT household_id, count(*) AS n,
    CASE WHEN max(CASE WHEN within_cap AND person_rank <= 4 THEN 1 ELSE 0 END) = 1 THEN TRUE
         WHEN max(CASE WHEN (within_cap AND person_rank <= 4) IS NULL THEN 1 ELSE 0 END) = 1
         THEN NULL ELSE FALSE END AS has_component,
    CASE WHEN max(CASE WHEN NOT alive THEN 1 ELSE 0 END) = 1 THEN TRUE
         WHEN max(CASE WHEN alive IS NULL THEN 1 ELSE 0 END) = 1 THEN NULL ELSE FALSE END
      AS any_deceased
  FROM r GROUP BY household_id
), h AS (
  SELECT h.*, coalesce(m.n, 0) AS member_count,
    CASE WHEN m.household_id IS NULL THEN FALSE ELSE m.has_component END AS has_component,
    CASE WHEN m.household_id IS NULL THEN FALSE ELSE m.any_deceased END AS any_deceased
  FROM read_parquet('{households}') h LEFT JOIN m ON h.id = m.household_id
), k AS (
  SELECT id, has_component, any_deceased, in_dtks, desil,
    receives_pkh OR receives_bpnt OR receives_pbi AS recipient,
    [CASE WHEN member_count = 0 THEN NULL ELSE floor_area_m2 / member_count < 8 END,
     floor_type IN ('earth', 'bamboo', 'cheap_wood'),
     wall_type IN ('bamboo', 'rumbia', 'low_quality_wood', 'unplastered_brick'),
     toilet IN ('none', 'shared'), electricity = 'none',
     water_source IN ('unprotected_well', 'unprotected_spring', 'river', 'rain'),
     cooking_fuel IN ('firewood', 'charcoal', 'kerosene'), meat_milk_per_week <= 1,
     new_clothes_per_year <= 1, meals_per_day <= 2, NOT can_afford_clinic,
     head_occupation IN ('farm_labourer', 'fisher', 'construction_labourer',
                         'plantation_labourer')
       OR (head_occupation = 'farmer' AND land_area_m2 <= 500)
       OR head_income_month < 600000,
     head_education IN ('none', 'sd_incomplete', 'sd'), savings_value < 500000] AS crit
  FROM h
)
SELECT id,
  CASE WHEN len(list_filter(crit, lambda x: x IS TRUE)) >= 9 THEN TRUE
       WHEN len(list_filter(crit, lambda x: x IS NOT FALSE)) < 9 THEN FALSE END AS poor_bps,
  in_dtks AND desil <= 4 AND has_component AS pkh_eligible,
  recipient AND any_deceased AS deceased_recipient
FROM k
"""


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU time of this process (user + system, all threads): less disturbed than wall time
    by other work on a shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(kind: str, data: Path, n: int, memory_limit: str) -> dict[str, object]:
    """One measurement in this process (called in a child process)."""
    import duckdb

    out = Path(tempfile.mkdtemp()) / "out.parquet"
    hp, pp = data / "households.parquet", data / "persons.parquet"
    jvm: int | None = None  # the Spark driver JVM's process, on Spark
    jcpu = 0.0
    if kind == "hand-written":
        con = duckdb.connect(config={"memory_limit": memory_limit,
                                     "temp_directory": str(out.parent / "spill")})
        sql = HAND_WRITTEN.format(as_of=AS_OF.isoformat(), persons=pp, households=hp)
        t0, c0 = time.perf_counter(), cpu_s()
        con.sql(sql).write_parquet(str(out))
        wall = time.perf_counter() - t0
    elif kind == POLARS_REFERENCE:
        sys.path.insert(0, str(HERE))
        from reference_polars import run as run_polars

        t0, c0 = time.perf_counter(), cpu_s()
        run_polars(hp, pp, out, AS_OF)
        wall = time.perf_counter() - t0
    else:
        import sqlglot

        import welfare_rules as wr
        import welfare_rules.backends.duckdb
        import welfare_rules.backends.spark
        import welfare_rules.batch  # imported up front, as duckdb is above

        sqlglot.Dialect.get_or_raise("duckdb")
        if kind.startswith("polars"):
            import polars  # noqa: F401 - imported up front, as duckdb is

            import welfare_rules.backends.polars_compiler
        engine = wr.Engine.load()
        backend = kind.split("-")[0]
        # settle=False: the backend's own three-valued answers, as the hand-written queries
        # give (settling the unknowns, issue 15, is measured by bench_settle.py)
        kw: dict[str, object] = {"validate": kind == "duckdb-validated",
                                 "outputs": None if "-" in kind else RULES, "settle": False}
        if backend == "duckdb":
            kw |= {"output": out, "memory_limit": memory_limit}
        if backend == "polars":  # the same inputs and output as the duckdb run
            kw["output"] = out
        if backend == "spark":
            from welfare_rules.backends.spark import local_session

            session = local_session()  # started before the clock, as duckdb is imported
            kw["spark"] = session
            jvm = int(session._jvm.java.lang.ProcessHandle.current().pid())
        t0, c0, j0 = time.perf_counter(), cpu_s(), jvm_cpu_s(jvm)
        res = engine.evaluate_batch("household", hp, members=pp, as_of=AS_OF, backend=backend,
                                    dataset_checks=False, **kw)
        if backend not in ("duckdb", "polars"):
            res.to_arrow()
        wall = time.perf_counter() - t0
        jcpu = jvm_cpu_s(jvm) - j0
    cpu = cpu_s() - c0 + jcpu
    return {"kind": kind, "n": n, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "households_per_s": round(n / wall),
            "peak_rss_mib": round(peak_rss_mib() + jvm_peak_mib(jvm))}


def jvm_cpu_s(pid: int | None) -> float:
    """CPU time (user + system) of the Spark driver JVM ``pid`` so far (0 without one): the
    work of a Spark run is done there, not in the Python process."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def jvm_peak_mib(pid: int | None) -> float:
    """Peak RSS of the Spark driver JVM ``pid`` (0 without one)."""
    if pid is None:
        return 0.0
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmHWM:")) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--ten-million", action="store_true", help="also run 10M households")
    ap.add_argument("--backends", nargs="*", default=["duckdb"],
                    help="duckdb, duckdb-all, duckdb-validated, polars, polars-all (with the "
                         "hand-written Polars reference), spark, spark-all, python")
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every kind this many times, alternating, and print medians")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, data, n = args.child
        print(json.dumps(run_one(kind, Path(data), int(n), args.memory_limit)))
        return
    sizes = list(args.sizes) + ([10_000_000] if args.ten_million else [])
    print(f"{'N':>10} {'run':<18} {'wall s':>8} {'hh/s':>12} {'peak MiB':>9} {'ratio':>6} "
          f"{'cpu s':>7} {'cpu ratio':>9}")
    for n in sizes:
        data = HERE / "data" / f"batch-{n}"
        if not (data / "persons.parquet").exists():
            # in a child process: on Linux a child inherits its parent's peak RSS, so the
            # parent must stay small for the children's figures to be their own
            subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(data)],
                           check=True)
        kinds = ["hand-written", *[k for k in args.backends if k != "python" or n <= 100_000]]
        ours = [k for k in kinds if k in POLARS_KINDS]
        if ours:  # the hand-written Polars reference runs (alternating) before the first
            kinds.insert(kinds.index(ours[0]), POLARS_REFERENCE)
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
        for _ in range(args.repeat):
            # alternate the runs, so that a busy spell of the machine hits every kind alike
            for kind in kinds:
                r = measure(kind, data, n, args.memory_limit)
                if r is None:
                    continue
                runs[kind].append(r)
                against = POLARS_REFERENCE if kind in POLARS_KINDS else "hand-written"
                ref = runs[against][-1] if runs[against] else None
                row(n, kind, r, ref)
        if args.repeat > 1:
            meds = {k: {f: statistics.median(r[f] for r in v) for f in v[0]}
                    for k, v in runs.items() if v}
            for kind, m in meds.items():
                row(n, f"median {kind}", m, meds.get(POLARS_REFERENCE if kind in POLARS_KINDS
                                                     else "hand-written"))
            for kind in POLARS_KINDS:
                pairs = list(zip(runs.get(kind, []), runs.get(POLARS_REFERENCE, []),
                                 strict=False))
                if pairs:  # the median of the ratios of each round's pair
                    wall = statistics.median(a["wall_s"] / b["wall_s"] for a, b in pairs)
                    cpu = statistics.median(a["cpu_s"] / b["cpu_s"] for a, b in pairs)
                    print(f"{n:>10} {kind} / {POLARS_REFERENCE}: median ratio wall "
                          f"{wall:.2f}, cpu {cpu:.2f} ({len(pairs)} pairs)", flush=True)


def measure(kind: str, data: Path, n: int, memory_limit: str, script: str = __file__
            ) -> dict[str, float] | None:
    """Run ``script --child kind data n`` in a fresh process and read its JSON line."""
    proc = subprocess.run(
        [sys.executable, script, "--memory-limit", memory_limit, "--child", kind,
         str(data), str(n)], capture_output=True, text=True, env=os.environ.copy(),
        check=False)
    if proc.returncode:
        print(f"{n:>10} {kind:<18} FAILED: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return {k: float(r[k]) for k in ("wall_s", "cpu_s", "households_per_s", "peak_rss_mib")}


def row(n: int, kind: str, r: dict[str, float], ref: dict[str, float] | None) -> None:
    ratio = f"{r['wall_s'] / ref['wall_s']:.2f}" if ref else ""
    cratio = f"{r['cpu_s'] / ref['cpu_s']:.2f}" if ref else ""
    print(f"{n:>10} {kind:<18} {r['wall_s']:>8.2f} {round(r['households_per_s']):>12,} "
          f"{round(r['peak_rss_mib']):>9} {ratio:>6} {r['cpu_s']:>7.2f} {cratio:>9}",
          flush=True)

if __name__ == "__main__":
    main()
