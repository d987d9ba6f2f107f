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

from ..packs import register_pack

HERE = Path(__file__).parent
PLUGIN_NAME = "welfare-rules-national"
LAYER = "national"

# fields.yaml, parameters/, rules/, tests/ and registers.yaml (schema.yaml is the built-in
# plugin's: the library's contract, known with national=False too)
register_pack(HERE, globals(), schema="fields.yaml")
