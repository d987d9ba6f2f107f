"""Ingestion throughput and peak memory: read N canonical person rows from CSV.

Usage: ``python benchmarks/bench_ingest.py [--rows 5000000] [--chunk-size 100000]``.
Generates ``benchmarks/data/persons_<N>.csv`` (git-ignored) if absent, reads it with the
canonical adapter and prints rows/second, wall time and peak RSS. Not a timed test.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from welfare_rules.adapters import read  # noqa: E402
from welfare_rules.schema import Origin, load_schema  # noqa: E402

HEADER = ("nik,household_id,name,sex,birth_date,relationship,is_alive,death_date,is_pregnant,"
          "disability,school_level,is_asn,income_month\n")
NAMES = ["Slamet Riyadi", "Siti Muawanah", "Ahmad Fauzi", "Dewi Anggraini", "Bambang",
         "Endang Lestari", "Sutrisno", "Nur Aini", "Agus Salim", "Sri Wahyuni"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(7)
    rel = ["head", "spouse", "child", "child"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        buf = []
        for i in range(rows):
            hh, m = divmod(i, 4)
            alive = rng.random() > 0.02
            buf.append(
                f"{3375000000000000 + i},{3375100000000000 + hh},{rng.choice(NAMES)},"
                f"{rng.choice(('male', 'female'))},{rng.randint(1940, 2020)}-"
                f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{rel[m]},"
                f"{'true' if alive else 'false'},{'' if alive else '2023-05-01'},"
                f"{'true' if rng.random() < 0.03 else 'false'},"
                f"{rng.choice(('none', 'none', 'none', 'mild', 'severe'))},"
                f"{rng.choice(('none', 'sd', 'smp', 'sma'))},false,"
                f"{rng.choice(('', '0', '750000', '1500000', '3200000'))}\n")
            if len(buf) >= 100_000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
    tmp.rename(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--chunk-size", type=int, default=100_000)
    args = ap.parse_args()
    path = HERE / "data" / f"persons_{args.rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")
    schema = load_schema([(HERE.parent / "src/welfare_rules/national/schema.yaml", Origin())])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    res = read(path, schema, entity="person", chunk_size=args.chunk_size, progress=None)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    size = path.stat().st_size / 2**20
    print(f"file: {path.name}, {size:.0f} MiB")
    print(res.summary())
    print(f"wall time: {wall:.1f} s")
    print(f"throughput: {res.rows_read / wall:,.0f} rows/s ({size / wall:.1f} MiB/s)")
    print(f"peak RSS: {peak:.0f} MiB (before reading: {rss_before:.0f} MiB)")
    print(f"result tables: {res.tables['person'].nbytes / 2**20:.0f} MiB of Arrow columns")


if __name__ == "__main__":
    main()
