"""Reconciliation of a recipient list with registers: planted deaths, civil servants, plugins."""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from welfare_rules.demo import City
from welfare_rules.engine import Engine
from welfare_rules.errors import DataError, PluginError
from welfare_rules.hookspecs import hookimpl
from welfare_rules.masking import mask_id
from welfare_rules.recipients.reconcile import (
    ACTION_REMOVE,
    ACTION_STOP,
    ACTION_VERIFY,
    STATUS_EVIDENCE,
    STATUS_VERIFY,
    RegisterSpec,
    connect,
    load_registers,
    normalise_name,
    reconcile,
)

from .conftest import recipients, rows

DEATH_FIELDS = ("nik", "name", "birth_date", "death_date", "certificate_number")


class Population:
    """The city's people, indexed the way the expectations need."""

    def __init__(self, city: City):
        self.people = rows(city.persons)
        self.recv = recipients(city)
        counts = Counter(p["nik"] for p in self.people)
        self.known = {p["nik"] for p in self.people if _nik16(p["nik"])}
        self.living = Counter(p["household_id"] for p in self.people
                              if p["is_alive"] is not False)
        ok = [p for p in self.people if _nik16(p["nik"]) and counts[p["nik"]] == 1
              and p["name"] and p["birth_date"] and p["is_alive"] is not False]
        ok.sort(key=lambda p: p["nik"])
        self.usable = ok
        self.used: set[str] = set()
        self.fresh = (f"3375999{i:09d}" for i in range(10**6))

    def take(self, n: int, pred: Any) -> list[dict[str, Any]]:
        out = []
        for p in self.usable:
            if p["nik"] not in self.used and pred(p):
                out.append(p)
                self.used.add(p["nik"])
                if len(out) == n:
                    return out
        raise AssertionError("the fixture city has too few people of this kind")

    def head_or_sole(self, p: dict[str, Any]) -> bool:
        return p["relationship"] == "head" or self.living[p["household_id"]] - 1 == 0

    def new_nik(self) -> str:
        while True:
            nik = next(self.fresh)
            if nik not in self.known:
                return nik


def _nik16(v: Any) -> bool:
    return isinstance(v, str) and re.fullmatch(r"[0-9]{16}", v) is not None


DECORATE = (lambda n: f"Hj. {n.upper()},  S.Pd.", lambda n: f"  {n.lower()}  ",
            lambda n: f"Alm. {n}", lambda n: f"{n} S.E.", lambda n: f"BAPAK {n}",
            lambda n: n.replace(" ", "   "))


@pytest.fixture(scope="module")
def planted(city: City) -> dict[str, Any]:
    """A death register with a known set of recipients in it, and the expected findings."""
    pop = Population(city)
    as_of = city.as_of
    recv = pop.recv
    died = datetime.date(2024, 3, 15)
    register: list[dict[str, Any]] = []
    expect_evidence: set[tuple[str, str, str]] = set()
    expect_verify: set[tuple[str, str]] = set()

    def add(nik: str | None, name: str, bd: datetime.date, *, dd: datetime.date = died) -> str:
        key = f"AK-3375-{len(register) + 1:05d}"
        register.append({"nik": nik, "name": name, "birth_date": bd, "death_date": dd,
                         "certificate_number": key})
        return key

    # by NIK: heads of larger families, sole members, other members
    heads = pop.take(4, lambda p: p["household_id"] in recv and p["relationship"] == "head"
                     and pop.living[p["household_id"]] >= 2)
    soles = pop.take(3, lambda p: p["household_id"] in recv and pop.living[p["household_id"]]
                     == 1)
    members = pop.take(5, lambda p: p["household_id"] in recv and p["relationship"] != "head"
                       and pop.living[p["household_id"]] >= 2)
    for p in heads + soles:
        expect_evidence.add((p["nik"], add(p["nik"], p["name"], p["birth_date"]), ACTION_STOP))
    for p in members:
        expect_evidence.add((p["nik"], add(p["nik"], p["name"].upper(), p["birth_date"]),
                             ACTION_REMOVE))
    # by name and birth date only: another (unknown) NIK, or none
    for i, p in enumerate(pop.take(8, lambda p: p["household_id"] in recv)):
        nik = None if i >= 6 else pop.new_nik()
        expect_verify.add((p["nik"], add(nik, DECORATE[i % len(DECORATE)](p["name"]),
                                         p["birth_date"])))
    # recipients that must NOT be found: a death dated after as_of; a record whose NIK is a
    # known non-recipient although its name and birth date are a recipient's
    future = pop.take(1, lambda p: p["household_id"] in recv)[0]
    add(future["nik"], future["name"], future["birth_date"],
        dd=as_of + datetime.timedelta(days=30))
    namesake = pop.take(1, lambda p: p["household_id"] in recv)[0]
    other = pop.take(1, lambda p: p["household_id"] not in recv)[0]
    add(other["nik"], namesake["name"], namesake["birth_date"])
    # non-recipients (by NIK and by name) and unrelated people
    for p in pop.take(5, lambda p: p["household_id"] not in recv):
        add(p["nik"], p["name"], p["birth_date"])
    for p in pop.take(3, lambda p: p["household_id"] not in recv):
        add(pop.new_nik(), p["name"], p["birth_date"])
    for i in range(10):
        add(pop.new_nik(), f"Zakaria Testoni {i}", datetime.date(1940, 1, 1 + i))
    table = pa.Table.from_pylist(register, schema=pa.schema([
        ("nik", pa.string()), ("name", pa.string()), ("birth_date", pa.date32()),
        ("death_date", pa.date32()), ("certificate_number", pa.string())]))
    return {"register": table, "evidence": expect_evidence, "verify": expect_verify,
            "population": pop, "heads": heads, "soles": soles, "members": members}


