"""Kota Semarang (Kemendagri 33.74) for welfare-rules: a city-layer plugin.

Everything the city decides is YAML beside this module: ``schema.yaml`` (the fields its LKS
registration needs), ``parameters/`` (the UMK, the report requirement), ``rules/`` (the
registration file of SK 800/661/2023), ``lks_register.yaml`` (the adapter's column mapping) and
``tests/`` (YAML rule tests). This module only registers them through the welfare-rules hooks.

It layers on the Jawa Tengah province plugin (``REQUIRES``): national → jawa-tengah →
kota-semarang.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from welfare_rules.hookspecs import Register, hookimpl
from welfare_rules.plugins import register_pack

__version__ = "0.1.0"
PLUGIN_NAME = "welfare-rules-kota-semarang"
LAYER = "city"
REQUIRES = ["jawa-tengah"]

HERE = Path(__file__).parent


def adapter() -> Any:
    """The adapter for the city's LKS register spreadsheet (``lks_register.yaml``)."""
    from welfare_rules.adapters import MappingAdapter

    return MappingAdapter.from_yaml(HERE / "lks_register.yaml")


@hookimpl
def register_adapters(register: Register) -> None:
    register(adapter())


# schema.yaml, parameters/, rules/ and tests/ beside this module, through the usual hooks
register_pack(HERE, globals())
