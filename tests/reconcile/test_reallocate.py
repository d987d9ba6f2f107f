"""Reallocation: freed places go to the highest-priority eligible non-recipients."""

from __future__ import annotations

import datetime
import re
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from welfare_rules.demo import City
from welfare_rules.engine import Engine
from welfare_rules.hookspecs import hookimpl
from welfare_rules.recipients.reallocate import indicator_weights, propose_reallocation, quota_table
from welfare_rules.recipients.reconcile import Reconciliation, reconcile
from welfare_rules.recipients.snapshots import Snapshot, take_snapshot

from .conftest import rows

PROGRAMMES = ("pkh", "bpnt", "pbi")


def brute_force(results: pa.Table, programme: str, kelurahan: str, places: int,
                exclude: set[str], score: Any = None) -> list[str]:
    """The top ``places`` candidates, ranked in plain Python (score desc, desil asc, id)."""
    cands = []
    for r in rows(results):
        s = score(r) if score is not None else r["priority_score"]
        if (r["kelurahan"] == kelurahan and r[f"{programme}_eligible"] is True
                and not r[f"receives_{programme}"] and r["id"] not in exclude
                and s is not None):
            cands.append((-s, r["desil"] if r["desil"] is not None else 99, r["id"]))
    return [c[2] for c in sorted(cands)[:places]]


