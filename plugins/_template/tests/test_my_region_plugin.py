"""Tests of the template plugin: it loads, its rules decide, its YAML cases pass.

Run with ``pytest`` from this folder after ``pip install -e .`` (and welfare-rules).
"""

from __future__ import annotations

import datetime

import welfare_rules_my_region as plugin

from welfare_rules.testing import assert_decision, household, plugin_engine, run_rule_tests

AS_OF = datetime.date(2024, 6, 1)


def test_the_plugin_loads_and_is_named() -> None:
    engine = plugin_engine(plugin)
    names = {p.name: p for p in engine.plugins}
    assert names["welfare-rules-my-region"].layer == "city"
    assert "my_region_top_up_eligible" in engine.rules


def test_a_registered_poor_household_is_eligible() -> None:
    engine = plugin_engine(plugin)
    d = engine.evaluate("household", household(in_dtks=True, desil=2, my_region_registered=True),
                        as_of=AS_OF)
    assert_decision(d, "my_region_top_up_eligible", value=True, status="true")


def test_the_rule_is_not_in_force_before_2024() -> None:
    engine = plugin_engine(plugin)
    assert "my_region_top_up_eligible" not in engine.in_force(datetime.date(2023, 6, 1))
    assert "my_region_top_up_eligible" in engine.in_force(AS_OF)


def test_the_yaml_rule_tests_pass() -> None:
    results = run_rule_tests([plugin.HERE / "tests"], plugins=[plugin])
    assert results, "no YAML rule test found"
    failed = [r.report() for r in results if not r.passed]
    assert failed == []