def brute_force(pop: Population, register: pa.Table, as_of: datetime.date
                ) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """The expected findings, computed person by person in plain Python."""
    evidence, verify = set(), set()
    recs = [r for r in rows(register) if r["death_date"] is None or r["death_date"] <= as_of]
    people = [p for p in pop.people if p["household_id"] in pop.recv]
    for r in recs:
        for p in people:
            if _nik16(p["nik"]) and r["nik"] == p["nik"]:
                evidence.add((p["nik"], r["certificate_number"],
                              ACTION_STOP if pop.head_or_sole(p) else ACTION_REMOVE))
    matched = {n for n, _, _ in evidence}
    for r in recs:
        if r["nik"] in pop.known:
            continue
        for p in people:
            if p["nik"] in matched or not normalise_name(r["name"]):
                continue
            if normalise_name(p["name"]) == normalise_name(r["name"]) and \
                    p["birth_date"] == r["birth_date"]:
                verify.add((p["nik"], r["certificate_number"]))
    return evidence, verify


def found(res: Any) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    ev, ver = set(), set()
    for f in rows(res.findings):
        if f["status"] == STATUS_EVIDENCE:
            assert f["match_type"] == "nik"
            ev.add((f["nik_unmasked"], f["register_key"], f["action"]))
        else:
            assert (f["status"], f["match_type"], f["action"]) == (
                STATUS_VERIFY, "name_birth_date", ACTION_VERIFY)
            ver.add((f["nik_unmasked"], f["register_key"]))
    return ev, ver


def test_every_planted_death_is_found_with_the_right_action_and_nothing_else(
        engine: Engine, city: City, planted: dict[str, Any]) -> None:
    res = reconcile(engine, city.households, city.persons, registers={
        "death": planted["register"]}, as_of=city.as_of, unmask=True)
    evidence, verify = found(res)
    assert evidence == planted["evidence"]
    assert verify == planted["verify"]
    assert (evidence, verify) == brute_force(planted["population"], planted["register"],
                                             city.as_of)


def test_a_name_only_match_is_never_an_automatic_action(
        engine: Engine, city: City, planted: dict[str, Any]) -> None:
    res = reconcile(engine, city.households, city.persons,
                    registers={"death": planted["register"]}, as_of=city.as_of)
    for f in rows(res.findings):
        if f["match_type"] == "name_birth_date":
            assert f["action"] == ACTION_VERIFY
            assert f["status"] == STATUS_VERIFY
    stop = set(res.households(action=ACTION_STOP))
    expected = {p["household_id"] for p in planted["heads"] + planted["soles"]}
    assert stop == expected


def test_ids_are_masked_unless_asked_and_every_finding_carries_the_fingerprint(
        engine: Engine, city: City, planted: dict[str, Any]) -> None:
    res = reconcile(engine, city.households, city.persons,
                    registers={"death": planted["register"]}, as_of=city.as_of)
    assert "nik_unmasked" not in res.findings.column_names
    assert "household_id_unmasked" not in res.findings.column_names
    raw = {p["nik"] for p in planted["population"].people} | {
        h["id"] for h in rows(city.households)}
    fp = engine.fingerprint(city.as_of)
    for f in rows(res.findings):
        for value in f.values():
            for token in re.findall(r"[0-9]{16}", str(value)):
                assert token not in raw, f"an unmasked id in {f}"
        assert json.loads(f["fingerprint"]) == fp
        assert f["as_of"] == city.as_of
        record = json.loads(f["register_record"])
        assert set(record) == set(DEATH_FIELDS)
    unmasked = reconcile(engine, city.households, city.persons,
                         registers={"death": planted["register"]}, as_of=city.as_of,
                         unmask=True)
    for f in rows(unmasked.findings):
        assert f["nik"] == mask_id(f["nik_unmasked"])
        assert f["household_id"] == mask_id(f["household_id_unmasked"])


