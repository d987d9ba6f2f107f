"""Tests of the Jawa Tengah province plugin: it loads as the province layer, its UMP and poverty
line feed the national rules, its NIK check decides, and its YAML cases pass."""

from __future__ import annotations

import datetime

import welfare_rules_jawa_tengah as jateng

from welfare_rules.testing import assert_decision, household, person, plugin_engine
from welfare_rules.testing.runner import EngineCache, run_rule_tests

AS_OF = datetime.date(2025, 6, 1)


def test_the_plugin_is_the_province_layer() -> None:
    engine = plugin_engine(jateng)
    info = {p.name: p for p in engine.plugins}["welfare-rules-jawa-tengah"]
    assert info.layer == "province"
    assert info.requires == ()


def test_the_ump_by_year() -> None:
    ump = plugin_engine(jateng).parameter("jawa_tengah.ump")
    assert ump.at(datetime.date(2025, 1, 1))[0] == 2169349
    assert ump.at(datetime.date(2024, 12, 31))[0] == 2036947
    assert ump.at(datetime.date(2020, 6, 1))[0] == 1742015
    assert ump.at(datetime.date(2021, 6, 1))[0] is None  # not sourced
    assert ump.at(datetime.date(2026, 6, 1))[0] is None  # not yet set


def test_the_ump_is_the_minimum_wage_where_no_city_sets_one() -> None:
    d = plugin_engine(jateng).evaluate("household", household(head_income_month=2_200_000),
                                       as_of=AS_OF)
    assert_decision(d, "min_wage_month", value=2169349)
    assert_decision(d, "excl_income_above_min_wage", value=True)


def test_the_poverty_line_follows_the_bps_periods() -> None:
    line = plugin_engine(jateng).parameter("jawa_tengah.poverty_line")
    assert line.at(datetime.date(2025, 3, 1))[0] == 537812
    assert line.at(datetime.date(2025, 9, 1))[0] == 570870
    assert line.at(datetime.date(2022, 1, 1))[0] is None


def test_a_nik_with_an_unknown_kab_kota_code_is_an_error() -> None:
    engine = plugin_engine(jateng)
    bad = engine.evaluate("person", person(nik="3399010101800001", sex="male",
                                           birth_date=datetime.date(1980, 1, 1)), as_of=AS_OF)
    assert [f.check for f in bad.findings] == ["nik_kabkota_jawa_tengah"]
    assert len(engine.parameter("jawa_tengah.kabkota_codes").at(AS_OF)[0]) == 35


def test_the_yaml_cases_pass() -> None:
    results = run_rule_tests([jateng.HERE / "tests"], engines=EngineCache([jateng]))
    assert results
    assert [r.report() for r in results if not r.passed] == []