@pytest.fixture(scope="module")
def reconciliation(engine: Engine, city: City) -> Reconciliation:
    """Deaths of the heads of 30 recipient families spread over the city."""
    hh = {h["id"]: h for h in rows(city.households)}
    heads = [p for p in rows(city.persons) if p["relationship"] == "head"
             and p["household_id"] in hh and re.fullmatch(r"[0-9]{16}", p["nik"] or "")
             and (hh[p["household_id"]]["receives_pkh"] or hh[p["household_id"]]["receives_bpnt"])]
    heads = heads[::max(1, len(heads) // 30)][:30]
    death = pa.table({
        "nik": [p["nik"] for p in heads], "name": [p["name"] for p in heads],
        "birth_date": pa.array([p["birth_date"] for p in heads], pa.date32()),
        "death_date": pa.array([datetime.date(2024, 5, 1)] * len(heads), pa.date32()),
        "certificate_number": [f"AK-{i}" for i in range(len(heads))]})
    return reconcile(engine, city.households, city.persons, registers={"death": death},
                     as_of=city.as_of, unmask=True)


def proposed(table: pa.Table) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows(table):
        if r["role"] == "proposed":
            out[(r["programme"], r["kelurahan"])].append(r["household_id_unmasked"])
    return dict(out)


def test_freed_places_are_filled_exactly_with_the_highest_priority_households(
        engine: Engine, snapshot: Snapshot, reconciliation: Reconciliation,
        city: City) -> None:
    freed = rows(reconciliation.freed_places())
    assert sum(r["places"] for r in freed) >= 30
    prop = propose_reallocation(engine, snapshot, reconciliation, members=city.persons,
                                unmask=True)
    exclude = set(reconciliation.households())
    got = proposed(prop.table)
    for r in freed:
        want = brute_force(snapshot.results, r["programme"], r["kelurahan"], r["places"],
                           exclude)
        assert len(want) == r["places"], "the fixture should have enough candidates"
        assert got[(r["programme"], r["kelurahan"])] == want
    assert set(got) == {(r["programme"], r["kelurahan"]) for r in freed}
    for s in rows(prop.summary):
        assert s["proposed"] == s["places"]
        assert s["unfilled"] == 0
    # a stopped family is never proposed back, and every row explains itself
    for r in rows(prop.table):
        assert r["household_id_unmasked"] not in exclude
        assert r["explanation"].startswith(f"rank {r['rank']} of {r['candidates']}")
        assert "× " in r["breakdown"]


def test_places_and_reserves_follow_the_quota_table(engine: Engine, snapshot: Snapshot) -> None:
    quota = quota_table({("pkh", "Medono"): 3, ("bpnt", "Tirto"): 2, ("pbi", "Klego"): 10_000})
    prop = propose_reallocation(engine, snapshot, quota, reserves=2, unmask=True)
    for prog, kel, n in (("pkh", "Medono", 3), ("bpnt", "Tirto", 2)):
        sel = [r for r in rows(prop.table) if (r["programme"], r["kelurahan"]) == (prog, kel)]
        ranked = brute_force(snapshot.results, prog, kel, n + 2, set())
        assert [r["household_id_unmasked"] for r in sel] == ranked
        assert [r["role"] for r in sel] == ["proposed"] * n + ["reserve"] * 2
        assert [r["place"] for r in sel] == [*range(1, n + 1), None, None]
    klego = next(s for s in rows(prop.summary) if s["kelurahan"] == "Klego")
    assert klego["proposed"] == klego["candidates"] < 10_000
    assert klego["unfilled"] == 10_000 - klego["candidates"]


def test_ties_are_broken_by_desil_then_household_id(engine: Engine) -> None:
    results = pa.table({
        "id": ["3375000000000004", "3375000000000003", "3375000000000002", "3375000000000001",
               "3375000000000005"],
        "kelurahan": ["Medono"] * 5, "kecamatan": ["Pekalongan Barat"] * 5,
        "desil": [2, 1, 2, None, 1],
        "pkh_eligible": [True, True, True, True, None],
        "receives_pkh": [False] * 5,
        "priority_score": [20.0, 20.0, 20.0, 20.0, 99.0],
    })
    prop = propose_reallocation(engine, results, quota_table({("pkh", "Medono"): 4}),
                                as_of=datetime.date(2024, 7, 1), unmask=True, reserves=0)
    assert [r["household_id_unmasked"] for r in rows(prop.table)] == [
        "3375000000000003", "3375000000000002", "3375000000000004", "3375000000000001"]
    assert all("same score" in r["explanation"] for r in rows(prop.table))


def test_the_eligibility_pattern_is_taken_literally_but_for_programme(engine: Engine) -> None:
    """``eligible_rule`` names the eligibility column with ``{programme}`` filled in; nothing
    else in it is a format field (review #29: it was ``str.format``'ed, so
    ``{programme.__class__}`` reached the attributes of the programme's name and any other
    ``{x}`` raised a bare KeyError)."""
    from welfare_rules.errors import DataError

    ids = ["3375000000000001", "3375000000000002"]
    results = pa.table({"id": ids, "kelurahan": ["Medono"] * 2,
                        "kecamatan": ["Pekalongan Barat"] * 2, "desil": [1, 2],
                        "elig_pkh_{x}": [True, False], "receives_pkh": [False] * 2,
                        "priority_score": [20.0, 10.0]})
    quota = quota_table({("pkh", "Medono"): 1})
    prop = propose_reallocation(engine, results, quota, as_of=datetime.date(2024, 7, 1),
                                unmask=True, reserves=0, eligible_rule="elig_{programme}_{x}")
    assert [r["household_id_unmasked"] for r in rows(prop.table)] == ids[:1]
    with pytest.raises(DataError) as info:
        propose_reallocation(engine, results, quota, as_of=datetime.date(2024, 7, 1),
                             eligible_rule="{programme.__class__}")
    assert str(info.value) == ("the results table has no column '{programme.__class__}' "
                               "(eligibility for pkh)")


class HeavierDecile:
    """A regional plugin that weighs a low decile ten times more."""

    PLUGIN_NAME = "test-priority"
    LAYER = "city"

    def __init__(self, folder: Path):
        self.folder = folder
        (folder / "priority.yaml").write_text(textwrap.dedent("""\
            weight:
              low_desil:
                overrides: true
                title: {id: Bobot desil rendah (kota), en: Weight of a low decile (city)}
                values:
                  2011-01-01: 10
            """), encoding="utf-8")

    @hookimpl
    def register_parameters(self, register: Any) -> None:
        register(self.folder)


def test_a_plugin_parameter_changes_the_ranking_as_expected(
        engine: Engine, snapshot: Snapshot, city: City, tmp_path: Path) -> None:
    local = Engine.load(plugins=[HeavierDecile(tmp_path)])
    w_nat = {rid: w for rid, _, w in indicator_weights(engine, "priority_score", city.as_of)}
    w_loc = {rid: w for rid, _, w in indicator_weights(local, "priority_score", city.as_of)}
    assert w_loc == {**w_nat, "priority_low_desil": 10.0}
    assert local.fingerprint(city.as_of)["digest"] != engine.fingerprint(city.as_of)["digest"]
    snap = take_snapshot(local, city.households, city.persons, as_of=city.as_of,
                         backend="python")
    kels = sorted({r["kelurahan"] for r in rows(city.households)})
    quota = quota_table({("pkh", k): 5 for k in kels})
    before = proposed(propose_reallocation(engine, snapshot, quota, unmask=True).table)
    after_prop = propose_reallocation(local, snap, quota, unmask=True)
    after = proposed(after_prop.table)

    def rescored(r: dict[str, Any]) -> float | None:
        vals = [r[rid] for rid in w_loc]
        if any(v is None for v in vals):
            return None
        return sum(w * v for (rid, w), v in zip(w_loc.items(), vals, strict=True) if w)

    for k in kels:
        # the national ranking re-scored by hand with the city's weights gives the city's list
        assert after[("pkh", k)] == brute_force(snapshot.results, "pkh", k, 5, set(), rescored)
        assert after[("pkh", k)] == brute_force(snap.results, "pkh", k, 5, set())
    assert before != after
    assert any("10 = " in r["breakdown"] for r in rows(after_prop.table))


def test_the_list_for_the_musyawarah_has_a_signature_block_and_masked_ids(
        engine: Engine, snapshot: Snapshot, reconciliation: Reconciliation, city: City,
        tmp_path: Path) -> None:
    prop = propose_reallocation(engine, snapshot, reconciliation, members=city.persons)
    csv_path, xlsx_path = prop.write(tmp_path)
    text = csv_path.read_text(encoding="utf-8")
    raw = {h["id"] for h in rows(city.households)} | {p["nik"] for p in rows(city.persons)}
    assert not set(re.findall(r"[0-9]{16}", text)) & raw
    assert text.count("\n") == prop.table.num_rows + 1
    wb = load_workbook(xlsx_path)
    kels = {r["kelurahan"] for r in rows(prop.summary)}
    assert set(wb.sheetnames) == {"Ringkasan"} | kels
    for kel in kels:
        values = [str(c.value) for row in wb[kel].iter_rows() for c in row if c.value]
        blob = "\n".join(values)
        assert "the library proposes, people decide" in blob
        assert "Tanda tangan / signature" in blob
        assert "Lurah / Head of the kelurahan" in blob
        assert not set(re.findall(r"[0-9]{16}", blob)) & raw
