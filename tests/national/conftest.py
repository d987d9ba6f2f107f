"""Fixtures for the national rule pack tests: one engine shared by the module, record builders."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from welfare_rules import Engine

AS_OF = datetime.date(2024, 1, 1)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load()


def nik(birth: datetime.date, sex: str = "male", serial: int = 1, region: str = "337501") -> str:
    """A NIK consistent with the birth date and sex (day + 40 for women)."""
    day = birth.day + (40 if sex == "female" else 0)
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def person(birth: datetime.date, sex: str = "male", serial: int = 1, relationship: str = "child",
           **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "nik": nik(birth, sex, serial), "name": f"Anggota {serial}", "sex": sex,
        "birth_date": birth, "relationship": relationship, "is_alive": True,
        "is_pregnant": False, "disability": "none", "school_level": "none", "is_asn": False}
    rec.update(fields)
    return rec


#: A household meeting all 14 BPS criteria, in the DTKS, decile 1.
POOR: dict[str, Any] = {
    "id": "3375010101240001", "in_dtks": True, "desil": 1,
    "last_verified": datetime.date(2023, 6, 1),
    "floor_area_m2": 12, "floor_type": "earth", "wall_type": "bamboo", "toilet": "none",
    "electricity": "none", "water_source": "river", "cooking_fuel": "firewood",
    "meat_milk_per_week": 1, "new_clothes_per_year": 1, "meals_per_day": 2,
    "can_afford_clinic": False, "head_occupation": "farm_labourer", "land_area_m2": 0,
    "head_income_month": 400000, "head_education": "sd", "savings_value": 100000,
    "owns_car": False, "receives_pkh": False, "receives_bpnt": False, "receives_pbi": False,
}

#: For each criterion (1-14), the answers that make it false.
NOT_MET: dict[int, dict[str, Any]] = {
    1: {"floor_area_m2": 100}, 2: {"floor_type": "ceramic"}, 3: {"wall_type": "plastered_brick"},
    4: {"toilet": "private"}, 5: {"electricity": "pln_450"}, 6: {"water_source": "piped"},
    7: {"cooking_fuel": "lpg"}, 8: {"meat_milk_per_week": 3}, 9: {"new_clothes_per_year": 3},
    10: {"meals_per_day": 3}, 11: {"can_afford_clinic": True},
    12: {"head_occupation": "trader", "head_income_month": 2000000},
    13: {"head_education": "sma"}, 14: {"savings_value": 5000000},
}

#: For each criterion, the field whose absence makes it unknown (on top of NOT_MET).
UNKNOWN_FIELD = {1: "floor_area_m2", 2: "floor_type", 3: "wall_type", 4: "toilet",
                 5: "electricity", 6: "water_source", 7: "cooking_fuel", 8: "meat_milk_per_week",
                 9: "new_clothes_per_year", 10: "meals_per_day", 11: "can_afford_clinic",
                 12: "head_income_month", 13: "head_education", 14: "savings_value"}


def household(met: range | tuple[int, ...] = tuple(range(1, 15)), unknown: tuple[int, ...] = (),
              members: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """A household meeting exactly the criteria in ``met``; those in ``unknown`` are blank."""
    rec = dict(POOR)
    for i in range(1, 15):
        if i not in met:
            rec.update(NOT_MET[i])
    for i in unknown:
        rec.pop(UNKNOWN_FIELD[i], None)
    rec.update(fields)
    rec["members"] = members if members is not None else [
        person(datetime.date(1980, 1, 1), "male", 1, "head"),
        person(datetime.date(1985, 5, 5), "female", 2, "spouse")]
    return rec
