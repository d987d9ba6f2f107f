"""Loading: effective-dated rulesets, cycles, and every mistake reported at once, located."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from welfare_rules.errors import CycleError, ErrorGroup, RuleLoadError

from .conftest import ROOT, ruleset

OLD = ruleset("""
    - id: t_amount
      value: x * 10
    - id: t_uses_amount
      value: t_amount + 1
    """, rs_id="t_old", header="effective: {from: 2020-01-01, until: 2024-01-01}\n")
NEW = ruleset("""
    - id: t_amount
      value: x * 20
    """, rs_id="t_new", header="effective: {from: 2024-01-01}\n")


@pytest.fixture
def versions(engine_from):
    return engine_from(files={"old.yaml": OLD, "new.yaml": NEW})


def amount(engine, as_of, rule="t_amount"):
    return engine.evaluate("household", {"x": 1}, as_of=as_of).value(rule)


def test_each_date_gets_the_version_of_the_rule_in_force(versions):
    """The day before a new version takes effect, the old one; from that day, the new."""
    assert [10, 20] == [amount(versions, datetime.date(2023, 12, 31)),
                        amount(versions, datetime.date(2024, 1, 1))]


def test_a_rule_using_a_versioned_rule_reads_the_version_in_force(versions):
    """Dependents see the version of the date they are evaluated for."""
    assert 11 == amount(versions, "2023-06-01", "t_uses_amount")


def test_a_rule_of_an_ended_ruleset_is_not_in_force(versions):
    """`until` is exclusive: from that day the old ruleset's own rules are unknown."""
    d = versions.evaluate("household", {"x": 1}, as_of="2024-01-01")
    assert (None, "unknown", False) == (d.value("t_uses_amount"), d.status("t_uses_amount"),
                                        d.in_force("t_uses_amount"))
    assert "is not in force on 1 January 2024" in d.explain("t_uses_amount", lang="en")


def test_before_every_version_the_rule_is_not_in_force(versions):
    """Before the first version takes effect the rule is unknown (not an error)."""
    d = versions.evaluate("household", {"x": 1}, as_of="2019-12-31")
    assert (None, "unknown") == (d.value("t_amount"), d.status("t_amount"))
    with pytest.raises(KeyError, match="unknown rule 'no_such_rule'"):
        d.value("no_such_rule")


def test_engine_rule_returns_the_version_in_force(versions):
    """`engine.rule(id, as_of)` is the dated version, with its ruleset."""
    assert ["t_old", "t_new"] == [versions.rule("t_amount", datetime.date(2021, 1, 1)).ruleset,
                                  versions.rule("t_amount", datetime.date(2025, 1, 1)).ruleset]


def test_a_rule_may_carry_its_own_effective_window(engine_from):
    """`effective:` on a rule dates that rule within its ruleset."""
    eng = engine_from("""
        - id: t_rate
          value: 1
          effective: {until: 2022-01-01}
        - id: t_rate
          value: 2
          effective: {from: 2022-01-01}
        """)
    assert [1, 2] == [amount(eng, "2021-12-31", "t_rate"), amount(eng, "2022-01-01", "t_rate")]


def test_overlapping_windows_of_one_origin_are_a_load_error(errors_from):
    """Two versions in force on the same day are rejected, naming both places."""
    errors = errors_from(files={
        "old.yaml": OLD,
        "new.yaml": NEW.replace("from: 2024-01-01", "from: 2023-06-01")})
    assert 1 == len(errors)
    assert ("with overlapping effective dates", "old.yaml") == (
        "with overlapping effective dates" if "overlapping" in str(errors[0]) else str(errors[0]),
        "old.yaml" if "old.yaml" in str(errors[0]) else str(errors[0]))


# -- cycles -----------------------------------------------------------------------------------

def test_a_cycle_of_rules_is_a_load_error_naming_the_cycle(errors_from):
    """a → b → c → a is a CycleError listing the rules around the loop."""
    errors = errors_from("""
        - id: t_a
          when: t_b
        - id: t_b
          value: 1 if t_c else 0
          type: int
        - id: t_c
          when: t_a and x > 1
        """)
    cycles = [e for e in errors if isinstance(e, CycleError)]
    assert 1 == len(cycles)
    cycle = cycles[0].cycle
    assert (True, {"t_a", "t_b", "t_c"}, 4) == (cycle[0] == cycle[-1], set(cycle), len(cycle))
    assert " -> ".join(cycle) in str(cycles[0])


