"""Each rule kind: condition, value, decision table, ladder, score and check."""

from __future__ import annotations

import pytest

from .conftest import AS_OF

CONDITIONS = """
- id: t_when
  when: x > 3
- id: t_all
  title: {id: Semua, en: All}
  all:
    - id: t_named_a
      title: {id: A benar, en: A holds}
      when: a
    - "x > 3"
- id: t_any
  any:
    - a
    - b
- id: t_not
  not: a
- id: t_not_named
  not:
    id: t_inner
    when: b
- id: t_at_least
  at_least: 2
  of:
    - a
    - b
    - c
- id: t_nested
  all:
    - id: t_nested_any
      any: [a, b]
    - c
"""


@pytest.fixture
def conditions(engine_from):
    return engine_from(CONDITIONS)


@pytest.mark.parametrize(("x", "expected"), [(4, True), (3, False), (None, None)])
def test_when_is_a_three_valued_condition(conditions, x, expected):
    """A `when` condition is true, false or unknown (a missing input)."""
    assert expected == conditions.evaluate("household", {"x": x}, as_of=AS_OF).value("t_when")


def test_a_condition_status_says_true_false_or_unknown(conditions):
    """status() of a condition is "true", "false" or "unknown"."""
    d = conditions.evaluate("household", {"x": 5, "a": True}, as_of=AS_OF)
    assert ["true", "false", "unknown"] == [d.status("t_when"), d.status("t_not"),
                                            d.status("t_inner")]


def test_all_holds_when_every_criterion_holds(conditions):
    """`all` is true when the named and the bare criterion both hold."""
    assert conditions.evaluate("household", {"a": True, "x": 4}, as_of=AS_OF).value("t_all")


def test_all_is_false_when_one_criterion_is_false_even_if_another_is_unknown(conditions):
    """`all` follows Kleene AND: one false criterion decides, whatever is unknown."""
    assert False is conditions.evaluate("household", {"a": False}, as_of=AS_OF).value("t_all")


def test_all_is_unknown_when_no_criterion_is_false_and_one_is_unknown(conditions):
    """`all` is unknown while an undecided criterion could still make it true."""
    assert None is conditions.evaluate("household", {"a": True}, as_of=AS_OF).value("t_all")


def test_a_named_criterion_is_addressable_like_a_rule(conditions):
    """A named criterion has its own value in the decision."""
    d = conditions.evaluate("household", {"a": True, "x": 1}, as_of=AS_OF)
    assert (True, False) == (d.value("t_named_a"), d.value("t_all"))


def test_a_bare_criterion_is_addressable_by_its_hidden_id(conditions):
    """A bare criterion is the hidden rule `<parent>#<n>`, counted from 1."""
    d = conditions.evaluate("household", {"a": True, "x": 1}, as_of=AS_OF)
    assert False is d.value("t_all#2")


def test_bare_criteria_are_not_listed_among_the_visible_rules(conditions):
    """to_dict() lists named criteria and rules but not the hidden bare criteria."""
    d = conditions.evaluate("household", {}, as_of=AS_OF)
    listed = set(d.to_dict(statuses=False))
    assert ({"t_named_a", "t_all", "t_inner"} <= listed, set()) == (
        True, {k for k in listed if "#" in k})


@pytest.mark.parametrize(("a", "b", "expected"), [
    (True, None, True), (False, False, False), (False, None, None), (None, True, True)])
def test_any_is_kleene_or(conditions, a, b, expected):
    """`any` is true once one criterion holds, false when all are false, else unknown."""
    d = conditions.evaluate("household", {"a": a, "b": b}, as_of=AS_OF)
    assert expected == d.value("t_any")


@pytest.mark.parametrize(("a", "expected"), [(True, False), (False, True), (None, None)])
def test_not_negates_and_keeps_unknown(conditions, a, expected):
    """`not` negates a criterion; not unknown is unknown."""
    assert expected == conditions.evaluate("household", {"a": a}, as_of=AS_OF).value("t_not")


def test_not_accepts_a_named_criterion(conditions):
    """`not:` may hold a named criterion, which stays addressable."""
    d = conditions.evaluate("household", {"b": True}, as_of=AS_OF)
    assert (True, False) == (d.value("t_inner"), d.value("t_not_named"))


