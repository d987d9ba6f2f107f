"""Hand-computed acceptance cases of issue 3 for the national rule pack."""

from __future__ import annotations

import datetime

import pytest

from welfare_rules import Engine
from welfare_rules.explain import rule_title

from .conftest import AS_OF, household, person

D = datetime.date
CRITERIA = ["bps_01_floor_area", "bps_02_floor_type", "bps_03_wall_type", "bps_04_toilet",
            "bps_05_electricity", "bps_06_water", "bps_07_cooking_fuel", "bps_08_meat_milk",
            "bps_09_clothes", "bps_10_meals", "bps_11_clinic", "bps_12_head_income",
            "bps_13_head_education", "bps_14_savings"]


# ------------------------------------------------------------------------------- BPS poverty

def test_exactly_nine_criteria_is_poor(engine: Engine) -> None:
    d = engine.evaluate("household", household(met=range(1, 10)), as_of=AS_OF)
    assert (d.value("poor_bps"), d.value("poor_bps_criteria_met")) == (True, 9)


def test_exactly_eight_criteria_is_not_poor(engine: Engine) -> None:
    d = engine.evaluate("household", household(met=range(1, 9)), as_of=AS_OF)
    assert (d.value("poor_bps"), d.status("poor_bps"), d.value("poor_bps_criteria_met")) == \
        (False, "false", 8)


def test_eight_true_and_two_unknown_is_unknown(engine: Engine) -> None:
    d = engine.evaluate("household", household(met=range(1, 9), unknown=(9, 10)), as_of=AS_OF)
    assert d.value("poor_bps") is None
    assert d.status("poor_bps") == "unknown"
    assert [d.value(c) for c in CRITERIA] == [True] * 8 + [None, None] + [False] * 4
    assert d.value("poor_bps_criteria_met") == 8


@pytest.mark.parametrize("lang", ["id", "en"])
def test_explain_poor_bps_lists_every_criterion_value_and_parameter(engine: Engine,
                                                                   lang: str) -> None:
    d = engine.evaluate("household", household(met=range(1, 10)), as_of=AS_OF)
    text = d.explain("poor_bps", lang=lang)
    for rid in CRITERIA:
        assert f"{rule_title(d, engine.rule(rid), lang)} ({rid})" in text
    # the value used and the parameter with its reference
    assert ("Jenis lantai = tanah" if lang == "id" else "Floor type = earth") in text
    assert ("Luas lantai (m²) = 12" if lang == "id" else "Floor area (m²) = 12") in text
    for name in ("bps.min_criteria", "bps.floor_area_per_person_m2", "bps.head_income_threshold",
                 "bps.savings_threshold", "bps.farmer_land_m2"):
        p = engine.parameter(name)
        assert name in text
        assert p.reference in text
    assert ("paling sedikit 9 dari 14" if lang == "id" else "at least 9 of 14") in text
    assert ("YA" if lang == "id" else "YES") in text.splitlines()[1]


def test_explain_unknown_poor_bps_names_the_missing_fields(engine: Engine) -> None:
    d = engine.evaluate("household", household(met=range(1, 9), unknown=(9, 10)), as_of=AS_OF)
    text = d.explain("poor_bps", lang="en")
    assert "Data needed to decide: Meals per day, New clothes per year" in text


# ------------------------------------------------------------------------------- PKH

def _acceptance_family() -> dict[str, object]:
    members = [
        person(D(1988, 7, 7), "male", 1, "head"),
        person(D(1990, 2, 10), "female", 2, "spouse", is_pregnant=True),
        person(D(2019, 4, 4), "male", 3), person(D(2020, 4, 4), "male", 4),
        person(D(2021, 4, 4), "male", 5),
        person(D(2015, 4, 4), "female", 6, school_level="sd"),
        person(D(1950, 8, 8), "female", 9, "parent"),
    ]
    return household(members=members, desil=2)


def test_family_gets_exactly_the_four_highest_components_allowed_by_the_caps(
        engine: Engine) -> None:
    """Pregnancy 3.0M + two young children 2 x 3.0M + elderly 2.4M; the third young child
    is over the early-childhood cap and the SD pupil (0.9M) is the fifth person."""
    d = engine.evaluate("household", _acceptance_family(), as_of=AS_OF)
    assert d.value("pkh_eligible") is True
    assert d.value("pkh_benefit_year") == 3_000_000 + 2 * 3_000_000 + 2_400_000
    counted = [(m.value("pkh_component"), m.value("pkh_counted")) for m in d.members]
    assert counted == [("none", False), ("pregnant", True), ("early_childhood", True),
                       ("early_childhood", True), ("early_childhood", False), ("sd", False),
                       ("elderly", True)]


def test_overriding_the_elderly_age_changes_the_outcome_for_a_65_year_old() -> None:
    grandfather = person(D(1958, 6, 1), "male", 1, "head")
    rec = household(members=[grandfather], desil=2)
    default = Engine.load().evaluate("household", rec, as_of=AS_OF)
    raised = Engine.load(parameters={"pkh.elderly_age": 70}).evaluate("household", rec,
                                                                      as_of=AS_OF)
    assert default.members[0].value("age") == 65
    assert (default.members[0].value("pkh_component"), default.value("pkh_eligible"),
            default.value("pkh_benefit_year")) == ("elderly", True, 2_400_000)
    assert (raised.members[0].value("pkh_component"), raised.value("pkh_eligible"),
            raised.value("pkh_benefit_year")) == ("none", False, 0)