def test_a_rule_referring_to_itself_is_a_cycle(errors_from):
    """A rule cannot use its own value."""
    errors = errors_from("""
        - id: t_self
          value: t_self + 1
        """)
    assert [["t_self", "t_self"]] == [e.cycle for e in errors if isinstance(e, CycleError)]


def test_a_cycle_through_named_criteria_is_found(errors_from):
    """A loop through a criterion of another rule is a cycle too."""
    errors = errors_from("""
        - id: t_outer
          all:
            - id: t_crit
              when: t_other
        - id: t_other
          when: not t_outer
        """)
    assert 1 == sum(isinstance(e, CycleError) for e in errors)


def test_a_cycle_error_is_a_rule_load_error(errors_from):
    """CycleError is a RuleLoadError (a ValueError), located at a rule of the loop."""
    errors = errors_from("- {id: t_a, when: t_b}\n- {id: t_b, when: t_a}\n")
    cycle = next(e for e in errors if isinstance(e, CycleError))
    assert (True, True) == (isinstance(cycle, RuleLoadError), cycle.location.line is not None)


# -- every mistake at once, located -----------------------------------------------------------

THREE_MISTAKES = """\
id: t_mistakes
entity: household
version: '1'
rules:
  - id: t_first
    titel: {id: Pertama, en: First}
    when: x > 1
  - id: t_second
    when: status == "opne"
  - id: t_third
    value: x +
"""


def test_three_mistakes_in_one_file_are_reported_together_with_their_locations(errors_from):
    """An unknown key, an undeclared enum value and a syntax error: three located errors."""
    errors = errors_from(files={"mistakes.yaml": THREE_MISTAKES})
    found = sorted((e.location.line, e.location.column) for e in errors)
    assert [(6, 12), (9, 21), (11, 12)] == found


def test_each_error_names_the_file_line_and_column(errors_from):
    """Every message starts with file:line:column."""
    errors = errors_from(files={"mistakes.yaml": THREE_MISTAKES})
    assert 3 == sum(str(e).split(": ")[0].endswith(
        f"mistakes.yaml:{e.location.line}:{e.location.column}") for e in errors)


def test_an_unknown_key_suggests_the_closest_one(errors_from):
    """`titel` → did you mean 'title'."""
    errors = errors_from(files={"mistakes.yaml": THREE_MISTAKES})
    assert 1 == sum("unknown key(s) 'titel' — did you mean 'title'?" in str(e) for e in errors)


def test_an_undeclared_enum_value_suggests_the_closest_declared_one(errors_from):
    """`"opne"` is not a status; did you mean 'open'."""
    errors = errors_from(files={"mistakes.yaml": THREE_MISTAKES})
    assert 1 == sum("'opne' is not a value of enum(open, closed, pending) — did you mean "
                    "'open'?" in str(e) for e in errors)


def test_a_syntax_error_is_reported_with_the_expression(errors_from):
    """The syntax error quotes the expression."""
    errors = errors_from(files={"mistakes.yaml": THREE_MISTAKES})
    assert 1 == sum("invalid syntax" in str(e) and "'x +'" in str(e) for e in errors)


def test_errors_of_several_files_are_reported_together(errors_from):
    """Mistakes in two files come back in one ErrorGroup."""
    errors = errors_from(files={
        "one.yaml": ruleset("- {id: t_one, when: unknown_field}\n", rs_id="t_one_set"),
        "two.yaml": ruleset("- {id: t_two, value: x +* 2}\n", rs_id="t_two_set")})
    assert ["one.yaml", "two.yaml"] == sorted(e.location.file.rsplit("/", 1)[-1]
                                              for e in errors)


def test_an_error_group_message_lists_every_error(tmp_path, engine_from):
    """str(ErrorGroup) counts the errors and lists each on its own line."""
    with pytest.raises(ErrorGroup) as info:
        engine_from(files={"mistakes.yaml": THREE_MISTAKES})
    lines = str(info.value).splitlines()
    assert ("invalid rules: 3 error(s)", 4) == (lines[0], len(lines))


def test_a_rule_of_unknown_kind_is_reported_with_a_suggestion(errors_from):
    """`kind: condtion` suggests condition."""
    errors = errors_from("- {id: t_k, kind: condtion, when: a}\n")
    assert 1 == sum("did you mean 'condition'" in str(e) for e in errors)


def test_a_condition_needs_exactly_one_form(errors_from):
    """`when` and `all` together are ambiguous."""
    errors = errors_from("- {id: t_k, when: a, all: [b]}\n")
    assert ["rule 't_k': a condition needs exactly one of when, all, any, not, at_least "
            "(found when, all)"] == [e.message for e in errors]


