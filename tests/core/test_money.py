"""Money is whole rupiah (docs/architecture.md, "Numbers"): every money parameter and field of
the national pack and the bundled plugins is an int, and so every money rule is int64 on every
backend (the differential suite compares the Arrow types)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import welfare_rules as wr

#: the schema's money fields (DESIGN: "Money is whole rupiah (int)")
MONEY_FIELDS = {"household": ["head_income_month", "savings_value"], "person": ["income_month"]}


def money_problems(engine: wr.Engine) -> list[str]:
    """Money parameters (unit ``IDR…``) and money fields not declared ``int``."""
    out = [f"parameter {name} ({p.unit}) is {p.type.kind}"
           for name, p in sorted(engine.parameters.items())
           if str(p.unit or "").startswith("IDR") and p.type.kind != "int"]
    for entity, names in MONEY_FIELDS.items():
        fields = engine.schema.entity(entity).fields
        out += [f"field {entity}.{n} is {fields[n].type.kind}" for n in names
                if fields[n].type.kind != "int"]
    return out


def test_money_is_whole_rupiah_in_the_national_pack_and_the_bundled_plugins() -> None:
    engine = wr.Engine.load(plugins=["kota-pekalongan", "kota-semarang"])
    money = [n for n, p in engine.parameters.items() if str(p.unit or "").startswith("IDR")]
    assert len(money) >= 10  # benefit amounts, premiums, wages, poverty lines
    assert money_problems(engine) == []


def test_a_money_parameter_declared_decimal_is_found(tmp_path: Path) -> None:
    from welfare_rules.hookspecs import hookimpl

    (tmp_path / "p.yaml").write_text(
        "bonus:\n  title: Bonus\n  unit: IDR/month\n  type: decimal\n  reference: test\n"
        "  values:\n    2020-01-01: 1500.5\n", encoding="utf-8")

    class Pack:
        PLUGIN_NAME = "t-money"

        @hookimpl
        def register_parameters(self, register: Any) -> None:
            register(tmp_path)

    engine = wr.Engine.load(plugins=[Pack()])
    problems = money_problems(engine)
    assert len(problems) == 1
    assert problems[0].endswith("bonus (IDR/month) is decimal")
