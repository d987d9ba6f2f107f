"""A plugin's function on the Polars backend: Kota Pekalongan's ``kelurahan_kecamatan`` (a
four-branch ``if`` chain, ``region_name`` in every test) against the same rule hand-written in
Polars expressions.

The backend runs a plugin's function through its Python implementation, row by row; the
hand-written side uses Polars' own string functions for ``region_name`` (collapse spaces,
strip, upper case), so the ratio is the price of the Python call. Session 9 found each test of
the chain copied into the reach of every later branch (2,506 calls a row, 2.7 ms a household);
this script keeps that cost in sight. Runs alternate (backend, hand-written) in one process;
medians of the wall time are reported, and each result is checked equal to the other.

    python benchmarks/bench_plugin_calls.py                     # 20,000 households, 5 pairs
    python benchmarks/bench_plugin_calls.py --households 100000 --repeat 7
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime.date(2024, 1, 1)
BRANCHES = ("pekalongan_barat", "pekalongan_timur", "pekalongan_utara", "pekalongan_selatan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import polars as pl
    import welfare_rules_kota_pekalongan as kp

    import welfare_rules as wr
    from welfare_rules.demo import generate_city

    engine = wr.Engine.load(plugins=[kp])
    plan = engine.plan(AS_OF)
    city = generate_city(args.households, seed=3)
    households = city.households.select(["id", "kelurahan"])
    persons = city.persons.select(["nik", "household_id"])  # the pack asks for members
    lists = {b: plan.param(f"kota_pekalongan.region.kelurahan.{b}") for b in BRANCHES}

    def backend() -> list[object]:
        res = engine.evaluate_batch("household", households, members=persons, as_of=AS_OF,
                                    backend="polars", validate=False, settle=False,
                                    outputs=["kelurahan_kecamatan"])
        return res.to_arrow().column("kelurahan_kecamatan").to_pylist()

    def by_hand() -> list[object]:
        name = (pl.col("kelurahan").str.replace_all(r"\s+", " ").str.strip_chars(" ")
                .str.to_uppercase())
        value = pl.when(name.is_in(lists[BRANCHES[0]])).then(pl.lit("PEKALONGAN BARAT"))
        for b in BRANCHES[1:]:
            value = value.when(name.is_in(lists[b])).then(pl.lit(b.replace("_", " ").upper()))
        out = pl.from_arrow(households).lazy().select(value.otherwise(None).alias("k")).collect()
        return out.get_column("k").to_list()

    if backend() != by_hand():
        sys.exit("the backend and the hand-written query differ")
    times: dict[str, list[float]] = {"backend": [], "by hand": []}
    for _ in range(args.repeat):
        for label, run in (("backend", backend), ("by hand", by_hand)):
            t = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.households:,} households, {args.repeat} alternating pairs, median wall:")
    print(f"  polars backend {med['backend'] * 1000:8.1f} ms")
    print(f"  hand-written   {med['by hand'] * 1000:8.1f} ms")
    print(f"  ratio          {med['backend'] / med['by hand']:8.2f}x")


if __name__ == "__main__":
    main()