def test_invalid_yaml_is_a_located_error(errors_from):
    """A YAML syntax error is reported with its place."""
    errors = errors_from(files={"bad.yaml": "id: t\nrules: [\n  - {id: x\n"})
    assert (1, True) == (len(errors), errors[0].location.line is not None)


# --- the YAML reader: libyaml's parser under PyYAML's composer reads as the pure loader -------

_YAML_TEXTS = [
    "id: t\nrules:\n  - id: a\n    when: x > 1 and y in ['a', \"b\"]\n",
    "a: |\n  line one\n  line two\nb: >\n  folded\n  text\nc: 'single ''q'''\nd: \"dq \\u00e9\"\n",
    "flow: {a: 1, b: [1, 2.5, -3e2, .5], c: null, d: ~, e: yes, f: 2024-07-01}\n",
    "k:\n  - [1, [2, [3, {x: y}]]]\n  - 'é ünïcode'\n  -\n    nested: true\n",
    "# comment\nkey: value # trailing\nempty:\nnum: 0x1F\n",
]


def _read_both(text: str) -> tuple[Any, Any]:
    from welfare_rules import _yaml

    fast = _yaml.load_yaml(text, "f.yaml")
    real = _yaml._BoundedLoader
    try:
        _yaml._BoundedLoader = _yaml._PureBoundedLoader  # type: ignore[misc]
        pure = _yaml.load_yaml(text, "f.yaml")
    finally:
        _yaml._BoundedLoader = real  # type: ignore[misc]
    return fast, pure


def _same(fast: tuple[Any, Any], pure: tuple[Any, Any]) -> None:
    (data_f, pos_f), (data_p, pos_p) = fast, pure
    assert data_f == data_p
    assert {k: (line, col, style or None) for k, (line, col, style) in pos_f._at.items()} == {
        k: (line, col, style or None) for k, (line, col, style) in pos_p._at.items()}


@pytest.mark.parametrize("text", _YAML_TEXTS)
def test_the_yaml_reader_gives_the_data_and_positions_of_the_pure_python_loader(text):
    _same(*_read_both(text))


def test_every_bundled_rule_file_reads_the_same_with_both_yaml_parsers():
    files = sorted((ROOT / "src").rglob("*.yaml")) + sorted((ROOT / "plugins").rglob("*.yaml"))
    assert len(files) > 50
    for f in files:
        _same(*_read_both(f.read_text(encoding="utf-8")))


@pytest.mark.parametrize("text", ["id: t\nrules: [\n  - {id: x\n", "a: b: c\n", "a:\n\t- x\n",
                                  "a: 'unclosed\n"])
def test_invalid_yaml_is_located_on_the_same_line_by_both_parsers(text):
    from welfare_rules import _yaml

    with pytest.raises(RuleLoadError) as fast:
        _yaml.load_yaml(text, "f.yaml")
    real = _yaml._BoundedLoader
    try:
        _yaml._BoundedLoader = _yaml._PureBoundedLoader  # type: ignore[misc]
        with pytest.raises(RuleLoadError) as pure:
            _yaml.load_yaml(text, "f.yaml")
    finally:
        _yaml._BoundedLoader = real  # type: ignore[misc]
    assert str(fast.value).startswith("f.yaml:")
    assert fast.value.location.line == pure.value.location.line


# -- review 3 F5: a table's literal output is one of the output's declared values -------------

PRIORITY_TYPO = """
- id: t_prio
  table:
    hit_policy: priority
    inputs: [desil]
    outputs: [{name: level, values: [severe, moderate, none]}]
    rows:
      - {when: ["< 3"], then: sever}
      - {when: ["< 5"], then: moderate}
      - {when: ["< 7"], then: zzz}
    default: nonne
"""


def test_a_literal_output_outside_the_declared_values_is_a_located_error(errors_from):
    """`sever` was ranked below every declared value (PRIORITY answered `moderate`)."""
    errors = [e for e in errors_from(PRIORITY_TYPO) if "declared values" in str(e)]
    got = [(e.location.line, str(e).split(": ", 1)[1]) for e in errors]
    assert sorted(m for _, m in got) == sorted([
        "table 't_prio' row 1: output 'level' is 'sever', not one of its declared values "
        "[severe, moderate, none] — did you mean 'severe'?",
        "table 't_prio' row 3: output 'level' is 'zzz', not one of its declared values "
        "[severe, moderate, none]",
        "table 't_prio' default: output 'level' is 'nonne', not one of its declared values "
        "[severe, moderate, none] — did you mean 'none'?"])
    assert all(line is not None for line, _ in got)
