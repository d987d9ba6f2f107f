"""A regional plugin for welfare-rules (template: copy the folder, rename, fill in).

Everything the region decides is YAML beside this module: ``schema.yaml`` (fields the region
adds), ``parameters/`` (dated values), ``rules/`` (rulesets) and ``tests/`` (YAML rule tests).
This module only registers them through the welfare-rules hooks.
"""

from __future__ import annotations

from pathlib import Path

from welfare_rules.plugins import register_pack

__version__ = "0.1.0"
PLUGIN_NAME = "welfare-rules-my-region"
LAYER = "city"  # "province" for a provincial plugin
# The plugins this one layers on, by entry-point name: a city of Jawa Tengah writes
# REQUIRES = ["jawa-tengah"] (and adds welfare-rules-jawa-tengah to its pyproject dependencies).
REQUIRES: list[str] = []

HERE = Path(__file__).parent


# schema.yaml, parameters/, rules/ and tests/ beside this module, through the usual hooks
register_pack(HERE, globals())
