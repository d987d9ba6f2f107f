"""The national rule pack: rulesets, parameters and rule tests, as a plugin.

The national schema (``schema.yaml`` beside this file) is the library's contract and is
registered by :mod:`welfare_rules.builtin_plugin`, so that ``Engine.load(national=False)`` still
knows households, persons and institutions; ``fields.yaml`` adds the fields only the national
pack's rules read.

Everything here is YAML beside this file; this module only registers it through the plugin
hooks, exactly as a regional plugin does.
"""

from __future__ import annotations

from pathlib import Path

from ..hookspecs import Register, hookimpl

HERE = Path(__file__).parent
PLUGIN_NAME = "welfare-rules-national"
LAYER = "national"


@hookimpl
def register_schema(register: Register) -> None:
    register(HERE / "fields.yaml")


@hookimpl
def register_parameters(register: Register) -> None:
    register(HERE / "parameters")


@hookimpl
def register_rules(register: Register) -> None:
    register(HERE / "rules")


@hookimpl
def register_rule_tests(register: Register) -> None:
    register(HERE / "tests")


@hookimpl
def register_registers(register: Register) -> None:
    import yaml

    data = yaml.safe_load((HERE / "registers.yaml").read_text(encoding="utf-8")) or {}
    for name, spec in data.items():
        register(str(name), spec)
