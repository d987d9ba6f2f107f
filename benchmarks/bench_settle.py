"""What settling a batch's unknowns costs: ``evaluate_batch`` with ``settle=False`` (the
backend's three-valued answer) and ``settle=True`` (the answer of ``Engine.evaluate``),
alternately, on the demo city; wall time of the results and member results, and the settler's
counts (outcomes changed, records re-evaluated, records refused).

    .venv/bin/python benchmarks/bench_settle.py --households 20000 --repeat 2
    .venv/bin/python benchmarks/bench_settle.py --outputs pkh_eligible,bpnt_eligible

``--outputs`` asks for those rules alone (``evaluate_batch(outputs=...)``): only they are
settled in the results (member results are settled in full, as they are computed in full).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time

from welfare_rules import Engine
from welfare_rules.demo import generate_city


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--backend", default="duckdb")
    ap.add_argument("--outputs", default=None, help="comma-separated rules (default: all)")
    args = ap.parse_args()
    outputs = args.outputs.split(",") if args.outputs else None
    engine = Engine.load()
    city = generate_city(args.households)
    as_of = datetime.date(2024, 7, 1)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.repeat):
        for settle in (False, True):
            t = time.perf_counter()
            res = engine.evaluate_batch("household", city.households, members=city.persons,
                                        as_of=as_of, backend=args.backend, validate=False,
                                        settle=settle, outputs=outputs)
            res.to_arrow()
            res.member_results  # noqa: B018 - read to settle the members too
            times[settle].append(time.perf_counter() - t)
            s = res.settler
            counts = f"changed {s.settled}, re-evaluated {s.evaluated}, refused {s.refused}" \
                if s is not None else "three-valued"
            print(f"settle={settle!s:5} {times[settle][-1]:7.2f} s  {counts}", flush=True)
    a, b = statistics.median(times[False]), statistics.median(times[True])
    print(f"median three-valued {a:.2f} s, settled {b:.2f} s: {b / a:.2f}x")


if __name__ == "__main__":
    main()
