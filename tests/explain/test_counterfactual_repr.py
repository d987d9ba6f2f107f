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
