"""Generated households for the differential tests: many at a time, from one seed.

One hypothesis example is a whole population (≥ 500 households), generated from a seed with a
missing-value rate and an ``as_of`` on a parameter boundary; it is evaluated in one query per
backend. Values are chosen to hit the edges: non-ASCII names and places (see
``welfare_rules.testing.strategies.EDGE_TEXTS``), NaN and signed zeros in decimals, missing
fields, households without members, ties in rank keys, birthdays and verification dates on
``as_of`` and on the dates parameters change, 29 February, desil 0-11 (outside the declared
range too), UNIQUE/ANY tables that are violated.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

import pyarrow as pa

from welfare_rules.demo import household_enums
from welfare_rules.testing.strategies import EDGE_TEXTS

AS_OF_DATES = [datetime.date(2024, 1, 1), datetime.date(2023, 12, 31), datetime.date(2024, 2, 29),
               datetime.date(2024, 3, 1), datetime.date(2025, 3, 1)]
_BOUNDARIES = [datetime.date(2024, 1, 1), datetime.date(2024, 3, 1), datetime.date(2020, 2, 29),
               datetime.date(2023, 12, 31), datetime.date(2016, 1, 1)]

HOUSEHOLD_ENUMS = household_enums()
# names and places include the edge texts (accents precomposed and combining, CJK, emoji, ß, İ,
# a no-break space): string functions and regular expressions must agree on them
NAMES = ["Slamet", "Siti", "Ahmad", "Kasmini", "Budi", "Nur Aini", "Sri", "Joko", *EDGE_TEXTS]
KELURAHAN = ["Kramatsari", "Klego", "Panjang Wetan", "Degayu", *EDGE_TEXTS]
KECAMATAN = ["Pekalongan Barat", "Pekalongan Timur", "Pekalongan Utara", "Kec. José",
             "Jose\u0301 Timur", "王小明"]
#: decimals include NaN (a missing value) and a signed zero
_NAN = float("nan")


def _date_near(rng: random.Random, anchors: list[datetime.date]) -> datetime.date:
    base = rng.choice(anchors)
    shift = rng.choice([0, 0, 1, -1, 365, -365, -366, 30, -30, rng.randint(-20000, 0)])
    try:
        return base + datetime.timedelta(days=shift)
    except OverflowError:
        return base


def _birth(rng: random.Random, as_of: datetime.date) -> datetime.date:
    years = rng.choice([0, 1, 5, 6, 7, 12, 15, 17, 18, 21, 22, 45, 59, 60, 61, 70, 71, 90])
    try:
        d = as_of.replace(year=as_of.year - years)
    except ValueError:
        d = datetime.date(as_of.year - years, 2, 28)
    return d + datetime.timedelta(days=rng.choice([0, 0, 1, -1, rng.randint(-200, 200)]))


def population(seed: int, n: int, missing: float, as_of: datetime.date
               ) -> tuple[pa.Table, pa.Table]:
    """``n`` households and their members as canonical Arrow tables."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return None if rng.random() < missing else value

    households: list[dict[str, Any]] = []
    persons: list[dict[str, Any]] = []
    nik_pool = [f"3375{rng.randint(0, 10**12 - 1):012d}" for _ in range(max(4, n // 50))]
    for i in range(n):
        hid = f"3375{i:012d}"
        hh: dict[str, Any] = {
            "id": hid,
            "kecamatan": maybe(rng.choice(KECAMATAN)),
            "kelurahan": maybe(rng.choice(KELURAHAN)),
            "in_dtks": maybe(rng.random() < 0.7),
            "desil": maybe(rng.randint(0, 11)),
            "last_verified": maybe(_date_near(rng, [as_of, *_BOUNDARIES])),
            "floor_area_m2": maybe(rng.choice([0.0, -0.0, _NAN, 7.5, 8.0, 18.75, 36.5, 54.0,
                                               round(rng.uniform(0, 120), 2)])),
            "meat_milk_per_week": maybe(rng.randint(0, 3)),
            "new_clothes_per_year": maybe(rng.randint(0, 2)),
            "meals_per_day": maybe(rng.randint(0, 3)),
            "can_afford_clinic": maybe(rng.random() < 0.5),
            "land_area_m2": maybe(rng.choice([0.0, _NAN, 500.0, 1250.5, 1e15])),
            "head_income_month": maybe(rng.choice([0, 600000, 1500000, 2000000, 3200000,
                                                   rng.randint(0, 10**7)])),
            "savings_value": maybe(rng.choice([0, 250000, 500000, 5000000])),
            "owns_car": maybe(rng.random() < 0.1),
            "receives_pkh": maybe(rng.random() < 0.4),
            "receives_bpnt": maybe(rng.random() < 0.4),
            "receives_pbi": maybe(rng.random() < 0.5),
        }
        for k, values in HOUSEHOLD_ENUMS.items():
            hh[k] = maybe(rng.choice(values))
        households.append(hh)
        size = rng.choice([0, 1, 2, 3, 4, 4, 5, 6])
        shared_birth = _birth(rng, as_of)
        for j in range(size):
            nik = rng.choice(nik_pool) if rng.random() < 0.03 else f"3375{i:08d}{j:04d}"
            alive = maybe(rng.random() < 0.9)
            birth = shared_birth if rng.random() < 0.3 else _birth(rng, as_of)
            persons.append({
                "nik": nik,
                "household_id": hid,
                "name": maybe(rng.choice(NAMES)),
                "sex": maybe(rng.choice(["male", "female"])),
                "birth_date": maybe(birth),
                "relationship": maybe("head" if j == 0 else rng.choice(
                    ["spouse", "child", "child", "parent", "other"])),
                "is_alive": alive,
                "death_date": maybe(_date_near(rng, [as_of])) if alive is False else None,
                "is_pregnant": maybe(rng.random() < 0.1),
                "disability": maybe(rng.choice(["none", "none", "mild", "moderate", "severe"])),
                "school_level": maybe(rng.choice(["none", "paud", "sd", "smp", "sma", "higher"])),
                "is_asn": maybe(rng.random() < 0.1),
                "income_month": maybe(rng.choice([0, 0, 750000, 1500000, 4100000])),
            })
    h_schema = pa.schema([
        ("id", pa.string()), ("kecamatan", pa.string()), ("kelurahan", pa.string()),
        ("in_dtks", pa.bool_()), ("desil", pa.int64()), ("last_verified", pa.date32()),
        ("floor_area_m2", pa.float64()), ("meat_milk_per_week", pa.int64()),
        ("new_clothes_per_year", pa.int64()), ("meals_per_day", pa.int64()),
        ("can_afford_clinic", pa.bool_()), ("land_area_m2", pa.float64()),
        ("head_income_month", pa.int64()), ("savings_value", pa.int64()),
        ("owns_car", pa.bool_()), ("receives_pkh", pa.bool_()), ("receives_bpnt", pa.bool_()),
        ("receives_pbi", pa.bool_()), *[(k, pa.string()) for k in HOUSEHOLD_ENUMS],
    ])
    p_schema = pa.schema([
        ("nik", pa.string()), ("household_id", pa.string()), ("name", pa.string()),
        ("sex", pa.string()), ("birth_date", pa.date32()), ("relationship", pa.string()),
        ("is_alive", pa.bool_()), ("death_date", pa.date32()), ("is_pregnant", pa.bool_()),
        ("disability", pa.string()), ("school_level", pa.string()), ("is_asn", pa.bool_()),
        ("income_month", pa.int64()),
    ])
    return (pa.Table.from_pylist(households, schema=h_schema),
            pa.Table.from_pylist(persons, schema=p_schema))


def flat_population(schema: Any, entity: str, seed: int, n: int, missing: float,
                    as_of: datetime.date) -> pa.Table:
    """``n`` records of an entity without members, every field drawn from its schema type
    (so a plugin's extra fields are covered too)."""
    rng = random.Random(seed)
    ent = schema.entity(entity)
    arrow = {"bool": pa.bool_(), "int": pa.int64(), "decimal": pa.float64(), "str": pa.string(),
             "enum": pa.string(), "date": pa.date32()}
    rows = []
    for i in range(n):
        row: dict[str, Any] = {}
        for name, fld in ent.fields.items():
            kind = fld.type.kind
            if name == ent.key:
                row[name] = f"{entity[:3]}{i:06d}"
                continue
            if rng.random() < missing:
                row[name] = None
            elif kind == "bool":
                row[name] = rng.random() < 0.6
            elif kind == "int":
                row[name] = rng.choice([0, 1, 2, 3, 4, 5, 12, 20, 25, 100])
            elif kind == "decimal":
                row[name] = rng.choice([0.0, 1.5, 20.0, 100.25])
            elif kind == "enum":
                row[name] = rng.choice(list(fld.type.values))
            elif kind == "date":
                row[name] = _date_near(rng, [as_of, *_BOUNDARIES])
            else:
                row[name] = rng.choice(["A-1", "0001/2020", "Klego", "Kramatsari", ""])
        rows.append(row)
    schema_ = pa.schema([(name, arrow.get(fld.type.kind, pa.string()))
                         for name, fld in ent.fields.items()])
    return pa.Table.from_pylist(rows, schema=schema_)
