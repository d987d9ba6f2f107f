"""Rules not in force on the evaluation date are unknown, not errors."""

from __future__ import annotations

import datetime

from welfare_rules import Engine

HOUSEHOLD = {
    "id": "3375010101010001", "in_dtks": True, "desil": 2,
    "members": [{"nik": "3375010101150001", "birth_date": datetime.date(2015, 1, 1),
                 "is_alive": True, "school_level": "sd", "sex": "male", "is_pregnant": False,
                 "disability": "none"}],
}


def test_pkh_rules_are_unknown_before_their_sourced_amounts_start() -> None:
    """PKH amounts are sourced from 2021: in 2019 PKH is unknown while BPNT still decides."""
    engine = Engine.load()
    d = engine.evaluate("household", HOUSEHOLD, as_of=datetime.date(2019, 6, 1))
    assert (None, "unknown") == (d.value("pkh_eligible"), d.status("pkh_eligible"))
    assert d.in_force("pkh_eligible") is False
    assert d.value("bpnt_eligible") is True
    assert "not in force on 1 June 2019" in d.explain("pkh_eligible", lang="en")


def test_pkh_rules_decide_once_in_force() -> None:
    engine = Engine.load()
    d = engine.evaluate("household", HOUSEHOLD, as_of=datetime.date(2022, 6, 1))
    assert (True, 900_000) == (d.value("pkh_eligible"), d.value("pkh_benefit_year"))
