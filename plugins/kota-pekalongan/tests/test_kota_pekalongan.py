"""Tests of the Kota Pekalongan plugin on its own: region data, dated parameters, the LKS
ladder override, the family-card check, the export adapter and the YAML rule tests.

``data/export_sample.csv`` is a synthetic nine-row export in the city's format (semicolons,
Windows-1252, mixed-case headers and values); no real person is described.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import welfare_rules_kota_pekalongan as city

from welfare_rules import Engine
from welfare_rules.testing import assert_decision, household, institution, plugin_engine
from welfare_rules.testing.runner import EngineCache, run_rule_tests

HERE = Path(__file__).parent
AS_OF = datetime.date(2024, 7, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return plugin_engine(city)


def test_the_plugin_declares_its_name_layer_and_version(engine: Engine) -> None:
    info = {p.name: p for p in engine.plugins}["welfare-rules-kota-pekalongan"]
    assert (info.layer, info.version) == ("city", city.__version__)


def test_the_region_has_4_kecamatan_and_27_distinct_kelurahan(engine: Engine) -> None:
    kec = engine.parameter("kota_pekalongan.region.kecamatan").at(AS_OF)[0]
    assert kec == ["PEKALONGAN BARAT", "PEKALONGAN TIMUR", "PEKALONGAN UTARA",
                   "PEKALONGAN SELATAN"]
    groups = {k: engine.parameter(f"kota_pekalongan.region.kelurahan.{k}").at(AS_OF)[0]
              for k in ("pekalongan_barat", "pekalongan_timur", "pekalongan_utara",
                        "pekalongan_selatan")}
    assert [len(v) for v in groups.values()] == [7, 7, 7, 6]
    everything = [k for v in groups.values() for k in v]
    assert len(set(everything)) == 27
    assert all(k == city.region_name(k) for k in everything)  # stored normalised


def test_every_kelurahan_is_found_in_its_own_kecamatan(engine: Engine) -> None:
    for key, kec in (("pekalongan_barat", "Pekalongan Barat"),
                     ("pekalongan_selatan", "Pekalongan Selatan")):
        for kel in engine.parameter(f"kota_pekalongan.region.kelurahan.{key}").at(AS_OF)[0]:
            d = engine.evaluate("household", household(kecamatan=kec, kelurahan=kel.title()),
                                as_of=AS_OF)
            assert_decision(d, "kelurahan_kecamatan_mismatch", value=False)
            assert_decision(d, "kelurahan_not_in_city", value=False)


def test_the_umk_is_dated(engine: Engine) -> None:
    p = engine.parameter("exclusion.min_wage_month")
    by_year = {y: p.at(datetime.date(y, 6, 1))[0] for y in range(2020, 2027)}
    assert by_year == {2020: 2_072_000, 2021: 2_156_213, 2022: 2_156_213, 2023: 2_305_822,
                       2024: 2_389_801, 2025: 2_545_138, 2026: None}
    assert "UNVERIFIED" in p.reference


def test_the_poverty_line_is_set_only_where_a_source_was_found(engine: Engine) -> None:
    p = engine.parameter("kota_pekalongan.poverty_line.per_capita_month")
    assert p.at(datetime.date(2020, 6, 1))[0] == 502_031
    assert p.at(datetime.date(2019, 6, 1))[0] == 425_026
    assert p.at(datetime.date(2023, 6, 1))[0] is None


def test_the_family_card_not_the_nik_decides_kk_not_in_city(engine: Engine) -> None:
    migrant = {"nik": "3326011204800001", "relationship": "head", "is_alive": True}
    d = engine.evaluate("household", household(id="3375011501200001", members=[migrant]),
                        as_of=AS_OF)
    assert_decision(d, "kk_not_in_city", value=False)
    d = engine.evaluate("household", household(id="3326011501200001"), as_of=AS_OF)
    assert_decision(d, "kk_not_in_city", value=True)
    assert [f.check for f in d.findings] == ["kk_not_in_city"]


def test_the_ladder_overrides_the_national_one(engine: Engine) -> None:
    rule = engine.rule("lks_maturity")
    assert rule.origin.plugin == "welfare-rules-kota-pekalongan"
    assert [lv.name for lv in rule.levels] == ["embrio", "tumbuh", "berkembang", "mandiri"]
    d = engine.evaluate("institution", institution(), as_of=AS_OF)
    assert_decision(d, "lks_maturity", value="embrio")


def test_the_lks_fields_are_added_to_institution(engine: Engine) -> None:
    fields = engine.schema.entity("institution").fields
    for name in ("lkks_recommendation", "lkks_recommendation_date", "lkks_meetings_attended",
                 "reports_to_dinsos_last_year"):
        assert fields[name].origin.plugin == "welfare-rules-kota-pekalongan"


def test_the_adapter_groups_the_export_into_households(engine: Engine) -> None:
    loaded = engine.read(HERE / "data" / "export_sample.csv", adapter="kota-pekalongan")
    assert (loaded.rows_read, loaded.rows_quarantined) == (9, 0)
    sizes = sorted(len(h["members"]) for h in loaded.iter_records("household"))
    assert sizes == [2, 3, 4]


def test_the_yaml_rule_tests_pass() -> None:
    results = run_rule_tests([city.HERE / "tests"], engines=EngineCache([city]))
    assert len(results) >= 15
    failed = [r.report() for r in results if not r.passed]
    assert failed == []