def test_component_rows_follow_the_amounts_in_force(engine: Engine) -> None:
    """pkh_component picks the first matching row, so its rows must stay in descending order
    of the yearly amounts; this fails when a dated amount change breaks that order."""
    rule = engine.rule("pkh_component")
    assert rule.table is not None
    order = [row.outputs[0].value for row in rule.table.rows]  # type: ignore[attr-defined]
    for as_of in (D(2021, 1, 1), D(2023, 1, 1), D(2025, 1, 1)):
        amounts = [engine.parameter(f"pkh.amount.{c}").at(as_of)[0] for c in order]
        assert amounts == sorted(amounts, reverse=True), (as_of, order, amounts)


# ------------------------------------------------------------------------------- checks

def test_deceased_head_is_an_error_and_other_deceased_member_a_warning(engine: Engine) -> None:
    members = [person(D(1980, 1, 1), "male", 1, "head", is_alive=False, name="Budi"),
               person(D(1985, 5, 5), "female", 2, "spouse", death_date=D(2023, 5, 1)),
               person(D(2010, 1, 1), "male", 3)]
    d = engine.evaluate("household", household(members=members, receives_pkh=True), as_of=AS_OF)
    found = [(f.check, f.severity, f.member_index) for f in d.findings
             if f.check == "deceased_recipient"]
    assert found == [("deceased_recipient", "error", 0), ("deceased_recipient", "warning", 1)]
    msg = next(f.message for f in d.findings if f.severity == "error")
    assert "Budi" in msg
    assert "3375********0001" in msg
    assert "3375010101800001" not in msg


def test_nik_findings_carry_severity_and_an_actionable_message(engine: Engine) -> None:
    d = engine.evaluate("person", {"nik": "3375014101900001", "sex": "male", "name": "Ani",
                                   "birth_date": D(1990, 1, 2)}, as_of=AS_OF)
    assert sorted((f.check, f.severity) for f in d.findings) == [
        ("nik_birth_date_mismatch", "warning"), ("nik_sex_mismatch", "warning")]
    assert all("KTP/KK" in f.message for f in d.findings)


# ------------------------------------------------------------------------------- LKS

LKS = {"id": "LKS-001", "name": "LKS Melati", "founded": D(2015, 1, 1), "legal_entity": True,
       "notarial_deed": True, "menkumham_approval": True, "npwp": "01.234.567.8-501.000",
       "ad_art": True, "officers_complete": True, "work_programme": True,
       "domicile_letter_date": D(2023, 1, 10), "registration_number": "460/123/2022",
       "registration_date": D(2022, 3, 1), "accreditation_grade": "A",
       "accreditation_date": D(2021, 6, 1), "staff_count": 8, "social_workers": 2,
       "clients_per_year": 40, "active_programmes": 3, "funding_sources": 3,
       "reports_last_3_years": 3}


@pytest.mark.parametrize(("as_of", "basis"), [
    (D(2012, 1, 1), "Permensos 184/2011"), (D(2024, 6, 30), "Permensos 184/2011"),
    (D(2024, 7, 1), "Permensos 5/2024"), (D(2025, 1, 1), "Permensos 5/2024")])
def test_lks_legal_basis_on_both_sides_of_the_date(engine: Engine, as_of: datetime.date,
                                                   basis: str) -> None:
    d = engine.evaluate("institution", LKS, as_of=as_of)
    assert d.value("lks_legal_basis") == basis
    assert basis in engine.rule("lks_legal_basis", as_of).reference


@pytest.mark.parametrize(("changes", "level"), [
    ({}, "mandiri"),
    ({"funding_sources": 1}, "berkembang"),
    ({"reports_last_3_years": 1}, "tumbuh"),
    ({"registration_number": None}, "embrio"),
])
def test_lks_maturity_levels(engine: Engine, changes: dict[str, object], level: str) -> None:
    d = engine.evaluate("institution", {**LKS, **changes}, as_of=AS_OF)
    assert (d.value("lks_maturity"), d.status("lks_maturity")) == (level, "value")


def test_lks_explanation_says_what_the_next_level_needs(engine: Engine) -> None:
    rec = {**LKS, "legal_entity": False, "founding_note_legalised": True,
           "reports_last_3_years": 1}
    d = engine.evaluate("institution", rec, as_of=AS_OF)
    assert d.value("lks_maturity") == "tumbuh"
    en = d.explain("lks_maturity", lang="en")
    assert ("To reach berkembang it still needs: Legal entity (notarial deed and Menkumham "
            "approval)") in en
    assert ("Annual reports in the last 3 years: at least 2 (Annual reports in the last 3 "
            "years = 1)") in en
    idn = d.explain("lks_maturity", lang="id")
    assert "Untuk mencapai berkembang masih perlu" in idn
    assert ("Laporan tahunan dalam 3 tahun terakhir paling sedikit 2 (Laporan tahunan 3 tahun "
            "terakhir = 1)") in idn


def test_lks_unknown_criterion_stops_the_climb_and_names_the_field(engine: Engine) -> None:
    d = engine.evaluate("institution", {**LKS, "reports_last_3_years": None}, as_of=AS_OF)
    assert (d.value("lks_maturity"), d.status("lks_maturity")) == ("tumbuh", "unknown")
    assert "Data needed to decide: Annual reports in the last 3 years" in d.explain(
        "lks_maturity", lang="en")


def test_lks_documents_explanation_lists_what_is_missing(engine: Engine) -> None:
    rec = {**LKS, "npwp": None, "menkumham_approval": False}
    d = engine.evaluate("institution", rec, as_of=AS_OF)
    assert d.value("lks_documents_complete") is False
    missing = [line.strip() for line in d.explain("lks_documents_complete", lang="en")
               .splitlines() if line.strip().startswith("[ ]")]
    assert missing == ["[ ] Registration documents complete for the legal status "
                       "(lks_documents_complete): NO",
                       "[ ] Menkumham approval (legal entity) (lks_doc_menkumham): NO",
                       "[ ] Tax number NPWP (legal entity) (lks_doc_npwp): NO"]
