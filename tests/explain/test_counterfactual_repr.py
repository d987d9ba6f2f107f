"""repr(Counterfactual) masks ids and leaves the whole record out."""

from __future__ import annotations

import re
from pathlib import Path

from welfare_rules.counterfactuals import Counterfactual


def test_the_repr_of_a_counterfactual_shows_no_full_id() -> None:
    cf = Counterfactual(rule="pkh_eligible",
                        changes={"members[0].note": "kk 3375010101010009", "desil": 2},
                        record={"id": "3375010101010001",
                                "members": [{"nik": "3375014101900001", "note": "x"}]},
                        before=False, after=True)
    text = repr(cf)
    assert not re.search(r"[0-9]{16}", text)
    assert "'desil': 2" in text
    assert "pkh_eligible" in text
    assert "members" not in text.replace("members[0].note", "")


def test_scaled_candidates_stay_inside_the_field_s_declared_range() -> None:
    """A candidate outside min/max is a record the contract refuses: proposing it made
    ``counterfactuals()`` (and ``explain --what-would-change``) end in an InputError."""
    import datetime

    from welfare_rules import Engine
    from welfare_rules.counterfactuals import _scaled
    from welfare_rules.unknowns import Input, cone

    engine = Engine.load()
    d = engine.evaluate("household", {"id": "3375010101010001", "in_dtks": True, "desil": 10,
                                      "members": []}, as_of=datetime.date(2024, 1, 1))
    got = _scaled(d, Input(None, "desil"), cone(engine, d.plan.rules["pkh_eligible"]))
    assert got == [5, 9]  # 20 and 11 (and 0) are not desil values


_UNIQUE = """\
id: cf_unique
version: "1"
entity: household
title: {id: Tabel UNIQUE, en: A UNIQUE table}
rules:
  - id: cf_tab
    policy: local
    table:
      hit_policy: unique
      inputs: [desil, owns_car]
      rows:
        - {when: ["<= 3", "-"], then: low}
        - {when: ["-", true], then: car}
      default: other
  - id: cf_flag
    policy: local
    when: 'cf_tab == "low"'
"""


def test_a_change_that_violates_a_unique_table_is_no_counterfactual(tmp_path: Path) -> None:
    """Changing owns_car to true (desil 2) or desil to 3 (owns_car true) makes the UNIQUE
    table match two rows; such a record is no candidate, as it is no completion when
    unknowns are settled. counterfactuals() raised HitPolicyError on a valid record."""
    import datetime

    from welfare_rules import Engine

    rules = tmp_path / "rules.yaml"
    rules.write_text(_UNIQUE, encoding="utf-8")
    engine = Engine.load(rules=[rules])
    day = datetime.date(2024, 1, 1)
    for record in ({"desil": 2, "owns_car": False}, {"desil": 5, "owns_car": True}):
        d = engine.evaluate("household", {"id": "3375010101010001", "members": [], **record},
                            as_of=day)
        found = d.counterfactuals("cf_flag", limit=5)
        for cf in found:  # each one flips the outcome and is a valid record
            again = engine.evaluate("household", cf.record, as_of=day)
            assert again.value("cf_flag") != d.value("cf_flag")
        if record["desil"] == 2:  # desil 4+ flips it; owns_car true is no record
            assert found
            assert all("owns_car" not in cf.changes for cf in found)
