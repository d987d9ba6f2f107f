"""Many small batches of one engine: what a batch costs once its SQL is compiled.

A monthly job runs file after file (a kelurahan each), an impact analysis the baseline and the
reform, the differential tests population after population: the same engine, date and input
columns every time. DuckDB's compiled query text is kept on the plan (``Plan.cached``), so the
first batch compiles and the next ones do not. This script runs the national pack over a demo
city of ``--households`` households (findings and member results included) ``--repeat`` times
on DuckDB (or ``--backend polars``), alternating with the Python backend over the same
records, and reports the first batch, the median of the later ones, the median Python batch,
and their ratio.

    python benchmarks/bench_small_batches.py                  # 2,000 households, 7 pairs
    python benchmarks/bench_small_batches.py --households 500 --repeat 9
    python benchmarks/bench_small_batches.py --backend polars
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from collections.abc import Callable

AS_OF = datetime.date(2024, 7, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--backend", choices=["duckdb", "polars"], default="duckdb")
    args = ap.parse_args()

    import welfare_rules as wr
    from welfare_rules.demo import generate_city

    engine = wr.Engine.load()
    city = generate_city(args.households, seed=5)

    def batch(backend: str) -> Callable[[], None]:
        def run() -> None:
            res = engine.evaluate_batch("household", city.households, members=city.persons,
                                        as_of=AS_OF, backend=backend, validate=False,
                                        settle=False)
            res.to_arrow()
            _ = res.member_results, res.findings
        return run

    tested = args.backend
    times: dict[str, list[float]] = {tested: [], "python": []}
    for _ in range(args.repeat):
        for backend in (tested, "python"):
            t = time.perf_counter()
            batch(backend)()
            times[backend].append(time.perf_counter() - t)
    first, later = times[tested][0], statistics.median(times[tested][1:])
    py = statistics.median(times["python"])
    print(f"{args.households:,} households, national pack, {args.repeat} alternating pairs:")
    print(f"  {tested}, first batch              {first * 1000:8.0f} ms")
    print(f"  {tested}, later batches (median)   {later * 1000:8.0f} ms")
    print(f"  python backend (median)          {py * 1000:8.0f} ms")
    print(f"  first / later {first / later:5.2f}x   later {tested} / python {later / py:5.2f}x")


if __name__ == "__main__":
    main()
