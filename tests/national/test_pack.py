"""The national pack as a whole: every parameter and rule is documented in both languages with
its source, and the YAML rule tests cover every rule with true, false and unknown outcomes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from welfare_rules import Engine
from welfare_rules.national import PLUGIN_NAME
from welfare_rules.testing.runner import load_cases

TESTS = Path(__file__).resolve().parents[2] / "src" / "welfare_rules" / "national" / "tests"

#: Rules that cannot be unknown, and why.
NEVER_UNKNOWN = {
    "poor_bps_criteria_met": "count_true counts the criteria known true",
    "exclusion_flags": "count_true counts the flags known true",
    "priority_criteria_met": "poor_bps_criteria_met, a count_true",
    "lks_legal_basis": "a constant per effective window",
    "lks_accreditation_basis": "a constant per effective window",
    "register_in_force": "a constant per effective window",
    "lks_doc_domicile_letter": "a blank optional date means no letter",
}
#: Rules that cannot be false (or, for value rules, that have no meaningful second value).
NEVER_FALSE: dict[str, str] = {}
#: Rules that cannot be true through Engine.evaluate, and why.
NEVER_TRUE = {
    "nik_format": "the schema's pattern refuses a NIK that is not 16 digits before any rule "
                  "(the rule guards inputs that bypass validation, where it is true: "
                  "tests/adapters/test_nik_format.py)",
}


def _national_rules(engine: Engine) -> list[str]:
    return [rid for rid in engine.visible_rule_ids()
            if engine.rule(rid).origin.plugin == PLUGIN_NAME]


def test_every_national_parameter_has_titles_unit_and_reference(engine: Engine) -> None:
    problems = []
    for name, p in sorted(engine.parameters.items()):
        if p.origin.plugin != PLUGIN_NAME:
            continue
        if not ((p.title.id and p.title.en and p.title.id != p.title.en) or name == ""):
            problems.append(f"{name}: title needs distinct id and en texts")
        if not p.unit:
            problems.append(f"{name}: no unit")
        if not p.reference:
            problems.append(f"{name}: no reference")
        if p.unverified and "UNVERIFIED" not in p.reference:
            problems.append(f"{name}: unverified but the reference does not say UNVERIFIED")
        if not p.values and not p.optional:
            problems.append(f"{name}: no dated value")
    assert problems == []


def test_every_national_rule_has_titles_in_both_languages_and_a_reference(
        engine: Engine) -> None:
    problems = []
    for rid in _national_rules(engine):
        for r in engine.rules[rid]:
            if not (r.title.id and r.title.en):
                problems.append(f"{rid}: title needs id and en")
            if not r.reference:
                problems.append(f"{rid}: no reference")
    assert problems == []


def test_unverified_facts_of_domain_md_are_marked(engine: Engine) -> None:
    for name in ("pkh.elderly_age", "lks.registration_validity_years", "pbi.premium_month",
                 "lks.maturity.berkembang.min_reports",
                 # the assumptions of issue 16: decile cut-offs applied back to 2011, "0-6"
                 # read as under 6, "2 pregnancies" read as 2 at once, the DTSEN switch day
                 "pkh.max_desil", "pbi.max_desil", "bpnt.max_desil",
                 "pkh.early_childhood_max_age", "pkh.max_pregnancy",
                 "register.update_cadence_months"):
        assert engine.parameter(name).unverified, name
    assert "UNVERIFIED reading: one component per person" in engine.rule("pkh_component").reference
    for rid in ("register_in_force", "lks_registered", "lks_accreditation_basis"):
        assert "UNVERIFIED" in engine.rules[rid][-1].reference, rid
    assert "UNVERIFIED" in engine.rule("lks_maturity").reference
    assert "UNVERIFIED" in engine.rules["lks_legal_basis"][-1].reference


def test_the_minimum_wage_is_left_to_regional_plugins(engine: Engine) -> None:
    p = engine.parameter("exclusion.min_wage_month")
    assert p.optional
    assert p.values == ()


def test_yaml_cases_cover_every_rule_with_true_false_and_unknown(engine: Engine) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for f in sorted(TESTS.glob("test_*.yaml")):
        for case in load_cases(f):
            outputs = [case.output, *(case.members_output or [])]
            for out in outputs:
                for rid, v in (out or {}).items():
                    seen[rid].add("unknown" if v is None else
                                  ("true" if v is True else "false" if v is False else
                                   f"value:{v}"))
            for rid, st in case.status.items():
                seen[rid].add(str(st))
    missing = []
    for rid in _national_rules(engine):
        rule = engine.rule(rid)
        got = seen.get(rid, set())
        if rule.kind in ("condition", "check"):
            need = {"true", "false", "unknown"}
        else:
            need = {"value", "unknown"}
            got = {"value" if g.startswith("value:") or g in ("true", "false") else g
                   for g in got}
        if rid in NEVER_UNKNOWN:
            need.discard("unknown")
        if rid in NEVER_FALSE:
            need.discard("false")
        if rid in NEVER_TRUE:
            need.discard("true")
        if not need <= got:
            missing.append(f"{rid}: missing {sorted(need - got)}")
    assert missing == []


@pytest.mark.parametrize("rid", sorted(NEVER_UNKNOWN))
def test_never_unknown_rules_exist(engine: Engine, rid: str) -> None:
    assert rid in engine.rules
