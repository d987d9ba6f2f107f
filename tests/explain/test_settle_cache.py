"""What settling keeps on a decision lives in one object, :class:`~welfare_rules.unknowns.
SettleCache` (review2 #24: three modules used to agree on private cache names through string
keys of ``Decision.__dict__``), and a settled batch drops every completion it tried."""

from __future__ import annotations

import pytest

from welfare_rules import Engine, unknowns
from welfare_rules.unknowns import SettleCache, settle_cache

from .batch_tables import tables

# a 74-year-old woman whose blank is_pregnant cannot change her PKH eligibility
from .test_batch_settling import AS_OF, HOUSEHOLD


@pytest.fixture(scope="module")
def national() -> Engine:
    return Engine.load()


def test_settling_adds_nothing_to_the_decision_itself(national: Engine) -> None:
    """The settled answers and the completions are in settle_cache(d), not in the decision's
    attributes."""
    d = national.evaluate("household", HOUSEHOLD, AS_OF)
    member_before = set(vars(d.members[0]))  # (the members, once built, are kept on d)
    before = set(vars(d))
    assert ("true", "unknown") == (d.status("pkh_eligible"), d.status("pkh_benefit_year"))
    d.members[0].status("pkh_component")
    assert (before, member_before) == (set(vars(d)), set(vars(d.members[0])))
    cache = settle_cache(d)
    assert cache.completed
    assert cache.settled["pkh_eligible"] == (True, True)


def test_clear_drops_the_completions_and_keeps_the_settled_answers(national: Engine) -> None:
    d = national.evaluate("household", HOUSEHOLD, AS_OF)
    assert d.value("pkh_eligible") is True
    cache = settle_cache(d)
    assert cache is settle_cache(d)  # one cache per decision
    cache.clear()
    assert cache.completed == {}
    # answered again from the settled answers, without completing the record again
    assert (d.value("pkh_eligible"), d.status("pkh_eligible")) == (True, "true")
    assert not cache.completed


def test_a_settled_batch_keeps_no_completions(national: Engine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The settler clears each re-decided record's cache once its rules are settled, so
    memory stays bounded by one record's completions."""
    made: list[SettleCache] = []
    real = unknowns.settle_cache

    def spy(d: object) -> SettleCache:
        got = real(d)  # type: ignore[arg-type]
        made.append(got)
        return got

    monkeypatch.setattr(unknowns, "settle_cache", spy)
    hh, pp = tables(national, [HOUSEHOLD, {**HOUSEHOLD, "id": "3375010101010002"}])
    res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF,
                                  backend="python", validate=False)
    assert [r["pkh_eligible__status"] for r in res.to_arrow().to_pylist()] == ["true", "true"]
    assert made, "settling used no cache"
    assert any(c.settled for c in made)
    assert [c for c in made if c.completed] == []