@pytest.mark.parametrize(("a", "b", "c", "expected"), [
    (True, True, None, True),      # two known true: decided
    (True, False, False, False),   # only one can hold
    (True, False, None, None),     # c decides
    (False, False, None, False),   # at most one: cannot reach two
    (None, None, True, None),
])
def test_at_least_counts_known_true_criteria(conditions, a, b, c, expected):
    """`at_least N of` is true at N known true, false once N is out of reach, else unknown."""
    d = conditions.evaluate("household", {"a": a, "b": b, "c": c}, as_of=AS_OF)
    assert expected == d.value("t_at_least")


def test_named_criteria_nest(conditions):
    """A named criterion may have criteria of its own (`any` inside `all`)."""
    d = conditions.evaluate("household", {"a": False, "b": True, "c": True}, as_of=AS_OF)
    assert (True, True) == (d.value("t_nested_any"), d.value("t_nested"))


def test_at_least_reads_its_threshold_from_a_parameter(engine_from):
    """`at_least: param.x` takes N from a parameter as of the evaluation date."""
    eng = engine_from("""
        - id: t_two_of
          at_least: param.t.needed
          of: [a, b, c]
        """, params="""
        needed:
          values: {2020-01-01: 2, 2025-01-01: 3}
        """)
    rec = {"a": True, "b": True, "c": False}
    assert [True, False] == [eng.evaluate("household", rec, as_of=d).value("t_two_of")
                             for d in ("2024-06-01", "2025-06-01")]


# -- value ------------------------------------------------------------------------------------

VALUES = """
- id: t_sum
  value: x + y
- id: t_ratio
  value: amount / x
  type: decimal
- id: t_label
  value: "'big' if x > 10 else 'small'"
- id: t_uses_rule
  value: t_sum * 2
"""


def test_a_value_rule_computes_an_expression(engine_from):
    """A value rule's value is its expression's."""
    d = engine_from(VALUES).evaluate("household", {"x": 2, "y": 3}, as_of=AS_OF)
    assert (5, "value") == (d.value("t_sum"), d.status("t_sum"))


def test_a_value_rule_may_use_another_rule(engine_from):
    """Rules refer to other rules by id."""
    d = engine_from(VALUES).evaluate("household", {"x": 2, "y": 3}, as_of=AS_OF)
    assert 10 == d.value("t_uses_rule")


def test_a_value_with_a_missing_input_is_unknown(engine_from):
    """Arithmetic with a missing value is unknown, status "unknown"."""
    d = engine_from(VALUES).evaluate("household", {"x": 2}, as_of=AS_OF)
    assert (None, "unknown", None) == (d.value("t_sum"), d.status("t_sum"),
                                       d.value("t_uses_rule"))


def test_division_by_zero_is_unknown(engine_from):
    """Dividing by zero gives unknown, not an exception."""
    d = engine_from(VALUES).evaluate("household", {"x": 0, "amount": 5}, as_of=AS_OF)
    assert None is d.value("t_ratio")


def test_a_decimal_value_rule_gives_a_float(engine_from):
    """`type: decimal` makes the value a decimal number."""
    d = engine_from(VALUES).evaluate("household", {"x": 4, "amount": 2}, as_of=AS_OF)
    assert 0.5 == d.value("t_ratio")


def test_a_value_may_be_text(engine_from):
    """A conditional expression picks between two texts."""
    d = engine_from(VALUES).evaluate("household", {"x": 11}, as_of=AS_OF)
    assert "big" == d.value("t_label")


# -- decision table ---------------------------------------------------------------------------

TABLE = """
- id: t_band
  table:
    hit_policy: unique
    inputs: [x, status]
    outputs:
      - name: band
        values: [low, mid, high]
    rows:
      - {when: ["< 10", open], then: low}
      - {when: ["[10..20]", open], then: mid}
      - {when: ["> 20", "-"], then: high}
      - {when: ["<= 20", [closed, pending]], then: low}
    default: low
- id: t_pair
  table:
    hit_policy: first
    inputs: [a]
    outputs: [{name: kind}, {name: amount}]
    rows:
      - {when: [true], then: {kind: granted, amount: "= x * 2"}}
      - {when: ["-"], then: [refused, 0]}
"""