def test_a_register_file_is_read_through_the_adapters(
        engine: Engine, city: City, planted: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "kematian.csv"
    bad = pa.Table.from_pylist([{"nik": "3375000000000001", "name": "Bad Date",
                                 "birth_date": None, "death_date": None,
                                 "certificate_number": "X"}],
                               schema=planted["register"].schema)
    pacsv.write_csv(pa.concat_tables([planted["register"], bad]), path)
    text = path.read_text(encoding="utf-8").splitlines()
    text[-1] = text[-1].replace('"X"', '"X"').replace(",,", ",31-02-2024,", 1)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    res = reconcile(engine, city.households, city.persons, registers={"death": str(path)},
                    as_of=city.as_of, unmask=True)
    evidence, verify = found(res)
    assert (evidence, verify) == (planted["evidence"], planted["verify"])
    assert res.loads["death"].rows_quarantined == 1
    assert res.quarantine.num_rows == 1
    assert {f["register_source"] for f in rows(res.findings)} == {str(path)}


def test_freed_places_count_families_whose_payment_stops(
        engine: Engine, city: City, planted: dict[str, Any]) -> None:
    res = reconcile(engine, city.households, city.persons,
                    registers={"death": planted["register"]}, as_of=city.as_of)
    hh = {h["id"]: h for h in rows(city.households)}
    expected: Counter[tuple[str, str]] = Counter()
    for hid in {p["household_id"] for p in planted["heads"] + planted["soles"]}:
        for prog in ("pkh", "bpnt", "pbi"):
            if hh[hid][f"receives_{prog}"]:
                expected[(prog, hh[hid]["kelurahan"])] += 1
    got = {(r["programme"], r["kelurahan"]): r["places"] for r in rows(res.freed_places())}
    assert got == dict(expected)


def test_civil_servant_matches_are_evidence_to_verify(engine: Engine, city: City) -> None:
    pop = Population(city)
    head = pop.take(1, lambda p: p["household_id"] in pop.recv and p["relationship"] == "head"
                    and pop.living[p["household_id"]] >= 2)[0]
    member = pop.take(1, lambda p: p["household_id"] in pop.recv
                      and p["relationship"] == "spouse")[0]
    by_name = pop.take(1, lambda p: p["household_id"] in pop.recv)[0]
    outsider = pop.take(1, lambda p: p["household_id"] not in pop.recv)[0]
    asn = pa.Table.from_pylist([
        {"nik": head["nik"], "name": head["name"], "birth_date": head["birth_date"],
         "agency": "Dinas Pendidikan"},
        {"nik": member["nik"], "name": member["name"], "birth_date": member["birth_date"],
         "agency": "RSUD Bendan"},
        {"nik": None, "name": "Drs. " + by_name["name"], "birth_date": by_name["birth_date"],
         "agency": "Kecamatan"},
        {"nik": outsider["nik"], "name": outsider["name"], "birth_date": outsider["birth_date"],
         "agency": "Satpol PP"},
    ])
    res = reconcile(engine, city.households, city.persons, registers={"civil_servant": asn},
                    as_of=city.as_of, unmask=True)
    got = {(f["nik_unmasked"], f["match_type"], f["status"], f["severity"], f["action"])
           for f in rows(res.findings)}
    assert got == {
        (head["nik"], "nik", STATUS_EVIDENCE, "error", ACTION_VERIFY),
        (member["nik"], "nik", STATUS_EVIDENCE, "warning", ACTION_VERIFY),
        (by_name["nik"], "name_birth_date", STATUS_VERIFY, "warning", ACTION_VERIFY),
    }
    assert res.freed_places().num_rows == 0


class VehiclePlugin:
    """A regional plugin declaring two registers of its own."""

    PLUGIN_NAME = "test-registers"
    LAYER = "city"

    @hookimpl
    def register_registers(self, register: Any) -> None:
        register("vehicle_owner", {
            "title": {"id": "Pemilik kendaraan (Samsat)", "en": "Vehicle owners (Samsat)"},
            "fields": {"nik": "str", "plate": "str", "vehicle": "str"},
            "key": "plate", "match": ["nik"], "action": ACTION_VERIFY, "severity": "warning"})
        register("pln_non_subsidised", {
            "title": "PLN non-subsidised customers",
            "fields": {"household_id": "str", "customer_id": "str", "va": "int"},
            "key": "customer_id", "match": ["household_id"], "action": ACTION_VERIFY,
            "severity": "info"})


def test_registers_declared_by_a_plugin_are_matched_on_their_declared_key(city: City) -> None:
    engine = Engine.load(plugins=[VehiclePlugin()])
    specs = load_registers(engine)
    assert {"death", "civil_servant", "vehicle_owner", "pln_non_subsidised"} <= set(specs)
    assert specs["vehicle_owner"].plugin == "test-registers"
    pop = Population(city)
    owner = pop.take(1, lambda p: p["household_id"] in pop.recv)[0]
    stranger = pop.take(1, lambda p: p["household_id"] not in pop.recv)[0]
    family = sorted(pop.recv)[0]
    vehicles = pa.table({"nik": [owner["nik"], stranger["nik"]], "plate": ["G 1234 AB", "G 1"],
                         "vehicle": ["car", "car"]})
    pln = pa.table({"household_id": [family, "3375000000000000"], "customer_id": ["5101", "5"],
                    "va": [2200, 1300]})
    res = reconcile(engine, city.households, city.persons,
                    registers={"vehicle_owner": vehicles, "pln_non_subsidised": pln},
                    as_of=city.as_of, unmask=True)
    got = {(f["register"], f["match_type"], f["household_id_unmasked"], f["nik_unmasked"],
            f["register_key"], f["severity"]) for f in rows(res.findings)}
    assert got == {
        ("vehicle_owner", "nik", owner["household_id"], owner["nik"], "G 1234 AB", "warning"),
        ("pln_non_subsidised", "household_id", family, None, "5101", "info"),
    }


def test_a_register_clash_without_overrides_names_both_plugins() -> None:
    class Clash:
        PLUGIN_NAME = "clasher"
        LAYER = "city"

        @hookimpl
        def register_registers(self, register: Any) -> None:
            register("death", {"match": ["nik"], "action": ACTION_STOP})

    with pytest.raises(PluginError, match=r"welfare-rules-national.*clasher"):
        load_registers(Engine.load(plugins=[Clash()]))


def test_invalid_register_declarations_are_refused() -> None:
    with pytest.raises(PluginError, match="match keys"):
        RegisterSpec.from_mapping("x", {"match": ["plate"]})
    with pytest.raises(PluginError, match="action 'pay more'"):
        RegisterSpec.from_mapping("x", {"action": "pay more"})
    with pytest.raises(PluginError, match="key 'plate'"):
        RegisterSpec.from_mapping("x", {"key": "plate"})


def test_an_unknown_register_is_a_data_error(engine: Engine, city: City) -> None:
    with pytest.raises(DataError, match=r"unknown register 'deaths'.*did you mean 'death'"):
        reconcile(engine, city.households, city.persons, registers={"deaths": pa.table({})},
                  as_of=city.as_of)


@pytest.mark.parametrize("name", [
    "Hj. SITI  Rahayu, S.Pd.", "Budi Santoso S.Pd.", "Ma'ruf Amin", "H. Slamet", "Almh. Sri",
    "  DRS. IR. Bambang   Wibowo, M.M.", "", "Nur", "Muhammad Rizky A.Md.", "Ibu Dewi-Sari",
])
def test_names_normalise_the_same_in_python_and_duckdb(name: str) -> None:
    con = connect()
    sql = con.execute("SELECT wr_norm_name(?)", [name]).fetchone()
    assert sql is not None
    assert sql[0] == normalise_name(name)


def test_name_normalisation_drops_case_spaces_and_honorifics() -> None:
    assert normalise_name("Hj. SITI  Rahayu, S.Pd.") == "siti rahayu"
    assert normalise_name("BAPAK Budi Santoso S.E.") == "budi santoso"
    assert normalise_name(None) == ""


@pytest.mark.parametrize("value", ["3375011234567890", "12345678", "123456789", "", "abc"])
def test_the_sql_mask_is_mask_id(value: str) -> None:
    con = connect()
    got = con.execute("SELECT wr_mask(?)", [value]).fetchone()
    assert got is not None
    assert got[0] == mask_id(value)
