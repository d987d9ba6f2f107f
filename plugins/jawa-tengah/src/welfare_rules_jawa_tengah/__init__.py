"""Jawa Tengah (Kemendagri 33) for welfare-rules: a province-layer plugin.

Everything the province decides is data beside this module: the UMP by year, the provincial
poverty line by BPS period and the province's kab/kota codes (``parameters/jawa_tengah.yaml``),
the rules that make the national pack use them (``rules/``) and YAML rule tests (``tests/``).
City plugins of the province (``kota-pekalongan``, ``kota-semarang``) declare
``REQUIRES = ["jawa-tengah"]`` and so load this layer beneath them.

Load it with ``Engine.load(plugins=["jawa-tengah"])`` once installed, or pass the module.
"""

from __future__ import annotations

from pathlib import Path

from welfare_rules.plugins import register_pack

__version__ = "0.1.0"
PLUGIN_NAME = "welfare-rules-jawa-tengah"
LAYER = "province"

HERE = Path(__file__).parent


# schema.yaml, parameters/, rules/ and tests/ beside this module, through the usual hooks
register_pack(HERE, globals())