@pytest.mark.parametrize(("x", "status", "expected"), [
    (5, "open", "low"), (10, "open", "mid"), (20, "open", "mid"), (21, "closed", "high"),
    (3, "pending", "low")])
def test_a_decision_table_gives_the_matching_row_output(engine_from, x, status, expected):
    """A table's value is the output of its matching row (ranges are closed with [..])."""
    d = engine_from(TABLE).evaluate("household", {"x": x, "status": status}, as_of=AS_OF)
    assert expected == d.value("t_band")


def test_a_decision_table_gives_its_default_when_no_row_matches(engine_from):
    """`default` is the value when no row matches."""
    eng = engine_from("""
        - id: t_tab
          table:
            hit_policy: unique
            inputs: [x]
            rows: [{when: ["> 100"], then: 1}]
            default: 0
        """)
    assert 0 == eng.evaluate("household", {"x": 5}, as_of=AS_OF).value("t_tab")


def test_a_decision_table_without_default_and_no_match_is_unknown(engine_from):
    """Without `default`, no matching row leaves the value unknown."""
    eng = engine_from("""
        - id: t_tab
          table:
            hit_policy: unique
            inputs: [x]
            rows: [{when: ["> 100"], then: 1}]
        """)
    assert None is eng.evaluate("household", {"x": 5}, as_of=AS_OF).value("t_tab")


def test_a_table_with_several_outputs_gives_a_mapping(engine_from):
    """Several outputs give a mapping; `= expression` outputs are computed."""
    d = engine_from(TABLE).evaluate("household", {"a": True, "x": 4}, as_of=AS_OF)
    assert {"kind": "granted", "amount": 8} == d.value("t_pair")


def test_several_outputs_may_be_written_as_a_list(engine_from):
    """`then: [a, b]` lists the outputs in declared order."""
    d = engine_from(TABLE).evaluate("household", {"a": False}, as_of=AS_OF)
    assert {"kind": "refused", "amount": 0} == d.value("t_pair")


# -- ladder -----------------------------------------------------------------------------------

LADDER = """
- id: t_maturity
  title: {id: Kematangan, en: Maturity}
  ladder:
    - {level: embrio}
    - level: tumbuh
      title: {id: Tumbuh, en: Growing}
      when: a
    - level: berkembang
      all:
        - b
        - id: t_has_many
          when: x >= 10
    - level: mandiri
      when: c
"""


@pytest.mark.parametrize(("record", "expected"), [
    ({"a": True, "b": True, "x": 10, "c": True}, "mandiri"),
    ({"a": True, "b": True, "x": 10, "c": False}, "berkembang"),
    ({"a": True, "b": False, "c": True}, "tumbuh"),
    ({"a": False, "b": True, "x": 99, "c": True}, "embrio"),
])
def test_a_ladder_reaches_the_highest_level_whose_criteria_and_all_lower_hold(
        engine_from, record, expected):
    """A ladder climbs while each level holds; a false level stops it (higher ones ignored)."""
    d = engine_from(LADDER).evaluate("household", record, as_of=AS_OF)
    assert (expected, "value") == (d.value("t_maturity"), d.status("t_maturity"))


def test_an_unknown_criterion_stops_the_climb_with_status_unknown(engine_from):
    """Unknown data stops the climb: status unknown, value the level confirmed so far."""
    d = engine_from(LADDER).evaluate("household", {"a": True, "b": True, "c": True},
                                     as_of=AS_OF)
    assert ("tumbuh", "unknown") == (d.value("t_maturity"), d.status("t_maturity"))


def test_ladder_level_criteria_are_addressable(engine_from):
    """A level's criteria are rules `<ladder>__<level>`; named ones keep their id."""
    d = engine_from(LADDER).evaluate("household", {"a": True, "b": True, "x": 3},
                                     as_of=AS_OF)
    assert (True, False, False) == (d.value("t_maturity__tumbuh"), d.value("t_has_many"),
                                    d.value("t_maturity__berkembang"))


