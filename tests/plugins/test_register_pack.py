"""plugins.register_pack: a rule pack's hooks without repeating their bodies."""

from __future__ import annotations

import types
from pathlib import Path

import welfare_rules as wr
from welfare_rules import national
from welfare_rules.plugins import register_pack

PACK_RULES = """\
id: packed
version: "1"
entity: household
rules:
  - id: packed_rule
    when: param.packed.packed.flag
"""
PACK_PARAMS = """\
packed:
  flag:
    type: bool
    values:
      2000-01-01: true
"""


def test_only_the_parts_that_exist_get_a_hook(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    assert set(register_pack(tmp_path)) == {"register_rules"}
    (tmp_path / "tests").mkdir()
    (tmp_path / "schema.yaml").write_text("entities: {}\n", encoding="utf-8")
    assert set(register_pack(tmp_path)) == {"register_rules", "register_rule_tests",
                                            "register_schema"}
    assert set(register_pack(tmp_path, schema=None)) == {"register_rules",
                                                         "register_rule_tests"}


def test_a_module_with_register_pack_loads_like_hand_written_hooks(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "packed.yaml").write_text(PACK_RULES, encoding="utf-8")
    (tmp_path / "parameters").mkdir()
    (tmp_path / "parameters" / "packed.yaml").write_text(PACK_PARAMS, encoding="utf-8")
    mod = types.ModuleType("packed_plugin")
    mod.PLUGIN_NAME = "packed"  # type: ignore[attr-defined]
    register_pack(tmp_path, vars(mod))
    engine = wr.Engine.load(plugins=[mod])
    assert engine.rule("packed_rule").origin.plugin == "packed"
    record = {"id": "3375010101240001", "members": []}
    assert engine.evaluate("household", record, as_of="2024-01-01").value(
        "packed_rule") is True


def test_the_national_pack_registers_its_folder_with_fields_yaml() -> None:
    hooks = {n for n in vars(national) if n.startswith("register_") and n != "register_pack"}
    assert hooks == {"register_schema", "register_parameters", "register_rules",
                     "register_rule_tests", "register_registers"}
    assert "Register fields.yaml" in str(national.register_schema.__doc__)
    engine = wr.Engine.load()
    assert engine.registers  # registers.yaml
    assert engine.rule_tests
