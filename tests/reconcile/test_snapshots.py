"""Comparing two monthly snapshots: who entered, who left, what changed and why."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from welfare_rules.demo import City
from welfare_rules.engine import Engine
from welfare_rules.masking import mask_id
from welfare_rules.recipients.snapshots import (
    Snapshot,
    compare_snapshots,
    rule_inputs,
    take_snapshot,
)

from .conftest import rows


def _set(table: pa.Table, column: str, index: list[int], value: object) -> pa.Table:
    values = table[column].to_pylist()
    for i in index:
        values[i] = value
    return table.set_column(table.column_names.index(column), column,
                            pa.array(values, table.schema.field(column).type))


def test_entered_left_and_changed_with_the_data_change_behind_each(
        engine: Engine, city: City, snapshot: Snapshot) -> None:
    hh = city.households
    ids = hh["id"].to_pylist()
    # next month: 5 families gone, desil of 10 poorer, one member of another family died
    desil = hh["desil"].to_pylist()
    moved = [i for i, d in enumerate(desil) if d is not None and d >= 6][:10]
    new_hh = _set(hh, "desil", moved, 1).slice(5)
    pp = city.persons
    heads = [i for i, r in enumerate(rows(pp)) if r["relationship"] == "head"
             and r["is_alive"] and r["household_id"] not in set(ids[:5] + [ids[i]
                                                                          for i in moved])]
    died = heads[0]
    new_pp = _set(pp, "is_alive", [died], False)
    new = take_snapshot(engine, new_hh, new_pp, as_of=city.as_of, backend="python")
    diff = compare_snapshots(snapshot, new, engine=engine, old_members=pp, new_members=new_pp,
                             unmask=True)
    assert diff.left["household_id_unmasked"].to_pylist() == sorted(ids[:5])
    assert diff.entered.num_rows == 0
    changed = rows(diff.changed)
    by_house: dict[str, list[dict[str, object]]] = {}
    for c in changed:
        by_house.setdefault(str(c["household_id_unmasked"]), []).append(c)
    assert set(by_house) <= {ids[i] for i in moved} | {pp["household_id"][died].as_py()}
    for i in moved:
        for c in by_house.get(ids[i], []):
            assert c["cause"] == "data"
            assert f"desil: {desil[i]} → 1" in str(c["fields"])
    # a desil change makes someone eligible for BPNT (desil ≤ 3) among the 10
    assert any(c["rule"] == "bpnt_eligible" and c["change"] == "gained" for c in changed)
    dead_house = pp["household_id"][died].as_py()
    nik = pp["nik"][died].as_py()
    for c in by_house[dead_house]:
        assert c["cause"] == "data"
        assert f"member {mask_id(nik)} is_alive: true → false" in str(c["fields"])
    assert {c["rule"] for c in by_house[dead_house]} >= {"no_head"}
    summary = {(r["rule"], r["change"]): r["records"] for r in rows(diff.summary())}
    assert summary[("*", "left")] == 5
    # masked by default
    plain = compare_snapshots(snapshot, new, engine=engine)
    assert "household_id_unmasked" not in plain.changed.column_names
    assert all(h == mask_id(u) for h, u in zip(plain.changed["household_id"].to_pylist(),
                                               diff.changed["household_id_unmasked"].to_pylist(),
                                               strict=True))


def test_a_change_without_a_data_change_is_blamed_on_the_rules_or_the_date(
        engine: Engine, city: City, snapshot: Snapshot) -> None:
    what_if = Engine.load(parameters={"pkh.max_desil": 2, "bpnt.max_desil": 2})
    new = take_snapshot(what_if, city.households, city.persons, as_of=city.as_of,
                        backend="python")
    diff = compare_snapshots(snapshot, new, engine=what_if, rules=["pkh_eligible"])
    assert diff.changed.num_rows > 0
    assert set(diff.changed["cause"].to_pylist()) == {"rules or parameters"}
    # stricter: nobody gains (unknown → false is "changed")
    assert "lost" in set(diff.changed["change"].to_pylist()) <= {"lost", "changed"}
    later = take_snapshot(engine, city.households, city.persons,
                          as_of=city.as_of + datetime.timedelta(days=400), backend="python")
    aged = compare_snapshots(snapshot, later, engine=engine, rules=["stale_verification"])
    assert aged.changed.num_rows > 0
    assert set(aged.changed["cause"].to_pylist()) == {"date"}


def test_rule_inputs_follow_criteria_indicators_and_member_rules(engine: Engine) -> None:
    ri = rule_inputs(engine, "priority_score")
    assert {"desil", "floor_area_m2"} <= ri.fields
    assert {"birth_date", "disability", "is_pregnant"} <= ri.member_fields
    assert ri.members
    assert ri.as_of


def test_a_snapshot_saves_and_loads(snapshot: Snapshot, tmp_path: Path) -> None:
    path = snapshot.save(tmp_path / "2024-07.parquet")
    back = Snapshot.load(path)
    assert back.results.equals(snapshot.results)
    assert back.findings.equals(snapshot.findings)
    assert (back.as_of, back.fingerprint, back.rules) == (
        snapshot.as_of, snapshot.fingerprint, snapshot.rules)
    assert pc.sum(back.results["member_count"]).as_py() > 0
