"""plugins.register_pack: a rule pack's hooks without repeating their bodies."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

import welfare_rules as wr
from welfare_rules import national
from welfare_rules.errors import RuleLoadError
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


PACK_HOOKS = {"register_schema", "register_parameters", "register_rules",
              "register_rule_tests", "register_registers"}
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def test_every_bundled_pack_plugin_uses_register_pack() -> None:
    """No bundled plugin writes a pack hook by hand: each calls ``register_pack`` instead."""
    import ast

    modules = sorted(PLUGINS.glob("*/src/*/__init__.py"))
    assert {m.parents[2].name for m in modules} >= {"_template", "jawa-tengah",
                                                     "kota-pekalongan", "kota-semarang"}
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        hand_written = {node.name for node in tree.body
                        if isinstance(node, ast.FunctionDef) and node.name in PACK_HOOKS}
        assert not hand_written, f"{module}: hand-written {sorted(hand_written)}"
        calls = {node.func.id for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert "register_pack" in calls, f"{module}: no register_pack(...)"


def test_kota_semarang_registers_its_pack_and_its_adapter() -> None:
    import welfare_rules_kota_semarang as semarang

    assert {"register_schema", "register_parameters", "register_rules",
            "register_rule_tests", "register_adapters"} <= set(vars(semarang))
    engine = wr.Engine.load(plugins=["kota-semarang"])
    own = [rid for rid in engine.rules if engine.rule(rid).origin.plugin == semarang.PLUGIN_NAME]
    assert own, "no rule of kota-semarang loaded"
    assert engine.rule_tests


@pytest.mark.parametrize(("text", "message"), [
    ("- death\n- census\n", r"registers\.yaml:1:1: registers\.yaml must be a mapping"),
    ("death: 3\n", r"registers\.yaml:1:8: register 'death' must be a mapping"),
    ("a: &x {key: nik}\nb: *x\n", r"registers\.yaml:2:4: YAML aliases are not allowed"),
])
def test_a_bad_registers_yaml_is_a_located_error(tmp_path: Path, text: str,
                                                  message: str) -> None:
    (tmp_path / "registers.yaml").write_text(text, encoding="utf-8")
    hook = register_pack(tmp_path)["register_registers"]
    with pytest.raises(RuleLoadError, match=message):
        hook(lambda name, spec: None)


def test_registers_yaml_is_registered_by_name(tmp_path: Path) -> None:
    (tmp_path / "registers.yaml").write_text("death: {key: nik}\n", encoding="utf-8")
    got: dict[str, object] = {}
    register_pack(tmp_path)["register_registers"](got.__setitem__)
    assert got == {"death": {"key": "nik"}}