# -- score ------------------------------------------------------------------------------------

SCORE = """
- id: t_need
  score:
    indicators:
      - {id: t_ind_members, weight: 2, value: x}
      - {id: t_ind_poor, weight: 5, value: a}
      - {id: t_ind_param, weight: param.t.weight, value: y}
    bands:
      - {min: 0, label: low}
      - {min: 10, label: medium}
      - {min: 20, label: high}
"""
SCORE_PARAMS = """
weight:
  values: {2000-01-01: 3}
"""


@pytest.mark.parametrize(("record", "expected"), [
    ({"x": 1, "a": False, "y": 0}, 2), ({"x": 2, "a": True, "y": 1}, 12)])
def test_a_score_is_the_weighted_sum_of_its_indicators(engine_from, record, expected):
    """A score adds weight × value; conditions count 1 when true; weights may be parameters."""
    d = engine_from(SCORE, params=SCORE_PARAMS).evaluate("household", record, as_of=AS_OF)
    assert expected == d.value("t_need")


def test_a_score_with_an_unknown_indicator_is_unknown(engine_from):
    """One unknown indicator makes the score unknown."""
    d = engine_from(SCORE, params=SCORE_PARAMS).evaluate("household", {"x": 1, "a": True},
                                                          as_of=AS_OF)
    assert (None, "unknown") == (d.value("t_need"), d.status("t_need"))


def test_score_indicators_are_addressable(engine_from):
    """Each indicator is a value rule of its own."""
    d = engine_from(SCORE, params=SCORE_PARAMS).evaluate(
        "household", {"x": 4, "a": True, "y": 0}, as_of=AS_OF)
    assert (4, True) == (d.value("t_ind_members"), d.value("t_ind_poor"))


@pytest.mark.parametrize(("x", "expected"), [(0, "low"), (4, "low"), (5, "medium"),
                                             (9, "medium"), (10, "high")])
def test_score_bands_label_the_score_as_the_rule_id_band(engine_from, x, expected):
    """Bands give `<score>_band`: the label of the highest band whose min the score reaches."""
    d = engine_from(SCORE, params=SCORE_PARAMS).evaluate(
        "household", {"x": x, "a": False, "y": 0}, as_of=AS_OF)
    assert expected == d.value("t_need_band")


def test_an_unknown_score_has_an_unknown_band(engine_from):
    """No score, no band."""
    d = engine_from(SCORE, params=SCORE_PARAMS).evaluate("household", {}, as_of=AS_OF)
    assert (None, "unknown") == (d.value("t_need_band"), d.status("t_need_band"))


def test_a_score_below_every_band_has_no_band(engine_from):
    """A score under the lowest band's min has an unknown band."""
    eng = engine_from("""
        - id: t_s
          score:
            indicators: [{id: t_i, weight: 1, value: x}]
            bands: [{min: 10, label: some}]
        """)
    assert None is eng.evaluate("household", {"x": 3}, as_of=AS_OF).value("t_s_band")


# -- check ------------------------------------------------------------------------------------

CHECKS = """
- id: t_deceased
  kind: check
  when: a
  for_each: members
  where: not alive
  severity:
    - {when: relationship == "head", level: error}
    - {when: age < 18, level: info}
    - {level: warning}
  message:
    id: "Anggota {name} (NIK {nik}) sudah meninggal"
    en: "Member {name} (NIK {nik}) has died"
- id: t_negative
  kind: check
  when: x < 0
  severity: warning
  message: {id: "Nilai x negatif ({x}) untuk KK {id}", en: "Negative x ({x}) for {id}"}
"""
NIK_HEAD = "3375011234567890"
NIK_CHILD = "3375019876543210"
NIK_SPOUSE = "3375015555555555"


def household_with_deaths(**extra):
    return {"id": "3375010101010001", "a": True, "x": 1, **extra, "members": [
        {"nik": NIK_HEAD, "name": "Budi", "relationship": "head", "alive": False, "age": 50},
        {"nik": NIK_SPOUSE, "name": "Sri", "relationship": "spouse", "alive": True, "age": 45},
        {"nik": NIK_CHILD, "name": "Adi", "relationship": "child", "alive": False, "age": 9},
        {"nik": "3375014444444444", "name": "Rina", "relationship": "other", "alive": False,
         "age": 70},
    ]}


