"""Dated parameters: read as of the evaluation date, never a silent zero."""

from __future__ import annotations

import datetime

import pytest

from welfare_rules.errors import ErrorGroup, ParameterError

RULES = """
- id: t_benefit
  value: x * param.t.rate
- id: t_limit
  value: param.t.nested.limit
- id: t_optional
  value: coalesce(param.t.optional_cap, -1)
- id: t_optional_raw
  when: x > param.t.optional_cap
- id: t_plain
  value: x + 1
"""
PARAMS = """
rate:
  title: {id: Besaran, en: Rate}
  unit: IDR
  reference: "Permensos 1/2018 pasal 5"
  values:
    2020-01-01: 100
    2024-07-01: 150
nested:
  limit:
    values: {2000-01-01: 7}
optional_cap:
  optional: true
  type: int
  values: {}
ended:
  values:
    2020-01-01: 5
    2022-01-01: null
"""


@pytest.fixture
def engine(engine_from):
    return engine_from(RULES, params=PARAMS)


def benefit(engine, as_of, rule="t_benefit"):
    return engine.evaluate("household", {"x": 2}, as_of=as_of).value(rule)


def test_a_parameter_value_takes_effect_on_its_date(engine):
    """The day before the new value, the old one; from that day, the new one."""
    assert [200, 300] == [benefit(engine, datetime.date(2024, 6, 30)),
                          benefit(engine, datetime.date(2024, 7, 1))]


def test_a_parameter_name_is_its_file_path_plus_the_keys_inside(engine):
    """`parameters/t.yaml` with `nested: {limit: ...}` is `t.nested.limit`."""
    assert (7, ["t.ended", "t.nested.limit", "t.optional_cap", "t.rate"]) == (
        benefit(engine, "2024-01-01", "t_limit"), sorted(engine.parameters))


def test_a_parameter_without_a_value_in_force_is_an_error_naming_it_and_the_date(engine):
    """Before its first value a parameter is an error naming it, the date and the start."""
    with pytest.raises(ParameterError) as info:
        benefit(engine, datetime.date(2019, 12, 31))
    message = str(info.value)
    assert ("t.rate", True, True, True) == (
        info.value.parameter, "2019-12-31" in message, "2020-01-01" in message,
        "t_benefit" in message)


ENDED = """
- id: t_ended
  value: param.t.ended
"""


def test_a_parameter_ended_by_null_is_an_error_after_that_date(engine_from):
    """`null` ends a parameter: reading it later is an error, not zero."""
    eng = engine_from(ENDED, params=PARAMS)
    with pytest.raises(ParameterError, match=r"'t\.ended' has no value in force on 2023-01-01"):
        benefit(eng, "2023-01-01", "t_ended")


def test_a_parameter_is_read_until_its_value_ends(engine_from):
    """The day before `null` the value is still in force."""
    assert 5 == benefit(engine_from(ENDED, params=PARAMS), "2021-12-31", "t_ended")


def test_a_missing_parameter_does_not_stop_rules_that_do_not_read_it(engine_from):
    """Only a rule that reads a parameter without a value fails, not the whole evaluation."""
    eng = engine_from("""
        - id: t_plain
          value: x + 1
        """, params=PARAMS)
    assert 3 == eng.evaluate("household", {"x": 2}, as_of="1990-01-01").value("t_plain")


def test_an_optional_parameter_without_a_value_reads_unknown(engine):
    """`optional: true` makes a parameter without a value unknown instead of an error."""
    d = engine.evaluate("household", {"x": 2}, as_of="2024-01-01")
    assert (-1, None) == (d.value("t_optional"), d.value("t_optional_raw"))


def test_load_parameters_override_a_value_on_every_date(engine_from):
    """`Engine.load(parameters=...)` sets a value on every date, for what-if work."""
    eng = engine_from(RULES, params=PARAMS, parameters={"t.rate": 1000})
    assert [2000, 2000] == [benefit(eng, "2010-01-01"), benefit(eng, "2030-01-01")]


def test_an_override_of_an_unknown_parameter_is_an_error_with_a_suggestion(engine_from):
    """Overriding a parameter that does not exist fails, suggesting the closest name."""
    with pytest.raises(ParameterError) as info:
        engine_from(RULES, params=PARAMS, parameters={"t.rat": 5})
    assert ("t.rat", True) == (info.value.parameter, "did you mean 't.rate'" in str(info.value))


def test_an_override_of_the_wrong_type_is_an_error(engine_from):
    """A text cannot override a number."""
    with pytest.raises(ParameterError, match=r"t\.rate"):
        engine_from(RULES, params=PARAMS, parameters={"t.rate": "many"})


def test_a_parameter_read_by_a_rule_must_exist(errors_from):
    """A rule reading an unknown parameter is a load error with a suggestion."""
    errors = errors_from("""
        - id: t_r
          value: param.t.rat
        """, params=PARAMS)
    assert ["unknown parameter 'param.t.rat' — did you mean 't.rate'?"] == [
        e.message for e in errors]


def test_a_parameter_whose_values_mix_types_is_a_load_error(tmp_path, engine_from):
    """Values of one parameter have one type."""
    with pytest.raises(ErrorGroup, match="values of different types"):
        engine_from("- {id: t_r, value: x}\n", params="""
            mixed:
              values: {2020-01-01: 1, 2021-01-01: "one"}
            """)


MEMBER_RULES = {
    "p.yaml": """
        id: t_person
        entity: person
        version: "1"
        rules:
          - id: t_share
            value: income * param.t.rate
        """,
    "h.yaml": """
        id: t_household
        entity: household
        version: "1"
        rules:
          - id: t_total
            value: sum(members, t_share)
        """,
}


def test_a_member_rule_reading_a_parameter_without_a_value_is_an_error_naming_it(engine_from):
    """The guard of a parameter without a value on the date stays in the member loop."""
    eng = engine_from(files=MEMBER_RULES, params=PARAMS)
    rec = {"x": 1, "members": [{"income": 2}, {"income": 3}]}
    with pytest.raises(ParameterError, match=r"t\.rate.*t_share"):
        eng.evaluate("household", rec, as_of="2019-12-31")
    # no member reads it: nothing fails, as before
    assert eng.evaluate("household", {"members": []}, as_of="2019-12-31").value("t_total") == 0


def test_code_for_a_date_where_every_parameter_has_a_value_tests_none_of_them(engine_from):
    """The same rules compile without the per-member parameter tests when none can fail, and
    with them (for the parameters without a value only) when some can."""
    eng = engine_from(files=MEMBER_RULES, params=PARAMS)
    rec = {"x": 1, "members": [{"income": 2}, {"income": 3}]}
    d = eng.evaluate("household", rec, as_of="2021-06-01")  # t.rate 100, t.ended 5
    assert d.value("t_total") == 500
    assert "_pmiss" not in d.plan.compiled.child.source
    later = eng.evaluate("household", rec, as_of="2024-07-01")  # t.ended has ended
    assert later.value("t_total") == 750
    assert "_pmiss" not in later.plan.compiled.child.source  # t_share reads t.rate only
    early = eng._plan("household", datetime.date(2019, 12, 31))
    assert "_pmiss(p" in early.compiled.child.source
