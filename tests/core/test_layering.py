"""Extra rule files and plugin layering (a simple version; the plugin suite tests the rest)."""

from __future__ import annotations

import pytest

from welfare_rules.engine import Engine
from welfare_rules.errors import ErrorGroup

from .conftest import AS_OF, BuiltinFunctions, dedent, ruleset, write_pack

BASE = ruleset("""
    - id: t_amount
      value: x * 10
    - id: t_eligible
      all:
        - id: t_has_x
          when: x > 0
        - a
    """, rs_id="t_base")


def load(tmp_path, *city_rules, **kwargs):
    """A province pack (schema + BASE) and city packs each with one ruleset."""
    packs = [write_pack(tmp_path, "t-province", rules=BASE, layer="province")]
    for i, text in enumerate(city_rules):
        packs.append(write_pack(tmp_path, f"t-city-{i}", rules=text, schema=None))
    return Engine.load(plugins=[BuiltinFunctions(), *packs], builtins=False, **kwargs)


def test_extra_rule_files_are_loaded_on_top(tmp_path):
    """`Engine.load(rules=[path])` adds a ruleset file outside any plugin."""
    extra = tmp_path / "extra.yaml"
    extra.write_text(ruleset("- {id: t_extra, value: t_amount + 1}\n", rs_id="t_extra_set"))
    eng = load(tmp_path, rules=[extra])
    assert 21 == eng.evaluate("household", {"x": 2}, as_of=AS_OF).value("t_extra")


def test_extra_rules_may_be_a_folder(tmp_path):
    """A folder of rule files is loaded file by file."""
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "one.yaml").write_text(ruleset("- {id: t_one, value: 1}\n", rs_id="t_one_set"))
    (folder / "two.yaml").write_text(ruleset("- {id: t_two, value: 2}\n", rs_id="t_two_set"))
    d = load(tmp_path, rules=folder).evaluate("household", {}, as_of=AS_OF)
    assert (1, 2) == (d.value("t_one"), d.value("t_two"))


def test_errors_in_extra_rule_files_are_reported_with_their_file(tmp_path):
    """An extra file's mistakes are located in that file."""
    extra = tmp_path / "extra.yaml"
    extra.write_text(ruleset("- {id: t_extra, value: amont}\n", rs_id="t_extra_set"))
    with pytest.raises(ErrorGroup) as info:
        load(tmp_path, rules=[extra])
    assert [str(extra)] == [e.location.file for e in info.value.errors]


def test_a_rule_redefined_without_overrides_fails_naming_both_origins(tmp_path):
    """A later layer cannot silently replace a rule: the error names both plugins."""
    city = ruleset("- {id: t_amount, value: x * 99}\n", rs_id="t_city")
    with pytest.raises(ErrorGroup) as info:
        load(tmp_path, city)
    message = info.value.errors[0].message
    assert (1, True, True, True) == (len(info.value.errors), "t-province" in message,
                                     "t-city-0" in message, "overrides: t_amount" in message)


def test_a_rule_redefined_with_overrides_replaces_the_earlier_one(tmp_path):
    """`overrides: <id>` replaces the earlier layer's rule."""
    city = ruleset("- {id: t_amount, overrides: t_amount, value: x * 99}\n", rs_id="t_city")
    d = load(tmp_path, city).evaluate("household", {"x": 1}, as_of=AS_OF)
    assert 99 == d.value("t_amount")


def test_an_overriding_rule_keeps_its_own_origin(tmp_path):
    """The replaced rule reports the city plugin as its origin."""
    city = ruleset("- {id: t_amount, overrides: t_amount, value: x * 99}\n", rs_id="t_city")
    assert "t-city-0" == load(tmp_path, city).rule("t_amount").origin.plugin


def test_overriding_a_condition_replaces_its_named_criteria(tmp_path):
    """An overridden rule's own criteria go with it; the new ones take their place."""
    city = ruleset("""
        - id: t_eligible
          overrides: t_eligible
          any:
            - id: t_has_x
              when: x > 100
            - b
        """, rs_id="t_city")
    d = load(tmp_path, city).evaluate("household", {"x": 5, "a": True, "b": False},
                                      as_of=AS_OF)
    assert (False, False) == (d.value("t_has_x"), d.value("t_eligible"))


def test_overrides_of_a_rule_no_earlier_layer_defines_is_an_error(tmp_path):
    """Declaring overrides for a new rule is a mistake worth reporting."""
    city = ruleset("- {id: t_new, overrides: t_new, value: 1}\n", rs_id="t_city")
    with pytest.raises(ErrorGroup, match="declares overrides but no earlier layer defines it"):
        load(tmp_path, city)


def test_extra_rule_files_may_override_plugin_rules(tmp_path):
    """Extra rule files are the top layer and may override with `overrides:`."""
    extra = tmp_path / "whatif.yaml"
    extra.write_text(dedent(ruleset("- {id: t_amount, overrides: t_amount, value: x * 2}\n",
                                    rs_id="t_whatif")))
    d = load(tmp_path, rules=[extra]).evaluate("household", {"x": 4}, as_of=AS_OF)
    assert 8 == d.value("t_amount")
