"""A synthetic city the size of Kota Pekalongan, generated deterministically.

``generate_city`` builds columnar tables (households, persons, institutions) with canonical
field names: 27 kelurahan in 4 kecamatan (domain.md §4), about 85,000 family cards and 315,000
people, 21 LKS — and the data problems a Dinas Sosial meets: deceased members still listed in
recipient families, malformed NIKs, NIKs whose sex or birth date disagree with the record,
verification older than two years, families without a head, family cards issued elsewhere,
duplicated people, and blank cells. Everything is vectorised with NumPy, so the generator also
feeds the benchmarks at millions of households.

The data is synthetic: names, numbers and families are invented; no real person is described.
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

KECAMATAN: dict[str, tuple[str, list[str]]] = {
    "01": ("Pekalongan Barat", ["Bendan Kergon", "Medono", "Pasirkratonkramat", "Podosugih",
                                "Pringrejo", "Sapuro Kebulen", "Tirto"]),
    "02": ("Pekalongan Timur", ["Gamer", "Kalibaros", "Kauman", "Klego", "Noyontaansari",
                                "Poncol", "Setono"]),
    "03": ("Pekalongan Utara", ["Bandengan", "Degayu", "Kandang Panjang", "Krapyak",
                                "Padukuhan Kraton", "Panjang Baru", "Panjang Wetan"]),
    "04": ("Pekalongan Selatan", ["Banyurip", "Buaran Kradenan", "Jenggot",
                                  "Kuripan Kertoharjo", "Kuripan Yosorejo", "Sokoduwet"]),
}

_FIRST_M = ["Agus", "Budi", "Slamet", "Joko", "Ahmad", "Muhammad", "Eko", "Hadi", "Rudi",
            "Wahyu", "Bambang", "Teguh", "Imam", "Yusuf", "Rizky", "Dimas", "Arif", "Fajar"]
_FIRST_F = ["Siti", "Sri", "Dewi", "Nur", "Rina", "Wati", "Lestari", "Aisyah", "Fitri",
            "Endang", "Sari", "Rahayu", "Putri", "Indah", "Yuni", "Ani", "Tri", "Nining"]
_LAST = ["Santoso", "Wibowo", "Hidayat", "Saputra", "Rahman", "Kurniawan", "Setiawan",
         "Pratama", "Susanto", "Nugroho", "Hartono", "Wijaya", "Purnomo", "Maulana", ""]

def household_enums() -> dict[str, list[str]]:
    """The declared values of the household's enum fields, from the national schema (the one
    source of truth; the order runs from poorest to best off, which the generators rely on)."""
    from pathlib import Path

    from .schema import Origin, load_schema

    schema = load_schema([(Path(__file__).parent / "national" / "schema.yaml", Origin())])
    return {name: list(f.type.values)
            for name, f in schema.entity("household").fields.items()
            if f.type.kind == "enum"}


_ENUMS = household_enums()


@attrs.frozen
class City:
    """The generated tables (canonical columns, Arrow types) and what was planted in them."""

    households: pa.Table
    persons: pa.Table
    institutions: pa.Table
    as_of: datetime.date
    #: deaths Dukcapil recorded: some of people the household data still lists as alive (by
    #: NIK, or only by name and birth date when the NIK was mistyped), and unrelated people
    death_register: pa.Table | None = None

    def write(self, directory: str, formats: tuple[str, ...] = ("parquet", "csv")) -> list[str]:
        """Write ``households``, ``persons`` and ``institutions`` as Parquet and/or CSV."""
        import pathlib

        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        out = pathlib.Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in ("households", "persons", "institutions", "death_register"):
            table = getattr(self, name)
            if table is None:
                continue
            if "parquet" in formats:
                pq.write_table(table, out / f"{name}.parquet")
                written.append(str(out / f"{name}.parquet"))
            if "csv" in formats:
                pacsv.write_csv(table, out / f"{name}.csv")
                written.append(str(out / f"{name}.csv"))
        return written


def _choice(rng: np.random.Generator, values: list[str], n: int,
            p: list[float] | None = None) -> np.ndarray:
    idx = rng.choice(len(values), size=n, p=p)
    return np.asarray(values, dtype=object)[idx]


def _blank(rng: np.random.Generator, arr: Any, rate: float) -> list[Any]:
    """Turn a share of the values into missing ones (None)."""
    out: list[Any] = list(np.asarray(arr).tolist())
    if rate > 0:
        for i in np.flatnonzero(rng.random(len(out)) < rate):
            out[i] = None
    return out


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype("int32"), type=pa.int32()).cast(pa.date32())


def generate_city(households: int = 85_000, *, seed: int = 3375,
                  as_of: datetime.date = datetime.date(2024, 7, 1),
                  institutions: int = 21, missing_rate: float = 0.01) -> City:
    """Generate a synthetic city deterministically (same arguments, same tables).

    Args:
        households: number of family cards (Kota Pekalongan has about 85,000).
        seed: the random seed.
        as_of: the date the data describes (ages, verification dates).
        institutions: number of LKS (the city counted 21 in 2022).
        missing_rate: share of blank cells in the survey fields.
    """
    rng = np.random.default_rng(seed)
    n = households
    epoch = datetime.date(1970, 1, 1)
    today = (as_of - epoch).days

    # -- households --------------------------------------------------------------------------
    kec_codes = list(KECAMATAN)
    kec_idx = rng.integers(0, 4, n)
    kel_names = np.empty(n, dtype=object)
    kec_names = np.empty(n, dtype=object)
    for k, code in enumerate(kec_codes):
        name, kels = KECAMATAN[code]
        mask = kec_idx == k
        kec_names[mask] = name
        kel_names[mask] = np.asarray(kels, dtype=object)[rng.integers(0, len(kels), mask.sum())]
    reg_day = rng.integers(today - 20 * 365, today - 30, n)
    serial = np.arange(n) % 10000 + 1
    kk_region = np.where(rng.random(n) < 0.01, "3326", "3375")  # a few cards issued elsewhere
    dd = (reg_day % 28 + 1).astype(int)
    mm = (reg_day // 28 % 12 + 1).astype(int)
    yy = (reg_day // 365 % 100).astype(int)
    hh_id = [f"{r}0{k + 1}{d:02d}{m:02d}{y:02d}{s:04d}" for r, k, d, m, y, s in
             zip(kk_region, kec_idx, dd, mm, yy, serial, strict=True)]
    # keep ids unique even when the date parts collide
    seen: dict[str, int] = {}
    for i, h in enumerate(hh_id):
        if h in seen:
            h = h[:12] + f"{(int(h[12:]) + seen[h] * 977 + i) % 10000:04d}"
            while h in seen:
                h = h[:12] + f"{(int(h[12:]) + 1) % 10000:04d}"
        seen[h] = seen.get(h, 0) + 1
        hh_id[i] = h

    wealth = rng.beta(2.0, 3.0, n)  # 0 poor … 1 rich, drives the survey answers
    poor = wealth < 0.3
    desil = np.clip((wealth * 10).astype(int) + 1 + rng.integers(-1, 2, n), 1, 10)
    in_dtks = (desil <= 6) & (rng.random(n) < 0.9)
    size = np.clip(rng.poisson(2.7, n) + 1, 1, 9)
    floor_area = np.round(np.where(poor, rng.uniform(12, 45, n), rng.uniform(30, 160, n)), 1)

    def graded(field: str, cut: float) -> np.ndarray:
        vals = _ENUMS[field]
        k = len(vals)
        low = rng.integers(0, max(1, int(k * cut)), n)
        high = rng.integers(int(k * cut), k, n)
        return np.asarray(vals, dtype=object)[np.where(wealth < 0.35, low, high)]

    last_verified = today - rng.integers(0, 4 * 365, n)
    hh = {
        "id": hh_id,
        "kecamatan": kec_names.tolist(),
        "kelurahan": kel_names.tolist(),
        "in_dtks": _blank(rng, in_dtks, missing_rate / 2),
        "desil": _blank(rng, desil, missing_rate),
        "last_verified": _dates(np.asarray(last_verified)),
        "floor_area_m2": _blank(rng, floor_area, missing_rate),
        "floor_type": _blank(rng, graded("floor_type", 0.45), missing_rate),
        "wall_type": _blank(rng, graded("wall_type", 0.6), missing_rate),
        "toilet": _blank(rng, graded("toilet", 0.67), missing_rate),
        "electricity": _blank(rng, graded("electricity", 0.5), missing_rate),
        "water_source": _blank(rng, graded("water_source", 0.5), missing_rate),
        "cooking_fuel": _blank(rng, graded("cooking_fuel", 0.5), missing_rate),
        "meat_milk_per_week": _blank(rng, np.where(poor, rng.integers(0, 2, n),
                                                   rng.integers(1, 7, n)), missing_rate),
        "new_clothes_per_year": _blank(rng, np.where(poor, rng.integers(0, 2, n),
                                                     rng.integers(1, 5, n)), missing_rate),
        "meals_per_day": _blank(rng, np.where(poor, rng.integers(1, 3, n), 3), missing_rate),
        "can_afford_clinic": _blank(rng, ~poor | (rng.random(n) < 0.2), missing_rate),
        "head_occupation": _blank(rng, graded("head_occupation", 0.6), missing_rate),
        "land_area_m2": _blank(rng, np.round(rng.uniform(0, 2000, n), 0), missing_rate),
        "head_income_month": _blank(rng, (np.round(wealth * 6_000_000 + rng.normal(0, 300_000, n),
                                                   -3)).clip(0).astype(np.int64), missing_rate),
        "head_education": _blank(rng, graded("head_education", 0.45), missing_rate),
        "savings_value": _blank(rng, (np.round(wealth ** 3 * 20_000_000, -3)).astype(np.int64),
                                missing_rate),
        "owns_car": _blank(rng, wealth > 0.85, missing_rate / 2),
        "receives_pkh": (in_dtks & (desil <= 4) & (rng.random(n) < 0.5)) | (rng.random(n) < 0.01),
        "receives_bpnt": (in_dtks & (desil <= 3) & (rng.random(n) < 0.6)) | (rng.random(n) < 0.01),
        "receives_pbi": (in_dtks & (desil <= 5) & (rng.random(n) < 0.7)),
    }
    schema_h = {
        "id": pa.string(), "kecamatan": pa.string(), "kelurahan": pa.string(),
        "in_dtks": pa.bool_(), "desil": pa.int64(), "floor_area_m2": pa.float64(),
        "meat_milk_per_week": pa.int64(), "new_clothes_per_year": pa.int64(),
        "meals_per_day": pa.int64(), "can_afford_clinic": pa.bool_(), "land_area_m2": pa.float64(),
        "head_income_month": pa.int64(), "savings_value": pa.int64(), "owns_car": pa.bool_(),
        "receives_pkh": pa.bool_(), "receives_bpnt": pa.bool_(), "receives_pbi": pa.bool_(),
    }
    hh_table = pa.table({k: (v if isinstance(v, pa.Array) else
                             pa.array(v, type=schema_h.get(k, pa.string())))
                         for k, v in hh.items()})

    # -- persons -----------------------------------------------------------------------------
    total = int(size.sum())
    owner = np.repeat(np.arange(n), size)
    pos = np.arange(total) - np.repeat(np.cumsum(size) - size, size)
    head_age = rng.integers(22, 80, n)
    married = rng.random(n) < 0.8
    has_parent = (size >= 4) & (rng.random(n) < 0.15)
    rel = np.full(total, "child", dtype=object)
    rel[pos == 0] = "head"
    spouse = (pos == 1) & married[owner]
    rel[spouse] = "spouse"
    last_pos = pos == size[owner] - 1
    parent_slot = last_pos & has_parent[owner] & (pos >= 2)
    rel[parent_slot] = "parent"
    head_female = rng.random(n) < 0.2
    sex_female = np.where(rel == "head", head_female[owner],
                          np.where(rel == "spouse", ~head_female[owner], rng.random(total) < 0.5))
    age = np.where(rel == "head", head_age[owner],
                   np.where(rel == "spouse", np.clip(head_age[owner] + rng.integers(-8, 4, total),
                                                     18, 90),
                            np.where(rel == "parent", np.clip(head_age[owner] + rng.integers(20, 30,
                                                                                           total),
                                                             55, 99),
                                     np.clip(head_age[owner] - rng.integers(18, 40, total), 0,
                                             40))))
    birth = today - age * 365 - rng.integers(0, 365, total)
    birth_dates = [epoch + datetime.timedelta(days=int(b)) for b in birth]
    kec_of = (kec_idx[owner] + 1)
    serial_p = rng.integers(1, 9999, total)
    nik = [f"33750{k}{b.day + (40 if f else 0):02d}{b.month:02d}{b.year % 100:02d}{s:04d}"
           for k, b, f, s in zip(kec_of, birth_dates, sex_female, serial_p, strict=True)]
    # planted NIK problems
    bad = rng.random(total)
    for j in np.flatnonzero(bad < 0.002).tolist():  # wrong length
        nik[j] = nik[j][:15]
    for j in np.flatnonzero((bad >= 0.002) & (bad < 0.004)).tolist():  # sex disagrees
        sex_female[j] = not sex_female[j]
    for j in np.flatnonzero((bad >= 0.004) & (bad < 0.005)).tolist():  # impossible day
        nik[j] = nik[j][:6] + "35" + nik[j][8:]
    school = np.full(total, "none", dtype=object)
    school[(age >= 4) & (age < 6)] = "paud"
    school[(age >= 6) & (age < 12)] = "sd"
    school[(age >= 12) & (age < 15)] = "smp"
    school[(age >= 15) & (age < 18)] = "sma"
    school[(age >= 18) & (age < 23) & (rng.random(total) < 0.3)] = "higher"
    dropout = (age >= 6) & (age < 18) & (rng.random(total) < 0.08)
    school[dropout] = "none"
    dead = rng.random(total) < np.where(age > 70, 0.06, 0.004)
    death_day = today - rng.integers(1, 700, total)
    pregnant = sex_female & (age >= 18) & (age <= 42) & (rng.random(total) < 0.05)
    disability = _choice(rng, ["none", "mild", "moderate", "severe"], total,
                         [0.93, 0.035, 0.02, 0.015])
    is_asn = (rel == "head") & (np.asarray(hh["head_occupation"], dtype=object)[owner]
                                == "civil_servant")
    income = np.where(age >= 18, (wealth[owner] * 4_000_000 * rng.random(total)).round(-3),
                      0).astype(np.int64)
    first = np.where(sex_female, _choice(rng, _FIRST_F, total), _choice(rng, _FIRST_M, total))
    last = _choice(rng, _LAST, total)
    names = [f"{a} {b}".strip() for a, b in zip(first, last, strict=True)]
    death_dates = pa.array(np.where(dead, death_day, 0).astype("int32")).cast(pa.date32())
    death_dates = pa.array([d if x else None for d, x in
                            zip(death_dates.to_pylist(), dead, strict=True)], type=pa.date32())
    persons = pa.table({
        "nik": pa.array(nik, type=pa.string()),
        "household_id": pa.array([hh_id[i] for i in owner], type=pa.string()),
        "name": pa.array(names, type=pa.string()),
        "sex": pa.array(np.where(sex_female, "female", "male").tolist(), type=pa.string()),
        "birth_date": _dates(np.asarray(birth)),
        "relationship": pa.array(rel.tolist(), type=pa.string()),
        "is_alive": pa.array((~dead).tolist(), type=pa.bool_()),
        "death_date": death_dates,
        "is_pregnant": pa.array(pregnant.tolist(), type=pa.bool_()),
        "disability": pa.array(disability.tolist(), type=pa.string()),
        "school_level": pa.array(_blank(rng, school, missing_rate / 2), type=pa.string()),
        "is_asn": pa.array(is_asn.tolist(), type=pa.bool_()),
        "income_month": pa.array(income.tolist(), type=pa.int64()),
        # The national pack's other exclusion flags (fields.yaml): none in the demo city, drawn
        # without the generator so that every other column stays as it was.
        **{flag: pa.array([False] * total, type=pa.bool_())
           for flag in ("is_tni_polri", "is_certified_teacher", "is_village_official",
                        "is_company_owner")},
    })

    return City(hh_table, persons, _institutions(rng, institutions, today, epoch), as_of,
                _death_register(rng, persons, today, epoch))


def _death_register(rng: np.random.Generator, persons: pa.Table, today: int,
                    epoch: datetime.date) -> pa.Table:
    """Deaths recorded by the civil registry that the household data does not show yet."""
    alive = np.flatnonzero(np.asarray(persons.column("is_alive").to_pylist(), dtype=bool))
    n = len(alive)
    by_nik = rng.choice(alive, size=max(1, n // 400), replace=False)
    rest = np.setdiff1d(alive, by_nik)
    by_name = rng.choice(rest, size=max(1, n // 2000), replace=False)
    nik = persons.column("nik").to_pylist()
    name = persons.column("name").to_pylist()
    birth = persons.column("birth_date").to_pylist()
    rows: list[dict[str, Any]] = []
    for i in by_nik.tolist():
        rows.append({"nik": nik[i], "name": name[i], "birth_date": birth[i]})
    for i in by_name.tolist():  # the NIK was mistyped at the registry: last digits differ
        typo = nik[i][:12] + f"{(int(nik[i][12:] or 0) + 1) % 10000:04d}" \
            if len(nik[i]) == 16 and nik[i].isdigit() else nik[i]
        rows.append({"nik": typo, "name": name[i].upper(), "birth_date": birth[i]})
    for k in range(max(1, n // 1000)):  # people of other cities
        rows.append({"nik": f"3326{rng.integers(10**11, 10**12 - 1)}",
                     "name": f"Warga Luar {k + 1}",
                     "birth_date": epoch + datetime.timedelta(days=int(rng.integers(0, 20000)))})
    days = today - rng.integers(5, 400, len(rows))
    for j, row in enumerate(rows):
        row["death_date"] = epoch + datetime.timedelta(days=int(days[j]))
        row["certificate_number"] = f"3375-KM-{j + 1:06d}"
    order = rng.permutation(len(rows)).tolist()
    return pa.Table.from_pylist([rows[j] for j in order], schema=pa.schema([
        ("nik", pa.string()), ("name", pa.string()), ("birth_date", pa.date32()),
        ("death_date", pa.date32()), ("certificate_number", pa.string())]))


def _institutions(rng: np.random.Generator, n: int, today: int,
                  epoch: datetime.date) -> pa.Table:
    kels = [k for _, (_, ks) in KECAMATAN.items() for k in ks]
    legal = rng.random(n) < 0.6

    def date_or_none(days: np.ndarray, present: np.ndarray) -> pa.Array:
        return pa.array([epoch + datetime.timedelta(days=int(d)) if p else None
                         for d, p in zip(days, present, strict=True)], type=pa.date32())

    # A spread of maturity: most LKS are on record with their papers, fewer are registered
    # with complete documents, and a handful are accredited, well reported legal entities.
    maturity = rng.random(n)
    registered = maturity > 0.2
    accredited = legal & (maturity > 0.55)
    return pa.table({
        "id": [f"LKS-3375-{i + 1:03d}" for i in range(n)],
        "name": [f"LKS {name}" for name in _choice(rng, ["Al Ikhlas", "Bina Sejahtera",
                                                         "Harapan Bangsa", "Mutiara Hati",
                                                         "Dharma Wanita", "Kasih Ibu",
                                                         "Nurul Iman", "Sido Makmur"], n)],
        "kelurahan": _choice(rng, kels, n).tolist(),
        "founded": pa.array((today - rng.integers(200, 25 * 365, n)).astype("int32")
                            ).cast(pa.date32()),
        "legal_entity": legal.tolist(),
        "notarial_deed": (legal & (rng.random(n) < 0.95)).tolist(),
        "menkumham_approval": (legal & (rng.random(n) < 0.9)).tolist(),
        "npwp": [f"{rng.integers(10**14, 10**15)}" if x else None for x in legal],
        "founding_note_legalised": (~legal & (rng.random(n) < 0.8)).tolist(),
        "ad_art": (maturity > 0.1).tolist(),
        "officers_complete": (maturity > 0.15).tolist(),
        "work_programme": (maturity > 0.1).tolist(),
        "domicile_letter_date": date_or_none(today - rng.integers(0, 330, n), maturity > 0.1),
        "registration_number": [f"460/{i + 1:03d}/2022" if r else None
                                for i, r in enumerate(registered)],
        "registration_date": date_or_none(today - rng.integers(0, 3 * 365 - 30, n), registered),
        "accreditation_grade": pa.array(np.where(accredited, _choice(rng, ["A", "B", "C"], n,
                                                                     [0.4, 0.4, 0.2]),
                                                 "none").tolist()),
        "accreditation_date": date_or_none(today - rng.integers(0, 3 * 365 - 30, n), accredited),
        "staff_count": rng.integers(2, 30, n).tolist(),
        "social_workers": np.where(maturity > 0.4, rng.integers(1, 5, n), 0).tolist(),
        "clients_per_year": np.where(maturity > 0.4, rng.integers(20, 200, n),
                                     rng.integers(0, 20, n)).tolist(),
        "active_programmes": np.where(maturity > 0.15, rng.integers(1, 6, n), 0).tolist(),
        "funding_sources": np.where(maturity > 0.6, rng.integers(2, 5, n), 1).tolist(),
        "reports_last_3_years": np.where(maturity > 0.6, 3,
                                         np.where(maturity > 0.4, 2, rng.integers(0, 2, n))
                                         ).tolist(),
    })
