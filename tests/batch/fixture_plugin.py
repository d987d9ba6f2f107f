"""A test plugin: rulesets covering every rule kind and hit policy, with dated parameters."""

from __future__ import annotations

from pathlib import Path

from welfare_rules.hookspecs import Register, hookimpl

HERE = Path(__file__).parent


@hookimpl
def register_parameters(register: Register) -> None:
    register(HERE / "params")


@hookimpl
def register_rules(register: Register) -> None:
    register(HERE / "rules")
