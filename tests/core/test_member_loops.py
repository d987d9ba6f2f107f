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
