"""Reconciliation findings mask every identifier: the register's key and fields (review #8)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from welfare_rules.demo import City
from welfare_rules.engine import Engine
from welfare_rules.hookspecs import hookimpl
from welfare_rules.masking import mask_id
from welfare_rules.recipients.reconcile import ACTION_VERIFY, reconcile

from .conftest import recipients, rows


def _recipient(city: City) -> dict[str, Any]:
    recv = recipients(city)
    return next(p for p in rows(city.persons)
                if p["household_id"] in recv and isinstance(p["nik"], str)
                and len(p["nik"]) == 16 and p["nik"].isdigit())


def test_a_register_keyed_by_nik_shows_its_key_masked_in_the_findings_and_the_reason(
        engine: Engine, city: City) -> None:
    p = _recipient(city)
    asn = pa.table({"nik": [p["nik"]], "name": [p["name"]], "birth_date": [p["birth_date"]],
                    "agency": ["BKD"]})
    res = reconcile(engine, city.households, city.persons, registers={"civil_servant": asn},
                    as_of=city.as_of)
    [f] = [f for f in rows(res.findings) if f["match_type"] == "nik"]
    assert f["register_key"] == mask_id(p["nik"])
    assert p["nik"] not in str(rows(res.findings))
    unmasked = reconcile(engine, city.households, city.persons,
                         registers={"civil_servant": asn}, as_of=city.as_of, unmask=True)
    assert p["nik"] in {f["register_key"] for f in rows(unmasked.findings)}


class _HeadRegister:
    @hookimpl
    def register_registers(self, register: Any) -> None:
        register("family_card", {
            "title": "Family cards", "key": "card_number", "match": ["nik"],
            "fields": {"nik": "str", "nik_kepala": "str", "card_number": "str", "note": "str"},
            "action": ACTION_VERIFY, "severity": "info"})


def test_every_identifier_field_of_a_register_record_is_masked_and_digit_runs_elsewhere_too(
        city: City) -> None:
    engine = Engine.load(plugins=[_HeadRegister()])
    p = _recipient(city)
    short = p["nik"][:15]  # a malformed NIK of the head: not caught by a 16-digit scan
    note = "lapor " + p["nik"]
    reg = pa.table({"nik": [p["nik"]], "nik_kepala": [short], "card_number": ["KK-1"],
                    "note": [note]})
    res = reconcile(engine, city.households, city.persons, registers={"family_card": reg},
                    as_of=city.as_of)
    text = str(rows(res.findings))
    assert short not in text
    assert p["nik"] not in text
    assert mask_id(short) in text
