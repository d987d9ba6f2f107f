"""Two underscores in a row are the backends' own names (docs/rules.md, "Names"): their hidden
columns (``__row``, ``__parent``, the lambda variable ``__wr_item``, ``__agg0__n``), a rule's
helper columns (``<rule>__status``, ``<rule>__error``, ``<rule>__blocked``) and the rule of a
ladder's level (``<ladder>__<level>``). A schema field, a relation, a rule, a criterion or an
indicator named with them is refused at load, with its file and line — before, a field
``__row`` failed the Polars backend ("duplicate output name '__row'") and a ladder level
``status`` made the level's rule ``<ladder>__status``, the ladder's own status column, which
failed every backend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import welfare_rules
from welfare_rules.engine import Engine

from .conftest import AS_OF, SCHEMA

SRC = Path(welfare_rules.__file__).parent


def _one(errors: list[Any]) -> Any:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def _where(error: Any, file: str) -> None:
    """The error gives the file and line where the name is written."""
    assert error.location is not None, str(error)
    assert error.location.line is not None, str(error)
    assert str(error).split(": ")[0].endswith(
        f"{file}:{error.location.line}:{error.location.column}"), str(error)


@pytest.mark.parametrize("field", ["__row", "__wr_item", "__parent", "x__status",
                                   "income__n", "a__b"])
def test_a_schema_field_with_two_underscores_in_a_row_is_refused(
        errors_from: Any, field: str) -> None:
    schema = SCHEMA.replace("      seen: date\n", f"      seen: date\n      {field}: int\n")
    error = _one(errors_from("- {id: r_ok, value: x + 1}\n", schema=schema))
    assert f"field '{field}' must not contain '__'" in str(error)
    _where(error, "schema.yaml")
    line = SCHEMA.split("\n").index("      seen: date") + 2
    assert error.location.line == line


def test_a_relation_with_two_underscores_in_a_row_is_refused(errors_from: Any) -> None:
    schema = SCHEMA.replace("      members: {entity: person, key: household_id}\n",
                            "      members: {entity: person, key: household_id}\n"
                            "      __row: {entity: person, key: household_id}\n")
    error = _one(errors_from("- {id: r_ok, value: x + 1}\n", schema=schema))
    assert "entity 'household': relation '__row' must not contain '__'" in str(error)
    _where(error, "schema.yaml")


@pytest.mark.parametrize("rid", ["__row", "r__status", "a__b", "a___b"])
def test_a_rule_id_with_two_underscores_in_a_row_is_refused(
        errors_from: Any, rid: str) -> None:
    error = _one(errors_from(f"- {{id: {rid}, value: x + 1}}\n"))
    assert f"rule id '{rid}' must not contain '__'" in str(error)
    _where(error, "t_rules.yaml")


def test_a_criterion_or_indicator_id_with_two_underscores_in_a_row_is_refused(
        errors_from: Any) -> None:
    error = _one(errors_from("""\
        - id: r_cond
          all:
            - {id: c__status, when: x > 1}
            - "y > 2"
        """))
    assert "criterion id 'c__status' must not contain '__'" in str(error)
    _where(error, "t_rules.yaml")
    error = _one(errors_from("""\
        - id: r_score
          score:
            indicators:
              - {id: i__error, value: "1 if x > 1 else 0"}
              - {id: i_ok, value: "1 if y > 1 else 0"}
        """))
    assert "indicator id 'i__error' must not contain '__'" in str(error)
    _where(error, "t_rules.yaml")


def _helper_suffixes() -> set[str]:
    """The suffixes the backends put after a rule's id for its helper columns, read from their
    source (``rule.id + "__error"``, ``STATUS_SUFFIX = "__status"``)."""
    found: set[str] = set()
    for path in (SRC / "backends").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'\.id \+ "__(\w+)"', text))
        found |= set(re.findall(r'^STATUS_SUFFIX = "__(\w+)"', text, re.M))
    return found


def test_the_backends_helper_columns_are_the_ones_known_to_the_loader() -> None:
    assert _helper_suffixes() == {"status", "error", "blocked"}


@pytest.mark.parametrize("level", [*sorted(_helper_suffixes()), "_status", "a__b"])
def test_a_ladder_level_whose_rule_would_be_a_backend_name_is_refused(
        errors_from: Any, level: str) -> None:
    error = _one(errors_from(f"""\
        - id: lad
          ladder:
            - {{level: "{level}", when: x > 1}}
            - {{level: other, when: x > 0}}
        """))
    assert f"ladder 'lad': level '{level}' must not contain '__'" in str(error)
    assert f"its rule is 'lad__{level}'" in str(error)
    _where(error, "t_rules.yaml")


def test_a_ladder_level_without_criteria_makes_no_rule_and_may_be_named_so(
        engine_from: Any) -> None:
    engine = engine_from("""\
        - id: lad
          ladder:
            - {level: status}
            - {level: other, when: x > 0}
        """)
    d = engine.evaluate("household", {"id": "3375000000000001", "x": 1}, as_of=AS_OF)
    assert d.value("lad") == "other"


PLUGINS = ["kota-pekalongan", "kota-semarang", "jawa-tengah", "my-region"]


@pytest.mark.parametrize("plugin", [None, *PLUGINS])
def test_the_national_pack_and_the_bundled_plugins_keep_the_rule(plugin: str | None) -> None:
    """They load, and the only names with two underscores in a row are ladder levels' rules."""
    engine = Engine.load(plugins=None if plugin is None else [plugin])
    for ent in engine.schema.entities.values():
        assert [f for f in [*ent.fields, *ent.relations] if "__" in f] == [], ent.name
    levels = {lv.rule for rid in engine.visible_rule_ids() for r in [engine.rule(rid)]
              if r.kind == "ladder" for lv in r.levels if lv.rule is not None}
    for entity in engine.schema.entities:
        for rid in engine.visible_rule_ids(entity):
            assert "__" not in rid or rid in levels, rid
