"""Regression tests for differences the differential tests found in the Python reference."""

from __future__ import annotations

import datetime

import welfare_rules as wr
from welfare_rules.backends.record import Evaluation

AS_OF = datetime.date(2024, 1, 1)
HH, NIK1, NIK2 = "3375010101240001", "3375010101100001", "3375010101120002"


def test_any_with_unknown_where_is_unknown_whatever_the_member_order(kinds: wr.Engine) -> None:
    """any(members, c, where=w) is unknown in the three-valued evaluation (what the batch
    backends compute) when some member's w is unknown, even if an earlier member already
    satisfies c (docs/rules.md); the Decision settles it to True, since the satisfying member
    decides it whatever w is (docs/explanations.md, sound unknowns)."""
    adult = {"nik": NIK1, "birth_date": datetime.date(2010, 1, 1), "is_alive": True}
    unknown = {"nik": NIK2, "birth_date": datetime.date(2012, 1, 1), "is_alive": None}
    for members in ([adult, unknown], [unknown, adult]):
        d = kinds.evaluate("household", {"id": HH, "members": members}, as_of=AS_OF)
        assert Evaluation.value(d, "t_any") is None, members
        assert d.value("t_any") is True, members


def test_all_with_unknown_where_is_unknown_after_a_false(kinds: wr.Engine) -> None:
    """all(members, c, where=w) is unknown, not false, in the three-valued evaluation when a later
    member's w is unknown; settled, it is False: a living member already fails c."""
    poor = {"nik": NIK1, "is_alive": True, "income_month": 0}
    unknown = {"nik": NIK2, "is_alive": None, "income_month": 5}
    d = kinds.evaluate("household", {"id": HH, "members": [poor, unknown]}, as_of=AS_OF)
    assert Evaluation.value(d, "t_all_where") is None
    assert d.value("t_all_where") is False


def test_any_with_where_over_no_members_is_false(kinds: wr.Engine) -> None:
    """any(members, c, where=w) over a household without members is false, all() true."""
    d = kinds.evaluate("household", {"id": HH, "members": []}, as_of=AS_OF)
    assert (d.value("t_any"), d.value("t_all_where")) == (False, True)
