"""A regional plugin for welfare-rules (template: copy the folder, rename, fill in).

Everything the region decides is YAML beside this module: ``schema.yaml`` (fields the region
adds), ``parameters/`` (dated values), ``rules/`` (rulesets) and ``tests/`` (YAML rule tests).
This module only registers them through the welfare-rules hooks.
"""

from __future__ import annotations

from pathlib import Path

from welfare_rules.hookspecs import Register, hookimpl

__version__ = "0.1.0"
PLUGIN_NAME = "welfare-rules-my-region"
LAYER = "city"  # "province" for a provincial plugin
# The plugins this one layers on, by entry-point name: a city of Jawa Tengah writes
# REQUIRES = ["jawa-tengah"] (and adds welfare-rules-jawa-tengah to its pyproject dependencies).
REQUIRES: list[str] = []

HERE = Path(__file__).parent


@hookimpl
def register_schema(register: Register) -> None:
    register(HERE / "schema.yaml")


@hookimpl
def register_parameters(register: Register) -> None:
    register(HERE / "parameters")


@hookimpl
def register_rules(register: Register) -> None:
    register(HERE / "rules")


@hookimpl
def register_rule_tests(register: Register) -> None:
    register(HERE / "tests")
