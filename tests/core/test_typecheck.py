"""Type checking at load: every mistake a located RuleTypeError, with a suggestion when close."""

from __future__ import annotations

import pytest

from welfare_rules.errors import RuleTypeError


def single_error(errors_from, body, entity="household"):
    """The one error of a ruleset; every type error is located in its file."""
    errors = errors_from(body, entity=entity)
    assert 1 == len(errors), [str(e) for e in errors]
    where = errors[0].location
    assert (True, True) == (where.file.endswith(".yaml"), where.line is not None)
    return errors[0]


def test_an_unknown_name_suggests_the_closest_field(errors_from):
    """A misspelled field is an error naming it, with "did you mean"."""
    e = single_error(errors_from, "- {id: t_r, when: amont > 1}\n")
    assert (RuleTypeError, "unknown name 'amont' for household — did you mean 'amount'?") == (
        type(e), e.message)


def test_an_unknown_name_suggests_the_closest_rule(errors_from):
    """Rule ids are suggested too."""
    e = single_error(errors_from, """
        - {id: t_eligible, when: a}
        - {id: t_r, when: t_eligble and b}
        """)
    assert "did you mean 't_eligible'?" in e.message


def test_a_type_error_is_located_in_the_file(errors_from):
    """The error carries file, line and column of the offending name."""
    e = single_error(errors_from, """
        - id: t_first
          when: a
        - id: t_r
          when: b and amont > 1
        """)
    # line 9: five header lines, then the rules; column 17: where `amont` starts
    assert ("t_rules.yaml", 9, 17) == (e.location.file.rsplit("/", 1)[-1], e.location.line,
                                       e.location.column)


def test_an_enum_literal_the_field_does_not_declare_is_an_error(errors_from):
    """Comparing an enum with a value it does not declare is caught, with a suggestion."""
    e = single_error(errors_from, "- {id: t_r, when: status == 'closd'}\n")
    assert (RuleTypeError, "'closd' is not a value of enum(open, closed, pending) — did you "
            "mean 'closed'?") == (type(e), e.message)


def test_an_enum_literal_in_a_list_is_checked(errors_from):
    """`status in [...]` checks every literal of the list."""
    e = single_error(errors_from, "- {id: t_r, when: \"status in ['open', 'pendng']\"}\n")
    assert "'pendng' is not a value of enum" in e.message


def test_an_enum_literal_in_a_table_cell_is_checked(errors_from):
    """Decision-table tests on an enum input are checked against its values."""
    e = single_error(errors_from, """
        - id: t_r
          table:
            hit_policy: unique
            inputs: [status]
            rows: [{when: [opne], then: 1}]
        """)
    assert "'opne' is not a value of enum(open, closed, pending) — did you mean 'open'?" in \
        e.message


def test_a_table_default_of_another_type_is_refused(errors_from):
    """The default is one more row of outputs: a number beside text outputs is a located
    error at load (it was not checked: Python gave the text, DuckDB failed converting it)."""
    e = single_error(errors_from, """
        - id: t_r
          table:
            hit_policy: first
            inputs: [x]
            rows: [{when: ["> 0"], then: high}]
            default: 0
        """)
    assert "table 't_r': output 't_r' mixes str and int" == e.message


@pytest.mark.parametrize(("expr", "message"), [
    ("x + 'x'", "'+' needs numbers, found str"),
    ("seen > 3", "cannot compare date with int"),
    ("seen == x", "cannot compare date with int"),
    ("name > 3", "cannot compare str with int"),
    ("a < b", "'<' cannot order true/false values"),
    ("x and a", "'and' needs a condition (true/false), found int"),
    ("not name", "'not' needs a condition (true/false), found str"),
    ("x in 3", "'in' needs a list on the right, found int"),
    ("x in ['a', 'b']", "cannot look for int in list[str]"),
    ("(1 if a else 'one') == 1", "both branches of 'if' must have one type, found int and str"),
    ("- name == 'x'", "'-' needs a number, found str"),
])
def test_a_type_mismatch_is_a_rule_type_error(errors_from, expr, message):
    """Operands of the wrong type are reported with what was expected and found."""
    e = single_error(errors_from, f"- id: t_r\n  when: {expr!r}\n")
    assert (RuleTypeError, message) == (type(e), e.message)


def test_a_when_that_is_not_a_condition_is_an_error(errors_from):
    """`when: x + 1` is a number, not a condition."""
    e = single_error(errors_from, "- {id: t_r, when: x + 1}\n")
    assert "rule 't_r': 'when' must be a condition (true/false), found int" == e.message


