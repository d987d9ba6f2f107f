"""Tests of the Kota Semarang plugin: it loads on the Jawa Tengah layer, its registration rule
and UMK decide, its adapter reads the LKS register, and its YAML cases pass.

Run with ``pytest`` from this folder after ``pip install -e .`` (and welfare-rules).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import welfare_rules_kota_semarang as plugin

from welfare_rules.testing import assert_decision, household, plugin_engine
from welfare_rules.testing.runner import EngineCache, run_rule_tests

AS_OF = datetime.date(2025, 6, 1)
REGISTER = Path(__file__).parent / "data" / "lks_register.csv"


def test_the_plugin_loads_on_the_province_layer() -> None:
    engine = plugin_engine(plugin)
    layers = [(p.name, p.layer) for p in engine.plugins if p.source != "built-in"]
    assert layers == [("welfare-rules-jawa-tengah", "province"),
                      ("welfare-rules-kota-semarang", "city")]
    assert "semarang_registration_complete" in engine.rules


def test_the_city_umk_is_the_minimum_wage_in_force() -> None:
    engine = plugin_engine(plugin)
    d = engine.evaluate("household", household(head_income_month=3_500_000), as_of=AS_OF)
    assert_decision(d, "min_wage_month", value=3454827)
    assert_decision(d, "excl_income_above_min_wage", value=True)
    assert engine.parameter("exclusion.min_wage_month").unverified


def test_the_adapter_reads_the_lks_register_and_quarantines_an_impossible_date() -> None:
    engine = plugin_engine(plugin)
    loaded = engine.read(REGISTER, adapter="kota-semarang", entity="institution")
    assert loaded.rows_read == loaded.rows_valid + loaded.rows_quarantined == 3
    assert loaded.rows_quarantined == 1
    records = {r["id"]: r for r in loaded.iter_records("institution")}
    assert set(records) == {"SMG-001", "SMG-002"}
    first = engine.evaluate("institution", records["SMG-001"], as_of=AS_OF)
    assert_decision(first, "semarang_registration_complete", value=True)
    second = engine.evaluate("institution", records["SMG-002"], as_of=AS_OF)
    assert_decision(second, "semarang_activity_reports", value=False)
    assert_decision(second, "semarang_registration_complete", value=False)


def test_the_yaml_cases_pass() -> None:
    results = run_rule_tests([plugin.HERE / "tests"], engines=EngineCache([plugin]))
    assert results, "no YAML rule test found"
    assert [r.report() for r in results if not r.passed] == []