def test_a_check_gives_one_finding_per_matching_member(engine_from):
    """`for_each` + `where` gives a finding for each member for whom `where` holds."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(), as_of=AS_OF)
    assert [0, 2, 3] == sorted(f.member_index for f in d.findings if f.check == "t_deceased")


def test_a_check_value_is_true_when_its_finding_applies(engine_from):
    """The check's own value says whether any finding applies."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(), as_of=AS_OF)
    assert (True, False) == (d.value("t_deceased"), d.value("t_negative"))


def test_severity_cases_are_evaluated_for_each_member_first_match_wins(engine_from):
    """Each finding takes the level of the first severity case that holds for its member."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(), as_of=AS_OF)
    got = {f.member_index: f.severity for f in d.findings}
    assert {0: "error", 2: "info", 3: "warning"} == got


def test_findings_are_listed_most_severe_first(engine_from):
    """d.findings is ordered error, warning, info."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(x=-1), as_of=AS_OF)
    assert ["error", "warning", "warning", "info"] == [f.severity for f in d.findings]


def test_a_check_message_fills_placeholders_and_masks_the_nik(engine_from):
    """Placeholders come from the member, then the record; NIKs are masked."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(), as_of=AS_OF)
    head = next(f for f in d.findings if f.member_index == 0)
    assert "Anggota Budi (NIK 3375********7890) sudah meninggal" == head.message


def test_a_check_finding_names_the_record_and_member(engine_from):
    """A finding carries the record id and the member's key, unmasked for programs."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(), as_of=AS_OF)
    head = next(f for f in d.findings if f.member_index == 0)
    assert ("3375010101010001", NIK_HEAD, "household") == (head.record_id, head.member_id,
                                                            head.entity)


def test_a_record_level_check_fills_placeholders_from_the_record(engine_from):
    """A check without for_each gives one finding; the family card number is masked."""
    d = engine_from(CHECKS).evaluate("household", {"id": "3375010101010001", "x": -4,
                                                  "members": []}, as_of=AS_OF)
    assert [("t_negative", "warning", "Nilai x negatif (-4) untuk KK 3375********0001")] == [
        (f.check, f.severity, f.message) for f in d.findings]


def test_a_check_whose_condition_is_false_gives_no_finding(engine_from):
    """The `when` of a for_each check gates every member's finding."""
    d = engine_from(CHECKS).evaluate("household", household_with_deaths(a=False),
                                     as_of=AS_OF)
    assert ([], False) == (d.findings, d.value("t_deceased"))


def test_a_check_with_an_unknown_condition_is_unknown_and_gives_no_finding(engine_from):
    """Unknown is not a finding."""
    d = engine_from(CHECKS).evaluate("household", {"id": "1", "members": []}, as_of=AS_OF)
    assert ([], None, "unknown") == (d.findings, d.value("t_negative"),
                                     d.status("t_negative"))


def test_a_message_placeholder_may_name_a_rule(engine_from):
    """`{rule}` placeholders show the rule's value."""
    eng = engine_from("""
        - {id: t_total, value: x * 2}
        - id: t_big
          kind: check
          when: t_total > 4
          severity: info
          message: {id: "Total {t_total}", en: "Total {t_total}"}
        """)
    assert ["Total 6"] == [f.message for f in eng.evaluate("household", {"x": 3},
                                                           as_of=AS_OF).findings]


def test_a_message_placeholder_for_a_field_absent_from_the_record_shows_unknown(engine_from):
    """A declared field the record leaves out reads "?", as a blank one does."""
    eng = engine_from("""
        - id: t_neg
          kind: check
          when: x < 0
          severity: info
          message: {id: "x={x} nama={name}", en: "x={x} name={name}"}
        """)
    assert ["x=-1 nama=?"] == [f.message for f in eng.evaluate("household", {"x": -1},
                                                               as_of=AS_OF).findings]
