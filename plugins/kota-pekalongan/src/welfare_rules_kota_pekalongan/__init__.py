"""Kota Pekalongan (Kemendagri 33.75) for welfare-rules: a city-layer plugin.

Everything the city decides is data beside this module — the region list and the dated UMK and
poverty line (``parameters/``), the city's LKS ranking and its household checks (``rules/``), the
fields the ranking needs (``schema.yaml``), the export mapping (``export.yaml``) and YAML rule
tests (``tests/``). This module only registers them through the welfare-rules hooks, plus one
function, ``region_name``, that normalises how people type kecamatan and kelurahan names.

It layers on the Jawa Tengah province plugin (``REQUIRES``): national → jawa-tengah →
kota-pekalongan. Load it with ``Engine.load(plugins=["kota-pekalongan"])`` once installed, or
pass the module.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from welfare_rules.hookspecs import Register, hookimpl
from welfare_rules.plugins import register_pack

__version__ = "0.1.0"
PLUGIN_NAME = "welfare-rules-kota-pekalongan"
LAYER = "city"
#: the province layer beneath the city: loading kota-pekalongan loads jawa-tengah first
REQUIRES = ["jawa-tengah"]

HERE = Path(__file__).parent

_SPACES = re.compile(r"\s+")


def region_name(text: str) -> str:
    """A kecamatan or kelurahan name as the region list writes it: upper case, single spaces.

    ``"  pekalongan   barat "`` → ``"PEKALONGAN BARAT"``. The same normalisation is done in SQL
    by :func:`region_name_sql`, so both backends agree.
    """
    return _SPACES.sub(" ", str(text)).strip().upper()


def region_name_sql(arg: Any, dialect: str | None = None) -> Any:
    """``UPPER(TRIM(REGEXP_REPLACE(arg, '\\s+', ' ')))`` as a sqlglot expression.

    sqlglot renders the replace-all semantics of each dialect (DuckDB adds the ``'g'`` flag,
    Spark replaces every match by default).
    """
    from sqlglot import exp

    collapsed = exp.RegexpReplace(this=arg, expression=exp.Literal.string(r"\s+"),
                                  replacement=exp.Literal.string(" "))
    return exp.Upper(this=exp.Trim(this=collapsed))


def functions() -> list[Any]:
    """The functions this plugin adds to the rule language."""
    from welfare_rules.expr.functions import Function, simple_signature

    return [
        Function(
            "region_name", "region_name(str) -> str", simple_signature(["text"], "str"),
            region_name, sql=region_name_sql,
            description="a kecamatan/kelurahan name in upper case with single spaces, to "
                        "compare with the Kota Pekalongan region list"),
    ]


def adapter() -> Any:
    """The adapter for the city's person-per-row DTKS export (DESIGN.md appendix C)."""
    from welfare_rules.adapters import MappingAdapter

    return MappingAdapter.from_yaml(HERE / "export.yaml")


@hookimpl
def register_functions(register: Register) -> None:
    for fn in functions():
        register(fn)


@hookimpl
def register_adapters(register: Register) -> None:
    register(adapter())


# schema.yaml, parameters/, rules/ and tests/ beside this module, through the usual hooks
register_pack(HERE, globals())
