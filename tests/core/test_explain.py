"""Explanations in Indonesian and English: criteria, values used, parameters, origin, masking."""

from __future__ import annotations

import json

import pytest

from .conftest import AS_OF

RULES = """
- id: t_eligible
  title: {id: Layak menerima, en: Eligible}
  reference: "Permensos 1/2018 pasal 3"
  all:
    - id: t_enough
      title: {id: Jumlah cukup, en: Enough}
      when: x >= param.t.minimum
    - id: t_flag
      title: {id: Syarat B terpenuhi, en: Condition B met}
      when: b
    - d
- id: t_children
  title: {id: Jumlah anak, en: Children}
  value: count(members, age < 18)
"""
PARAMS = """
minimum:
  title: {id: Batas minimum, en: Minimum}
  reference: "Kepmensos 146/2013"
  values: {2020-01-01: 3, 2023-07-01: 4}
"""
HEAD_NIK = "3375011234567890"
KK = "3375010101010001"


@pytest.fixture
def engine(engine_from):
    return engine_from(RULES, params=PARAMS)


def household(**fields):
    return {"id": KK, "x": 5, "b": True, "d": True, **fields,
            "members": [{"nik": HEAD_NIK, "age": 40}, {"nik": "3375019876543210", "age": 7}]}


def explain(engine, rule, record=None, **kwargs):
    d = engine.evaluate("household", record or household(), as_of=AS_OF)
    return d.explain(rule, **kwargs)


def test_explanations_in_indonesian_and_english_differ_in_language(engine):
    """lang="id" speaks Indonesian, lang="en" English."""
    id_text, en_text = explain(engine, "t_eligible", lang="id"), explain(engine,
                                                                        "t_eligible", lang="en")
    assert (True, True, True, True) == (
        "[x] Layak menerima (t_eligible): YA" in id_text,
        "[x] Eligible (t_eligible): YES" in en_text,
        "Sumber aturan:" in id_text, "Rule from:" in en_text)


def test_an_explanation_lists_each_criterion_with_its_outcome(engine):
    """Every criterion appears with its title and result."""
    text = explain(engine, "t_eligible", household(b=False), lang="en")
    assert (True, True) == ("[x] Enough (t_enough): YES" in text,
                            "[ ] Condition B met (t_flag): NO" in text)


def test_an_explanation_shows_the_values_used(engine):
    """The fields a criterion read are shown with their labels and values."""
    text = explain(engine, "t_eligible", lang="en")
    assert "data used: Amount X = 5" in text


def test_a_field_without_a_label_is_shown_by_its_name(engine):
    """A field the schema gives no label is named, never left blank."""
    text = explain(engine, "t_eligible", lang="en")
    assert ("data used: d = yes" in text, "data used:  =" in text) == (True, False)


def test_an_explanation_shows_parameters_with_their_effective_date_and_reference(engine):
    """A parameter is shown with its value, the date it took effect and its reference."""
    text = explain(engine, "t_eligible", lang="en")
    assert ("Parameter t.minimum = 4 (in force since 1 July 2023); Legal basis: no legal "
            "basis recorded; Sources: Kepmensos 146/2013") in text


def test_parameter_dates_are_said_in_indonesian_too(engine):
    """"berlaku sejak" and "Dasar hukum" in Indonesian, the date in words."""
    text = explain(engine, "t_eligible", lang="id")
    assert ("Parameter t.minimum = 4 (berlaku sejak 1 Juli 2023); Dasar hukum: dasar hukum "
            "belum dicatat; Rujukan: Kepmensos 146/2013") in text


def test_an_explanation_names_the_rule_reference_and_origin(engine):
    """The rule's basis, its sources and its origin (plugin and file) close the
    explanation; a reference is a source, not a basis."""
    lines = explain(engine, "t_eligible", lang="en").splitlines()
    assert lines[-3] == "Legal basis: no legal basis recorded"
    assert lines[-2] == "Sources: Permensos 1/2018 pasal 3"
    assert lines[-1].startswith("Rule from: t-pack, rules/t_rules.yaml (layers: national")


def test_an_unknown_outcome_says_which_fields_need_verification(engine):
    """Unknown: the missing inputs that would decide it."""
    text = explain(engine, "t_eligible", household(b=None), lang="en")
    assert ("[?] Eligible (t_eligible): NOT YET KNOWN", True) == (
        text.splitlines()[1], "Data needed to decide: Condition B" in text)


def test_needs_verification_is_said_in_indonesian(engine):
    """The same in Indonesian."""
    text = explain(engine, "t_eligible", household(b=None, x=None), lang="id")
    assert "Data yang diperlukan untuk memastikan: Syarat B, Jumlah X" in text


def test_the_record_number_is_masked_by_default(engine):
    """The family card number in the header is masked."""
    first = explain(engine, "t_eligible", lang="en").splitlines()[0]
    assert "Household 3375********0001 — as of 1 January 2024" == first


def test_member_niks_are_masked_by_default(engine):
    """Members listed in an explanation show masked NIKs."""
    text = explain(engine, "t_children", lang="en")
    assert (True, False) == ("3375********7890" in text, HEAD_NIK in text)


def test_unmask_shows_the_niks(engine):
    """unmask=True shows the full NIK and family card number."""
    text = explain(engine, "t_children", lang="en", unmask=True)
    assert (True, True) == (HEAD_NIK in text, KK in text)


def test_an_explanation_can_be_json(engine):
    """fmt="json" gives the same content as data."""
    data = json.loads(explain(engine, "t_eligible", lang="en", fmt="json"))
    tree = data["tree"]
    assert ("t_eligible", "true", ["t_enough", "t_flag", "t_eligible#3"]) == (
        tree["id"], tree["status"], [c["id"] for c in tree["children"]])


def test_explaining_an_unknown_rule_suggests_the_closest(engine):
    """A misspelled rule id is a KeyError with a suggestion."""
    d = engine.evaluate("household", household(), as_of=AS_OF)
    with pytest.raises(KeyError, match="did you mean 't_eligible'"):
        d.explain("t_eligble")


def test_to_dict_gives_values_and_statuses(engine):
    """to_dict() maps every visible rule to its value, with statuses under _status."""
    d = engine.evaluate("household", household(b=None), as_of=AS_OF)
    assert ({"t_children": 1, "t_eligible": None, "t_enough": True, "t_flag": None},
            {"t_children": "value", "t_eligible": "unknown", "t_enough": "true",
             "t_flag": "unknown"}) == (
        {k: v for k, v in d.to_dict().items() if k != "_status"}, d.to_dict()["_status"])


def test_to_dict_is_json_serialisable(engine):
    """A decision's dict can be written as JSON."""
    d = engine.evaluate("household", household(), as_of=AS_OF)
    assert d.to_dict() == json.loads(json.dumps(d.to_dict()))


def test_repr_html_renders_a_table_of_rules(engine):
    """_repr_html_() is HTML listing the rules with their title and outcome, in words."""
    html = engine.evaluate("household", household(), as_of=AS_OF)._repr_html_()
    assert (True, True, True) == (html.startswith("<div>"),
                                  "<td>Layak menerima</td><td>YA</td>" in html,
                                  "<td>Jumlah anak</td><td>1</td>" in html)


def test_repr_html_escapes_record_text(engine_from):
    """Text from rules or data is escaped in HTML."""
    eng = engine_from("- {id: t_name, value: name}\n")
    html = eng.evaluate("household", {"name": "<script>x</script>"}, as_of=AS_OF)._repr_html_()
    assert ("<script>" in html, "&lt;script&gt;" in html) == (False, True)
