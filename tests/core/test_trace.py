"""``Decision.trace()``: every rule's value, the inputs and rules it read and its parameters with
the date their value took effect and their reference, for the record and each member.

The static part (what a rule reads) is built once per plan (``RecordPlan.trace_entries``); these
tests hold the trace to the same thing rebuilt from the rule model for every record."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from welfare_rules import Engine
from welfare_rules.decision import MemberDecision
from welfare_rules.testing.strategies import households

AS_OF = datetime.date(2025, 7, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _rebuilt(engine: Engine, d: Any) -> dict[str, Any]:
    """The trace rebuilt from the rule model, rule by rule, as it was before it was cached."""
    plan = d.plan
    out: dict[str, Any] = {}
    for rid, slot in d._slots.items():
        rule = plan.rules.get(rid)
        if rule is None:
            continue
        refs = engine.rule_refs(rule)
        out[rid] = {
            "value": d._values[slot],
            "inputs": {f: d.record.get(f) for f in refs.fields},
            "rules": {r: d._values[d._slots[r]] for r in refs.rules if r in d._slots},
            "params": {p: (plan.params[engine.model.param_index[p]], plan.param_since.get(p),
                           engine.parameters[p].reference) for p in refs.params}}
    if not isinstance(d, MemberDecision) and d.members:
        out["members"] = [_rebuilt(engine, m) for m in d.members]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hh=households(Engine.load(), max_members=4))
def test_the_trace_is_what_each_rule_read_in_this_record(engine: Engine, hh: dict[str, Any]
                                                         ) -> None:
    d = engine.evaluate("household", hh, as_of=AS_OF)
    assert d.trace() == _rebuilt(engine, d)


def test_the_trace_shows_parameters_with_their_date_and_reference(engine: Engine) -> None:
    rec = {"id": "3375010101240001", "no_kk": "3375010101240001", "in_dtks": True, "desil": 3,
           "members": []}
    rec = {k: v for k, v in rec.items() if k in engine.schema.entity("household").fields
           or k == "members"}
    d = engine.evaluate("household", rec, as_of=AS_OF)
    tr = d.trace()
    with_params = [rid for rid, e in tr.items() if rid != "members" and e["params"]]
    assert with_params
    for rid in with_params:
        for p, (value, since, reference) in tr[rid]["params"].items():
            assert value == engine.plan(AS_OF).params[engine.model.param_index[p]]
            assert since is None or since <= AS_OF
            assert reference == engine.parameters[p].reference


def test_each_trace_is_a_fresh_tree_over_static_data_built_once_per_plan(engine: Engine
                                                                        ) -> None:
    rec = {"id": "3375010101240001", "members": []}
    rec = {k: v for k, v in rec.items() if k in engine.schema.entity("household").fields
           or k == "members"}
    a = engine.evaluate("household", rec, as_of=AS_OF)
    b = engine.evaluate("household", rec, as_of=AS_OF)
    assert a.plan.trace_entries("household") is b.plan.trace_entries("household")
    ta, tb = a.trace(), b.trace()
    rid = next(r for r, e in ta.items() if r != "members" and e["params"])
    ta[rid]["params"].clear()  # a caller's change to one trace is not seen in the next
    assert tb[rid]["params"]
    assert a.trace()[rid]["params"]