def test_a_person_rule_in_household_scope_suggests_counting_members(errors_from):
    """Using a person rule for a household suggests count(members, ...)."""
    errors = errors_from(files={
        "person.yaml": "id: t_p\nentity: person\nrules:\n  - {id: t_is_child, when: age < 18}\n",
        "household.yaml": "id: t_h\nentity: household\nrules:\n"
                          "  - {id: t_has_child, when: t_is_child}\n"})
    assert ["'t_is_child' is a rule of 'person', not of 'household'; use it over related "
            "records, e.g. count(members, t_is_child ...)"] == [e.message for e in errors]


def test_a_person_field_in_household_scope_is_unknown(errors_from):
    """A member's field is not a household name."""
    e = single_error(errors_from, "- {id: t_r, when: age > 3}\n")
    assert "unknown name 'age' for household" in e.message


def test_member_aggregations_see_the_member_fields(engine_from):
    """Inside count(members, ...) names are the member's fields."""
    eng = engine_from("- {id: t_kids, value: 'count(members, age < 18)'}\n")
    d = eng.evaluate("household", {"members": [{"age": 3}, {"age": 30}, {"age": 9}]},
                     as_of="2024-01-01")
    assert 2 == d.value("t_kids")


@pytest.mark.parametrize(("expr", "message"), [
    ("years_between(seen)", "years_between(date, date) -> int: takes 2 argument(s), got 1"),
    ("years_between(seen, seen, seen) > 1",
     "years_between(date, date) -> int: takes 2 argument(s), got 3"),
    ("len(name, name) > 1", "len(str) -> int: takes 1 argument(s), got 2"),
    ("len(x) > 1", "len(str) -> int: argument 1 must be text, found int"),
    ("substr(name) == 'a'", "substr(str, start, length) -> str: takes at least 2 argument(s), "
     "got 1"),
    ("count(members, age < 18, a) > 1", "count(relation[, condition]) takes at most 2 arguments"),
    ("sum(members) > 1", "sum(relation, expression) needs exactly one expression"),
    ("count(x) > 1", "count() needs a relation of household first (relations: members)"),
])
def test_a_function_called_with_the_wrong_arguments_is_an_error(errors_from, expr, message):
    """Arity and argument types of functions are checked."""
    e = single_error(errors_from, f"- id: t_r\n  when: {expr!r}\n")
    assert (RuleTypeError, message) == (type(e), e.message)


def test_an_unknown_function_suggests_the_closest(errors_from):
    """A misspelled function is reported with a suggestion."""
    e = single_error(errors_from, "- {id: t_r, when: 'yeers_between(seen, as_of) > 1'}\n")
    assert "unknown function 'yeers_between' — did you mean 'years_between'?" == e.message


def test_rank_outside_a_child_entity_is_an_error(errors_from):
    """rank() ranks a member among siblings; a household has none."""
    e = single_error(errors_from, "- {id: t_r, value: 'rank(by=[x])'}\n")
    assert (RuleTypeError, "rank() ranks a record among its siblings, but 'household' is not "
            "related to a parent entity") == (type(e), e.message)


def test_rank_inside_a_child_entity_is_accepted(engine_from):
    """In a person rule, rank() orders the household's members."""
    eng = engine_from("- {id: t_rank, value: 'rank(by=[desc(age), nik])'}\n", entity="person")
    d = eng.evaluate("household", {"members": [{"nik": "1", "age": 3}, {"nik": "2", "age": 30},
                                               {"nik": "3", "age": 9}]}, as_of="2024-01-01")
    assert [3, 1, 2] == [m.value("t_rank") for m in d.members]


def test_rank_with_an_unknown_argument_suggests_the_closest(errors_from):
    """rank(whithin=...) suggests within."""
    e = single_error(errors_from, "- {id: t_r, value: 'rank(by=[age], whithin=relationship)'}\n",
                     entity="person")
    assert "rank() has no argument 'whithin' — did you mean 'within'?" == e.message


def test_desc_outside_rank_is_an_error(errors_from):
    """desc() is only a sort key of rank()."""
    e = single_error(errors_from, "- {id: t_r, value: 'desc(x)'}\n")
    assert "'desc(...)' is only allowed inside rank(by=...)" == e.message


def test_a_type_error_message_is_prefixed_with_its_location(errors_from):
    """str(error) starts with file:line:column."""
    e = single_error(errors_from, "- {id: t_r, when: amont > 1}\n")
    assert str(e).startswith(f"{e.location.file}:{e.location.line}:{e.location.column}: ")


def test_every_type_error_of_a_file_is_reported(errors_from):
    """Type errors in several rules all come back together."""
    errors = errors_from("""
        - {id: t_1, when: amont > 1}
        - {id: t_2, when: status == 'opne'}
        - {id: t_3, value: x + 'x'}
        """)
    assert (3, {RuleTypeError}) == (len(errors), {type(e) for e in errors})
