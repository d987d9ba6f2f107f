"""The fused evaluation (backends/fused.py): a complete, canonical record goes through the record
contract and the rules in one generated function, which gives exactly what the general path
(the contract, then the compiled rules) gives, or says "look closer"."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules import Engine, InputError
from welfare_rules.adapters.record import contract_for
from welfare_rules.backends.fused import fused_run
from welfare_rules.errors import ParameterError
from welfare_rules.testing.strategies import messy_households, record_shapes

from .test_parameters import MEMBER_RULES, PARAMS

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime.date(2024, 7, 1)
_ENGINES: dict[str, Engine] = {}


def _engine(which: str) -> Engine:
    if which not in _ENGINES:
        _ENGINES[which] = (Engine.load() if which == "national" else
                           Engine.load(rules=[ROOT / "benchmarks" / "rules"], national=False))
    return _ENGINES[which]


def _parts(engine: Engine, day: datetime.date = AS_OF) -> tuple[Any, Any, frozenset[str], Any]:
    plan = engine._plan("household", day)
    contract = contract_for(engine.schema, "household")
    needed = frozenset(engine.relation_reads("household", day))
    return plan, contract, needed, fused_run(plan.compiled, contract)


def _general(engine: Engine, rec: Any, day: datetime.date = AS_OF) -> tuple[Any, ...]:
    """The general path alone: the full record contract, then the compiled rules."""
    plan, contract, needed, _ = _parts(engine, day)
    try:
        checked = contract.check(rec, relations_needed=needed)
        values, members = plan.compiled.run(checked.record, plan.params, day)
    except Exception as e:  # the error itself is what is compared
        return ("error", type(e), str(e))
    return ("ok", checked.record is rec and not checked.problems, values, members)


def _complete(engine: Engine, rec: Any, entity: str = "household") -> bool:
    """Whether ``rec`` and its members hold every name their entity declares, and no other."""
    ent = engine.schema.entity(entity)
    names = {*ent.fields, *ent.relations}
    if not isinstance(rec, dict) or set(rec) != names:
        return False
    for rel in ent.relations.values():
        ms = rec[rel.name]
        if ms is not None and not (isinstance(ms, list)
                                   and all(_complete(engine, m, rel.entity) for m in ms)):
            return False
    return True


@pytest.mark.parametrize("which", ["bench", "national"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=st.data())
def test_the_fused_path_gives_the_general_paths_values_or_looks_closer(which: str,
                                                                       case: st.DataObject
                                                                       ) -> None:
    """On messy households (values of every declared type, None, wrong types, out of range,
    bad NIKs, unknown fields) in every shape (complete, sparse, keys traded, complete and
    sparse members mixed): the fused function answers only when the general path gives the
    record itself back, and then with exactly its slot values; every complete record the
    general path passes as it is takes the fused path; Engine.evaluate answers or refuses as
    the general path does."""
    engine = _engine(which)
    plan, _, _, fused = _parts(engine)
    raw, canonical, _ = case.draw(messy_households(engine))
    # messy members under a canonical household: the members' own tests decide
    mixed = {**canonical, "members": raw["members"]}
    for base in (raw, canonical, mixed):
        rec = case.draw(record_shapes(engine, base))
        got = fused(rec, plan.params, AS_OF)
        want = _general(engine, rec)
        if got is not False:
            assert want[:2] == ("ok", True)
            assert repr(got) == repr(want[2:])
        elif want[:2] == ("ok", True):
            assert not _complete(engine, rec)
        if want[0] == "ok":
            d = engine.evaluate("household", rec, as_of=AS_OF)
            assert repr(d.values) == repr(want[2])
        else:
            with pytest.raises(want[1]) as info:
                engine.evaluate("household", rec, as_of=AS_OF)
            assert str(info.value) == want[2]


def _full(engine: Engine, rec: dict[str, Any], entity: str = "household") -> dict[str, Any]:
    ent = engine.schema.entity(entity)
    out: dict[str, Any] = {**dict.fromkeys(ent.fields), **rec}
    for rel in ent.relations.values():
        out[rel.name] = [_full(engine, m, rel.entity) for m in rec.get(rel.name, [])]
    return out


def test_a_rule_error_in_one_member_does_not_hide_an_invalid_later_member(engine_from: Any
                                                                         ) -> None:
    """The fused loop computes a member's rules before it tests the next member: when they
    raise (here: a parameter without a value on the date), the general path decides, so the
    invalid input is what is reported, as without the fused path."""
    eng = engine_from(files=MEMBER_RULES, params=PARAMS)
    day = datetime.date(2019, 12, 31)
    good = _full(eng, {"x": 1, "members": [{"income": 2}, {"income": 3}]})
    plan, _, _, fused = _parts(eng, day)
    assert fused(good, plan.params, day) is False  # the rules raise: look closer
    with pytest.raises(ParameterError, match=r"t\.rate.*t_share"):
        eng.evaluate("household", good, as_of=day)
    bad = _full(eng, {"x": 1, "members": [{"income": 2}, {"income": -1.5}]})
    with pytest.raises(InputError) as info:
        eng.evaluate("household", bad, as_of=day)
    assert info.value.fields == ["members[1].income"]
    # on a date where the parameter has a value, the same record takes the fused path
    later = datetime.date(2024, 7, 1)
    plan, _, _, fused = _parts(eng, later)
    values, members = fused(good, plan.params, later)
    assert (values, members) == plan.compiled.run(good, plan.params, later)
    assert eng.evaluate("household", good, as_of=later).value("t_total") == 750


def test_a_complete_household_is_evaluated_in_one_pass(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """The bench households (complete, canonical) never reach the contract's own tests or
    the compiled ``run``: Engine.evaluate answers from the fused function alone."""
    engine = _engine("bench")
    plan, contract, _, _ = _parts(engine)
    rec = _full(engine, {"id": "3375012345678901", "desil": 3, "in_dtks": True, "members": [
        {"nik": "3375014101900001", "is_alive": True,
         "birth_date": datetime.date(1990, 1, 1)}]})
    first = engine.evaluate("household", rec, as_of=AS_OF)
    want = (first.values, [m.values for m in first.members])

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the general path was taken")

    monkeypatch.setattr(contract, "fast", boom)
    monkeypatch.setattr(contract, "check", boom)
    monkeypatch.setattr(plan.compiled, "run", boom)
    d = engine.evaluate("household", rec, as_of=AS_OF)
    assert d.record is rec
    assert (d.values, [m.values for m in d.members]) == want
