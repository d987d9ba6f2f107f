"""Legal basis as data, enum labels in the schema, and titles that are templates over
parameters (issue 15, items 3-4)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from welfare_rules import Engine
from welfare_rules.errors import ErrorGroup
from welfare_rules.explain import rule_title

AS_OF = datetime.date(2024, 1, 1)

RULES = """
id: t_basis
entity: household
basis: "Permensos 1/2018 Pasal 5"
sources: ["https://example.org/permensos-1-2018.pdf"]
rules:
  - id: t_inherits
    title:
      id: "Tabungan kurang dari {param.bps.savings_threshold}"
      en: "Savings under {param.bps.savings_threshold}"
    when: savings_value < param.bps.savings_threshold
  - id: t_local
    policy: local
    sources: [internal note]
    all:
      - id: t_local_child
        when: owns_car
  - id: t_unverified
    unverified: true
    when: in_dtks
"""


def _engine(tmp_path: Path, text: str, **kw: object) -> Engine:
    f = tmp_path / "rules.yaml"
    f.write_text(text, encoding="utf-8")
    return Engine.load(rules=[f], **kw)  # type: ignore[arg-type]


def test_basis_policy_and_sources_are_kept_apart_and_inherited(tmp_path: Path) -> None:
    eng = _engine(tmp_path, RULES)
    inherits = eng.rule("t_inherits").basis
    assert (inherits.instrument, inherits.sources) == (
        "Permensos 1/2018 Pasal 5", ("https://example.org/permensos-1-2018.pdf",))
    local = eng.rule("t_local").basis
    assert (local.instrument, local.policy, local.sources) == ("", "local", ("internal note",))
    assert eng.rule("t_local_child").basis.policy == "local"  # a criterion inherits its rule's
    assert eng.rule("t_unverified").basis.unverified
    assert eng.parameter("pkh.elderly_age").basis.unverified


def test_a_policy_other_than_local_is_refused_with_its_place(tmp_path: Path) -> None:
    with pytest.raises(ErrorGroup, match=r"rules.yaml:5:\d+: policy 'regional' is not one of "
                                         r"local"):
        _engine(tmp_path, "id: x\nentity: household\nrules:\n  - id: t_x\n    policy: regional\n"
                          "    when: in_dtks\n")


def test_a_title_naming_an_unknown_parameter_is_a_load_error(tmp_path: Path) -> None:
    text = ("id: x\nentity: household\nrules:\n  - id: t_x\n"
            "    title: {id: 'lebih dari {param.bps.savings_treshold}', en: x}\n"
            "    when: in_dtks\n")
    with pytest.raises(ErrorGroup, match=re.escape(
            "unknown parameter 'bps.savings_treshold' — did you mean 'bps.savings_threshold'")):
        _engine(tmp_path, text)


@pytest.mark.parametrize(("lang", "expected"), [("id", "Tabungan kurang dari Rp750.000"),
                                                ("en", "Savings under Rp750,000")])
def test_a_title_shows_the_overridden_value_in_the_locale(tmp_path: Path, lang: str,
                                                          expected: str) -> None:
    eng = _engine(tmp_path, RULES, parameters={"bps.savings_threshold": 750000})
    d = eng.evaluate("household", {"id": "3375010101240001", "savings_value": 1, "members": []},
                     as_of=AS_OF)
    assert rule_title(d, eng.rule("t_inherits"), lang) == expected


def test_enum_values_have_words_in_both_languages() -> None:
    eng = Engine.load()
    for ent in eng.schema.entities.values():
        for f in ent.fields.values():
            if f.type.kind != "enum":
                continue
            for v in f.type.values:
                assert f.value_label(v, "id"), (ent.name, f.name, v)
                assert f.value_label(v, "en"), (ent.name, f.name, v)
    assert eng.schema.entity("person").fields["sex"].value_label("female", "id") == "perempuan"
    assert not eng.schema.entity("person").fields["birth_date"].changeable
