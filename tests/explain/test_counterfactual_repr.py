"""repr(Counterfactual) masks ids and leaves the whole record out."""

from __future__ import annotations

import re

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
