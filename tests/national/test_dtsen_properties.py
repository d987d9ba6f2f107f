"""Properties of the DTSEN era and the layered minimum wage, for every generated household."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules import Engine
from welfare_rules.testing.strategies import households

SWITCH = datetime.date(2025, 2, 5)
NATIONAL = Engine.load()
CITY = Engine.load(plugins=["kota-pekalongan"])

dtsen_days = st.dates(SWITCH, datetime.date(2025, 12, 31))
dtks_days = st.dates(datetime.date(2021, 1, 1), SWITCH - datetime.timedelta(days=1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hh=households(NATIONAL, max_members=3), as_of=dtsen_days)
def test_in_the_dtsen_a_listed_family_without_a_decile_is_unknown_and_reported(
        hh: dict, as_of: datetime.date) -> None:
    hh = {**hh, "in_dtks": True, "desil": None}
    d = NATIONAL.evaluate("household", hh, as_of=as_of)
    assert d.value("register_in_force") == "DTSEN"
    assert "no_dtsen_decile" in {f.check for f in d.findings}
    for rid in ("pkh_desil_dtsen", "bpnt_desil_dtsen", "pbi_desil_dtsen"):
        assert d.status(rid) == "unknown", rid
    assert d.value("pbi_eligible") is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hh=households(NATIONAL, max_members=3), as_of=dtks_days)
def test_before_the_dtsen_no_family_gets_the_dtsen_decile_finding(
        hh: dict, as_of: datetime.date) -> None:
    d = NATIONAL.evaluate("household", hh, as_of=as_of)
    assert d.value("register_in_force") == "DTKS"
    assert "no_dtsen_decile" not in {f.check for f in d.findings}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hh=households(CITY, max_members=2),
       as_of=st.dates(datetime.date(2022, 1, 1), datetime.date(2025, 12, 31)))
def test_the_city_minimum_wage_is_never_below_the_provincial_ump(
        hh: dict, as_of: datetime.date) -> None:
    d = CITY.evaluate("household", hh, as_of=as_of)
    ump = CITY.parameter("jawa_tengah.ump").at(as_of)[0]
    wage = d.value("min_wage_month")
    assert wage is not None
    assert ump is not None
    assert wage >= ump


@pytest.mark.parametrize("desil", range(1, 11))
def test_the_pbi_cut_off_moves_from_4_to_5_on_the_switch_day(desil: int) -> None:
    hh = {"id": "3375010101240001", "in_dtks": True, "desil": desil, "members": []}
    before = NATIONAL.evaluate("household", hh, as_of=SWITCH - datetime.timedelta(days=1))
    after = NATIONAL.evaluate("household", hh, as_of=SWITCH)
    assert before.value("pbi_eligible") is (desil <= 4)
    assert after.value("pbi_eligible") is (desil <= 5)
