"""The city adapter through the engine, `welfare-rules plugins` data, and the plugin author kit
(helpers and hypothesis strategies)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules import Engine, hookimpl, plugin_report
from welfare_rules.testing import (
    assert_decision,
    household,
    institution,
    make_nik,
    person,
    plugin_engine,
    plugins_registered,
)
from welfare_rules.testing.strategies import households, records

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "adapters" / "fixtures" / "pekalongan_export.csv"
AS_OF = datetime.date(2024, 7, 1)
CITY = "welfare-rules-kota-pekalongan"


@pytest.fixture(scope="module")
def city() -> Engine:
    return Engine.load(plugins=["kota-pekalongan"])


# ---------------------------------------------------------------------------------------------
# The adapter


def test_the_city_adapter_reads_the_export_into_households_with_members(city: Engine) -> None:
    loaded = city.read(EXPORT, adapter="kota-pekalongan")
    assert loaded.rows_read == loaded.rows_valid + loaded.rows_quarantined == 9
    families = {h["id"]: h for h in loaded.iter_records("household")}
    assert {k: len(h["members"]) for k, h in families.items()} == {
        "3375010101230001": 4, "3375020202180002": 3, "3375030303150003": 2}
    first = families["3375010101230001"]
    assert first["kelurahan"] == "Kramatsari"
    assert [m["relationship"] for m in first["members"]] == ["head", "spouse", "child", "parent"]
    assert all(m["household_id"] == "3375010101230001" for m in first["members"])


def test_the_export_evaluates_with_the_city_checks(city: Engine) -> None:
    loaded = city.read(EXPORT, adapter="kota-pekalongan")
    findings = {h["id"]: {f.check for f in city.evaluate("household", h, as_of=AS_OF).findings}
                for h in loaded.iter_records("household")}
    # Kramatsari was merged into Pasirkratonkramat in 2015: the record needs its address updated
    assert "kelurahan_not_in_city" in findings["3375010101230001"]
    assert not any("kk_not_in_city" in f for f in findings.values())


def test_the_adapter_is_contributed_by_the_city_plugin(city: Engine) -> None:
    assert "kota-pekalongan" in city.adapters
    assert "kota-pekalongan" not in Engine.load().adapters


# ---------------------------------------------------------------------------------------------
# welfare-rules plugins


def test_describe_lists_what_the_city_plugin_contributes(city: Engine) -> None:
    info = {p["name"]: p for p in plugin_report.describe(city)}[CITY]
    assert (info["version"], info["layer"]) == ("0.1.0", "city")
    c = info["contributes"]
    assert "institution.lkks_meetings_attended" in c["fields"]
    assert {"kk_not_in_city", "lks_maturity", "kelurahan_not_in_city"} <= set(c["rules"])
    assert {"lks_maturity", "poverty_line_month", "param.exclusion.min_wage_month"} <= set(
        c["overrides"])
    assert info["requires"] == ["jawa-tengah"]
    assert "kota_pekalongan.region.kecamatan" in c["parameters"]
    assert [f["name"] for f in c["functions"]] == ["region_name"]
    assert c["functions"][0]["sql"] is True
    assert c["adapters"] == ["kota-pekalongan"]
    assert c["rule_tests"]
    assert c["rule_tests"][0].endswith("tests")
    assert {r["id"] for r in c["rulesets"]} == {
        "kota_pekalongan_household", "kota_pekalongan_lks", "kota_pekalongan_poverty_line",
        "kota_pekalongan_region"}
    json.dumps(plugin_report.describe(city))  # plain data


def test_installed_lists_entry_points_even_when_not_loaded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELFARE_RULES_PLUGINS", "none")
    eps = {e["name"]: e for e in plugin_report.installed()}
    assert eps["kota-pekalongan"]["dist"] == CITY
    assert eps["kota-pekalongan"]["version"] == "0.1.0"
    assert eps["kota-pekalongan"]["allowed"] is False


def test_render_text_shows_plugins_versions_and_contributions(city: Engine) -> None:
    text = plugin_report.render_text({"loaded": plugin_report.describe(city),
                                      "installed": plugin_report.installed()})
    assert f"{CITY} 0.1.0  (city, entry point of {CITY})" in text
    assert "kota-pekalongan" in text
    assert "region_name(str) -> str" in text
    assert "overrides (3): lks_maturity, poverty_line_month, param.exclusion.min_wage_month" \
        in text
    assert ("Layers: national → province welfare-rules-jawa-tengah 0.1.0 → city "
            f"{CITY} 0.1.0") in text
    assert "    requires: jawa-tengah" in text


# ---------------------------------------------------------------------------------------------
# Helpers


def test_builders_make_valid_records_that_raise_no_national_finding() -> None:
    engine = Engine.load()
    d = engine.evaluate("household", household(), as_of=AS_OF)
    assert d.findings == []
    hh = household(members=[person(), person(relationship="spouse", sex="female")])
    assert len({m["nik"] for m in hh["members"]}) == 2
    assert all(m["household_id"] == hh["id"] for m in hh["members"])
    assert engine.evaluate("household", hh, as_of=AS_OF).findings == []


def test_make_nik_encodes_birth_date_and_sex() -> None:
    nik = make_nik(datetime.date(1985, 7, 15), "female", region="337502", serial=2)
    assert nik == "3375025507850002"


def test_builders_take_plugin_fields_and_missing_values() -> None:
    rec = institution(lkks_meetings_attended=3, name=None)
    assert rec["lkks_meetings_attended"] == 3
    assert rec["name"] is None


def test_assert_decision_passes_and_fails_with_a_readable_message(city: Engine) -> None:
    d = city.evaluate("household", household(id="3326011501200001"), as_of=AS_OF)
    assert_decision(d, "kk_not_in_city", value=True, status="true")
    with pytest.raises(AssertionError) as err:
        assert_decision(d, "kk_not_in_city", value=False, status="false")
    msg = str(err.value)
    assert msg.startswith("rule 'kk_not_in_city': value: expected False, got True; "
                          "status: expected 'false', got 'true'")
    assert "kota_pekalongan.region.code = 3375" in msg  # the explanation, with the parameter


def test_assert_decision_shows_unknown_plainly(city: Engine) -> None:
    d = city.evaluate("household", household(kelurahan=None), as_of=AS_OF)
    with pytest.raises(AssertionError, match=r"expected True, got unknown \(None\)"):
        assert_decision(d, "kelurahan_kecamatan_mismatch", value=True)


class _Extra:
    PLUGIN_NAME = "welfare-rules-extra"

    @hookimpl
    def register_schema(self, register: object) -> None:
        register({"entities": {"household": {"fields": {"extra_flag": {"type": "bool"}}}}})  # type: ignore[operator]


def test_plugin_engine_loads_a_plugin_for_one_test() -> None:
    engine = plugin_engine(_Extra())
    assert "extra_flag" in engine.schema.entity("household").fields
    assert "extra_flag" not in Engine.load().schema.entity("household").fields


def test_plugins_registered_applies_to_every_load_inside_the_block() -> None:
    with plugins_registered(_Extra()) as engine:
        assert "extra_flag" in engine.schema.entity("household").fields
        inner = Engine.load(plugins=["kota-pekalongan"])
        assert "extra_flag" in inner.schema.entity("household").fields
    assert "extra_flag" not in Engine.load().schema.entity("household").fields


# ---------------------------------------------------------------------------------------------
# Strategies


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_records_follow_the_schema_plugin_fields_included(data: st.DataObject) -> None:
    engine = _city_engine()
    rec = data.draw(records(engine, "institution", missing=0.2))
    fields = engine.schema.entity("institution").fields
    assert set(rec) == set(fields)
    assert isinstance(rec["id"], str)
    for name, value in rec.items():
        if value is None:
            continue
        fld = fields[name]
        if fld.type.kind == "enum":
            assert value in fld.type.values
        if fld.type.kind in ("int", "decimal"):
            assert fld.min is None or value >= fld.min
            assert fld.max is None or value <= fld.max
        if fld.type.kind == "date":
            assert datetime.date(1900, 1, 1) <= value <= datetime.date(2031, 1, 1)
    assert "lkks_meetings_attended" in rec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_households_have_members_with_valid_niks_and_one_head(data: st.DataObject) -> None:
    engine = _city_engine()
    hh = data.draw(households(engine, min_members=1, max_members=5))
    assert len(hh["id"]) == 16
    assert hh["id"].isdigit()
    members = hh["members"]
    assert 1 <= len(members) <= 5
    niks = [m["nik"] for m in members]
    assert all(len(n) == 16 and n.isdigit() for n in niks)
    assert len(set(niks)) == len(niks)
    assert all(m["household_id"] == hh["id"] for m in members)
    heads = [m for m in members if m.get("relationship") == "head"]
    assert len(heads) <= 1
    assert (not heads or members[0] is heads[0])
    for m in members:
        bd = m.get("birth_date")
        if bd is not None and m.get("sex") is not None:
            day = int(m["nik"][6:8]) - (40 if m["sex"] == "female" else 0)
            assert (day, int(m["nik"][8:10])) == (bd.day, bd.month)
        if m.get("is_alive"):
            assert m.get("death_date") is None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_households_evaluate_without_errors(data: st.DataObject) -> None:
    engine = _city_engine()
    hh = data.draw(households(engine, max_members=4, missing=0.3))
    d = engine.evaluate("household", hh, as_of=AS_OF)
    assert d.status("kk_not_in_city") in ("true", "false", "unknown")


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_missing_zero_gives_complete_records(data: st.DataObject) -> None:
    rec = data.draw(records(_city_engine(), "person", missing=0))
    # a living person has no date of death; everything else is present
    assert all(v is not None for k, v in rec.items() if k != "death_date")
    assert (rec["death_date"] is None) == rec["is_alive"]


_ENGINE: list[Engine] = []


def _city_engine() -> Engine:
    if not _ENGINE:
        _ENGINE.append(Engine.load(plugins=["kota-pekalongan"]))
    return _ENGINE[0]
