"""A fast, vectorised generator of N households (~4 persons each) as canonical Parquet files.

``welfare_rules.demo.generate_city`` is realistic but builds Python lists (about 20 s per
100,000 households); the batch benchmark needs 1 M and 10 M households, so this one stays in
numpy and writes in chunks of 1 M households (memory stays flat).

    python benchmarks/generate.py 1000000 benchmarks/data/batch-1m
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from welfare_rules.demo import household_enums

ENUMS = household_enums()
KELURAHAN = [f"Kelurahan {i:02d}" for i in range(27)]
KECAMATAN = ["Pekalongan Barat", "Pekalongan Timur", "Pekalongan Utara", "Pekalongan Selatan"]
EPOCH = datetime.date(1970, 1, 1)
AS_OF = datetime.date(2024, 7, 1)


def _masked(rng: np.random.Generator, arr: pa.Array, rate: float) -> pa.Array:
    return pa.array(arr, mask=rng.random(len(arr)) < rate) if rate else arr


def _enum(rng: np.random.Generator, values: list[str], n: int, rate: float) -> pa.Array:
    idx = rng.integers(0, len(values), n).astype(np.int32)
    return _masked(rng, pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(values))
                   .cast(pa.string()), rate)


def chunk(start: int, n: int, seed: int, missing: float = 0.01) -> tuple[pa.Table, pa.Table]:
    """Households ``start`` … ``start + n - 1`` and their members."""
    rng = np.random.default_rng(seed + start)
    ids = np.char.add("3375", np.char.zfill((np.arange(start, start + n)).astype(str), 12))
    today = (AS_OF - EPOCH).days
    hh = {
        "id": pa.array(ids),
        "kecamatan": pa.array(np.asarray(KECAMATAN)[rng.integers(0, 4, n)]),
        "kelurahan": pa.array(np.asarray(KELURAHAN)[rng.integers(0, len(KELURAHAN), n)]),
        "in_dtks": _masked(rng, pa.array(rng.random(n) < 0.6), missing),
        "desil": _masked(rng, pa.array(rng.integers(1, 11, n)), missing),
        "last_verified": _masked(rng, pa.array(rng.integers(today - 1500, today, n)
                                               .astype("int32")).cast(pa.date32()), missing),
        "floor_area_m2": _masked(rng, pa.array(np.round(rng.uniform(6, 120, n), 1)), missing),
        "meat_milk_per_week": _masked(rng, pa.array(rng.integers(0, 4, n)), missing),
        "new_clothes_per_year": _masked(rng, pa.array(rng.integers(0, 3, n)), missing),
        "meals_per_day": _masked(rng, pa.array(rng.integers(1, 4, n)), missing),
        "can_afford_clinic": _masked(rng, pa.array(rng.random(n) < 0.5), missing),
        "land_area_m2": _masked(rng, pa.array(rng.choice([0.0, 300.0, 1000.0], n)), missing),
        "head_income_month": _masked(rng, pa.array(rng.integers(0, 60, n) * 100_000), missing),
        "savings_value": _masked(rng, pa.array(rng.integers(0, 20, n) * 250_000), missing),
        "owns_car": _masked(rng, pa.array(rng.random(n) < 0.08), missing),
        "receives_pkh": pa.array(rng.random(n) < 0.3),
        "receives_bpnt": pa.array(rng.random(n) < 0.35),
        "receives_pbi": pa.array(rng.random(n) < 0.5),
    }
    for k, values in ENUMS.items():
        hh[k] = _enum(rng, values, n, missing)
    sizes = rng.choice([1, 2, 3, 4, 5, 6, 7], n, p=[.08, .14, .2, .26, .18, .1, .04])
    m = int(sizes.sum())
    owner = np.repeat(np.arange(n), sizes)
    pos = np.arange(m) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    age_days = np.where(pos == 0, rng.integers(25 * 365, 75 * 365, m),
                        np.where(pos == 1, rng.integers(20 * 365, 70 * 365, m),
                                 rng.integers(0, 25 * 365, m)))
    alive = rng.random(m) > 0.02
    death = np.where(alive, 0, today - rng.integers(1, 900, m)).astype("int32")
    rel = np.where(pos == 0, "head", np.where(pos == 1, "spouse",
                                                 np.asarray(["child", "child", "parent", "other"])
                                                 [rng.integers(0, 4, m)]))
    persons = {
        "nik": pa.array(np.char.add(np.char.add("3375", np.char.zfill(
            (start + owner).astype(str), 8)), np.char.zfill(pos.astype(str), 4))),
        "household_id": pa.array(ids[owner]),
        "name": pa.array(np.asarray(["Slamet", "Siti", "Ahmad", "Sri", "Budi", "Nur"])
                         [rng.integers(0, 6, m)]),
        "sex": _enum(rng, ["male", "female"], m, missing),
        "birth_date": _masked(rng, pa.array((today - age_days).astype("int32"))
                              .cast(pa.date32()), missing),
        "relationship": pa.array(rel),
        "is_alive": _masked(rng, pa.array(alive), missing),
        "death_date": pa.array(death, mask=alive).cast(pa.date32()),
        "is_pregnant": _masked(rng, pa.array(rng.random(m) < 0.03), missing),
        "disability": _enum(rng, ["none"] * 12 + ["mild", "moderate", "severe"], m, missing),
        "school_level": _enum(rng, ["none", "paud", "sd", "smp", "sma", "higher"], m, missing),
        "is_asn": _masked(rng, pa.array(rng.random(m) < 0.03), missing),
        "income_month": _masked(rng, pa.array(rng.integers(0, 50, m) * 100_000), missing),
    }
    return pa.table(hh), pa.table(persons)


def generate(n: int, directory: str | Path, seed: int = 3375, chunk_size: int = 1_000_000
             ) -> tuple[Path, Path]:
    """Write ``households.parquet`` and ``persons.parquet`` with ``n`` households."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    hp, pp = out / "households.parquet", out / "persons.parquet"
    hw = pw = None
    for start in range(0, n, chunk_size):
        h, p = chunk(start, min(chunk_size, n - start), seed)
        hw = hw or pq.ParquetWriter(hp, h.schema)
        pw = pw or pq.ParquetWriter(pp, p.schema)
        hw.write_table(h, row_group_size=256_000)
        pw.write_table(p, row_group_size=256_000)
    assert hw is not None
    assert pw is not None
    hw.close()
    pw.close()
    return hp, pp


if __name__ == "__main__":
    generate(int(sys.argv[1]), sys.argv[2])
