"""Aggregates over a household's members in the compiled Python code (backends/python.py): a
loop that reads only the members' rule values iterates over those alone, one that reads a
member's own field iterates over the records too; both give the three-valued answer."""

from __future__ import annotations

from typing import Any

import pytest

FILES = {
    "p.yaml": """
        id: t_person
        entity: person
        version: "1"
        rules:
          - id: t_adult
            when: age >= 18
          - id: t_earner
            when: income > 0 and age >= 15
        """,
    "h.yaml": """
        id: t_household
        entity: household
        version: "1"
        rules:
          - id: t_adults
            value: count(members, t_adult)
          - id: t_any_adult
            value: any(members, t_adult)
          - id: t_oldest
            value: max(members, age)
          - id: t_adult_ages
            value: sum(members, age, where=t_adult)
          - id: t_xy
            value: x + y
        """,
}


@pytest.fixture
def engine(engine_from: Any) -> Any:
    return engine_from(files=FILES)


def test_a_loop_reading_only_member_rules_iterates_over_their_values(engine: Any) -> None:
    d = engine.evaluate("household", {"members": [{"age": 30}]}, as_of="2024-07-01")
    src = d.plan.compiled.source
    # count and any read t_adult only; max and sum read the member field age
    assert src.count("for mr in MR:") == 2
    assert src.count("for m, mr in zip(members, MR):") == 2


@pytest.mark.parametrize(("ages", "want"), [
    ([30, 10, 40], {"t_adults": 2, "t_any_adult": True, "t_oldest": 40, "t_adult_ages": 70}),
    ([10, None], {"t_adults": None, "t_any_adult": None, "t_oldest": None,
                  "t_adult_ages": None}),
    ([None, 20], {"t_adults": None, "t_any_adult": True, "t_oldest": None,
                  "t_adult_ages": None}),
    ([], {"t_adults": 0, "t_any_adult": False, "t_oldest": None, "t_adult_ages": 0}),
])
def test_member_aggregates_are_three_valued(engine: Any, ages: list[int | None],
                                            want: dict[str, Any]) -> None:
    rec = {"members": [{"age": a} for a in ages]}
    d = engine.evaluate("household", rec, as_of="2024-07-01")
    assert {k: d.value(k) for k in want} == want


def _full(engine: Any, rec: dict[str, Any], entity: str = "household") -> dict[str, Any]:
    """``rec`` with every name its entity declares (None where it had none)."""
    ent = engine.schema.entity(entity)
    out: dict[str, Any] = {**dict.fromkeys(ent.fields), **rec}
    for rel in ent.relations.values():
        out[rel.name] = [_full(engine, m, rel.entity) for m in rec.get(rel.name, [])]
    return out


@pytest.mark.parametrize("ages", [[30, 10, 40], [10, None], []])
def test_a_record_of_every_declared_name_reads_as_its_sparse_form(engine: Any,
                                                                  ages: list[int | None]
                                                                  ) -> None:
    """The compiled code takes a record holding every declared name in one getter call, any
    other record one ``get`` per field; a record of as many keys with an undeclared one in
    place of a declared one (possible for callers that skip the record contract) reads as
    if the declared one were missing."""
    sparse = {"x": 1, "y": 2, "members": [{"age": a, "income": 5} for a in ages]}
    full = _full(engine, sparse)
    want = engine.evaluate("household", sparse, as_of="2024-07-01")
    got = engine.evaluate("household", full, as_of="2024-07-01")
    assert got.to_dict() == want.to_dict()
    assert [m.to_dict() for m in got.members] == [m.to_dict() for m in want.members]
    src = got.plan.compiled.source
    assert f"if len(r) == {len(full)}:" in src
    assert f"if len(r) == {len(_full(engine, {}, 'person'))}:" in got.plan.compiled.child.source
    run, params = got.plan.compiled.run, got.plan.params
    swapped = {**{k: v for k, v in full.items() if k != "x"}, "no_such": 1, "members": [
        {**{k: v for k, v in m.items() if k != "age"}, "no_such": 1} for m in full["members"]]}
    assert len(swapped) == len(full)
    values, members = run(swapped, params, got.as_of)
    without = {"y": 2, "members": [{"income": 5} for _ in ages]}
    assert (values, members) == run(without, params, got.as_of)
    assert got.value("t_xy") == 3
    assert values[got.plan.compiled.slots["t_xy"]] is None  # x read as missing
