"""Three-valued semantics of expressions, member aggregations and person-level findings."""

from __future__ import annotations

import pytest

from welfare_rules.errors import EvaluationError

from .conftest import AS_OF

EXPRESSIONS = """
- {id: t_chain, when: 1 < x <= 10}
- {id: t_in, when: "status in ['open', 'pending']"}
- {id: t_not_in, when: "status not in ['open']"}
- {id: t_if, value: "y if a else z"}
- {id: t_missing, when: is_missing(x)}
- {id: t_coalesce, value: "coalesce(x, y, 0)"}
- {id: t_age, value: "years_between(seen, as_of)"}
- {id: t_text, when: "startswith(name, '33') and len(name) == 4"}
"""


@pytest.fixture
def exprs(engine_from):
    return engine_from(EXPRESSIONS)


def values(eng, record, *rules):
    d = eng.evaluate("household", record, as_of=AS_OF)
    return [d.value(r) for r in rules]


@pytest.mark.parametrize(("x", "expected"), [(1, False), (2, True), (10, True), (11, False),
                                             (None, None)])
def test_chained_comparisons_hold_for_every_link(exprs, x, expected):
    """`1 < x <= 10` is both comparisons; a missing x is unknown."""
    assert [expected] == values(exprs, {"x": x}, "t_chain")


def test_in_and_not_in_with_a_list(exprs):
    """`in` / `not in` test membership; a missing value is unknown."""
    assert [[True, False], [False, True], [None, None]] == [
        values(exprs, {"status": s}, "t_in", "t_not_in") for s in ("open", "closed", None)]


@pytest.mark.parametrize(("a", "expected"), [(True, 1), (False, 2), (None, None)])
def test_a_conditional_with_an_unknown_test_is_unknown(exprs, a, expected):
    """`y if a else z` picks a branch; unknown `a` gives unknown."""
    assert [expected] == values(exprs, {"a": a, "y": 1, "z": 2}, "t_if")


def test_is_missing_and_coalesce_are_never_unknown(exprs):
    """is_missing() and coalesce() decide even when inputs are missing."""
    assert [[True, 0], [False, 5]] == [values(exprs, {}, "t_missing", "t_coalesce"),
                                       values(exprs, {"x": 5}, "t_missing", "t_coalesce")]


def test_as_of_is_the_evaluation_date(exprs):
    """`as_of` is the date the record is evaluated for."""
    import datetime

    assert [3] == values(exprs, {"seen": datetime.date(2020, 6, 1)}, "t_age")


def test_text_functions(exprs):
    """startswith() and len() work on text fields."""
    assert [[True], [False], [None]] == [values(exprs, {"name": n}, "t_text")
                                         for n in ("3375", "1234", None)]


MEMBERS = """
- {id: t_count_kids, value: "count(members, age < 18)"}
- {id: t_any_kid, when: "any(members, age < 18)"}
- {id: t_all_adults, when: "all(members, age >= 18)"}
- {id: t_income, value: "sum(members, income)"}
- {id: t_youngest, value: "min(members, age)"}
- {id: t_adult_income, value: "sum(members, income, where=age >= 18)"}
- {id: t_size, value: count(members)}
"""


@pytest.fixture
def members(engine_from):
    return engine_from(MEMBERS)


def test_member_aggregations_over_known_values(members):
    """count/any/all/sum/min over members."""
    rec = {"members": [{"age": 40, "income": 100}, {"age": 10, "income": 0}]}
    assert [1, True, False, 100, 10, 100, 2] == values(
        members, rec, "t_count_kids", "t_any_kid", "t_all_adults", "t_income", "t_youngest",
        "t_adult_income", "t_size")


def test_member_aggregations_with_an_unknown_member(members):
    """An unknown member value makes count/sum/min unknown; any/all decide when they can."""
    rec = {"members": [{"age": 10, "income": 5}, {"income": 7}]}
    assert [None, True, False, 12, None, None] == values(
        members, rec, "t_count_kids", "t_any_kid", "t_all_adults", "t_income", "t_youngest",
        "t_adult_income")


def test_member_aggregations_of_no_members(members):
    """No members: count 0, any false, all true, sum 0, min unknown."""
    assert [0, False, True, 0, None, 0] == values(
        members, {"members": []}, "t_count_kids", "t_any_kid", "t_all_adults", "t_income",
        "t_youngest", "t_size")


PERSON_CHECK = """
- id: t_too_old
  kind: check
  when: age > 120
  severity: error
  message: {id: "Umur {age} tidak wajar (NIK {nik})", en: "Age {age} implausible (NIK {nik})"}
"""


def test_a_person_check_gives_findings_for_the_members_of_a_household(engine_from):
    """A check of the person entity applies to each member of an evaluated household."""
    eng = engine_from(PERSON_CHECK, entity="person")
    d = eng.evaluate("household", {"id": "1", "members": [
        {"nik": "3375011234567890", "age": 130}, {"nik": "3375019999999999", "age": 30}]},
        as_of=AS_OF)
    assert [("t_too_old", "error", 0, "Umur 130 tidak wajar (NIK 3375********7890)")] == [
        (f.check, f.severity, f.member_index, f.message) for f in d.findings]


def test_a_person_can_be_evaluated_on_its_own(engine_from):
    """evaluate("person", ...) evaluates one person."""
    eng = engine_from(PERSON_CHECK, entity="person")
    d = eng.evaluate("person", {"nik": "3375011234567890", "age": 130}, as_of=AS_OF)
    assert True is d.value("t_too_old")


def test_evaluating_an_unknown_entity_suggests_the_closest(members):
    """A misspelled entity is an EvaluationError with a suggestion."""
    with pytest.raises(EvaluationError, match="did you mean 'household'"):
        members.evaluate("housold", {}, as_of=AS_OF)


def test_a_record_must_be_a_mapping(members):
    """Evaluating a list is an error that says so."""
    with pytest.raises(EvaluationError, match="a record is a mapping"):
        members.evaluate("household", [1, 2], as_of=AS_OF)


@pytest.mark.parametrize("body", [
    "- {id: t_r, when: x < 1e999}\n",
    "- {id: t_r, value: -1e999}\n",
    "- id: t_r\n  table:\n    hit_policy: first\n    inputs: [x]\n"
    "    rows: [{when: [\"< 3\"], then: .inf}]\n",
])
def test_a_literal_too_large_for_a_float_is_refused_at_load(errors_from, body):
    """Literals that would overflow to infinity (`1e999`, YAML `.inf`) are located load errors
    (docs/security.md: numbers are finite on every backend)."""
    errors = errors_from(body)
    assert 1 == len(errors)
    assert "finite" in str(errors[0])
