"""Shared helpers for the core engine tests: a tiny rule pack written to a folder.

Tests build their own small rule packs instead of using the national one (which is written
concurrently and whose rules change): :func:`build_engine` writes a schema, rule files and
parameter files to a folder and loads them as one city-layer plugin, with the built-in functions
registered and the national pack left out (``builtins=False``). The test schema has a
``household`` with ``members`` (``person``), like the national one, so that masking, member
aggregations and ``rank()`` behave as they do for real rules.
"""

from __future__ import annotations

import datetime
import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:
    import welfare_rules.engine  # noqa: F401
except ImportError:  # running from a checkout without an editable install
    sys.path.insert(0, str(ROOT / "src"))

from welfare_rules.engine import Engine  # noqa: E402
from welfare_rules.errors import ErrorGroup  # noqa: E402
from welfare_rules.expr.functions import builtin_functions  # noqa: E402
from welfare_rules.hookspecs import hookimpl  # noqa: E402

AS_OF = datetime.date(2024, 1, 1)

SCHEMA = """\
entities:
  household:
    key: id
    label: {id: Keluarga, en: Household}
    relations:
      members: {entity: person, key: household_id}
    fields:
      id: {type: str, label: {id: Nomor KK, en: Family card number}}
      a: {type: bool, label: {id: Syarat A, en: Condition A}}
      b: {type: bool, label: {id: Syarat B, en: Condition B}}
      c: {type: bool, label: {id: Syarat C, en: Condition C}}
      d: bool
      e: bool
      x: {type: int, label: {id: Jumlah X, en: Amount X}}
      y: int
      z: int
      amount: decimal
      name: str
      status: {type: enum, values: [open, closed, pending]}
      seen: date
  person:
    key: nik
    label: {id: Anggota, en: Person}
    fields:
      nik: {type: str, label: {id: NIK, en: NIK}}
      household_id: str
      name: {type: str, label: {id: Nama, en: Name}}
      alive: bool
      age: int
      income: int
      relationship: {type: enum, values: [head, spouse, child, other]}
      birth_date: date
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


class BuiltinFunctions:
    """The rule language's built-in functions alone (no schema, no national pack)."""

    PLUGIN_NAME = "t-functions"
    LAYER = "national"

    @hookimpl
    def register_functions(self, register: Any) -> None:
        for fn in builtin_functions():
            register(fn)


class RulePack:
    """A plugin object contributing the schema, rule and parameter files of one folder."""

    def __init__(self, name: str, *, schema: Iterable[Path] = (), rules: Iterable[Path] = (),
                 parameters: Iterable[Path] = (), layer: str = "city"):
        self.PLUGIN_NAME = name
        self.LAYER = layer
        self.schema = list(schema)
        self.rules = list(rules)
        self.parameters = list(parameters)

    @hookimpl
    def register_schema(self, register: Any) -> None:
        for p in self.schema:
            register(p)

    @hookimpl
    def register_parameters(self, register: Any) -> None:
        for p in self.parameters:
            register(p)

    @hookimpl
    def register_rules(self, register: Any) -> None:
        for p in self.rules:
            register(p)


def _as_files(content: str | Mapping[str, str] | None, default_name: str) -> dict[str, str]:
    if content is None:
        return {}
    if isinstance(content, str):
        return {default_name: content}
    return dict(content)


def write_pack(folder: Path, name: str = "t-pack", *, rules: str | Mapping[str, str] | None = None,
               params: str | Mapping[str, str] | None = None, schema: str | None = SCHEMA,
               layer: str = "city") -> RulePack:
    """Write a pack's files under ``folder/name`` and return the plugin contributing them.

    ``rules`` and ``params`` are YAML texts (dedented) or mappings of file name to text;
    parameter files live in a ``parameters`` folder, so ``{"t.yaml": ...}`` names them ``t.*``.
    """
    root = folder / name
    (root / "rules").mkdir(parents=True, exist_ok=True)
    schema_files = []
    if schema is not None:
        (root / "schema.yaml").write_text(dedent(schema), encoding="utf-8")
        schema_files.append(root / "schema.yaml")
    rule_files = []
    for fname, text in _as_files(rules, "t_rules.yaml").items():
        (root / "rules" / fname).write_text(dedent(text), encoding="utf-8")
        rule_files.append(root / "rules" / fname)
    param_dirs = []
    pfiles = _as_files(params, "t.yaml")
    if pfiles:
        (root / "parameters").mkdir(exist_ok=True)
        for fname, text in pfiles.items():
            (root / "parameters" / fname).write_text(dedent(text), encoding="utf-8")
        param_dirs.append(root / "parameters")
    return RulePack(name, schema=schema_files, rules=rule_files, parameters=param_dirs,
                    layer=layer)


def build_engine(folder: Path, rules: str | Mapping[str, str] | None = None, *,
                 params: str | Mapping[str, str] | None = None, schema: str | None = SCHEMA,
                 extra_plugins: Iterable[Any] = (), **load_kwargs: Any) -> Engine:
    """Load an engine from one test pack plus the built-in functions: neither the national
    schema nor the national pack, so the test schema is the whole schema."""
    pack = write_pack(folder, rules=rules, params=params, schema=schema)
    return Engine.load(plugins=[BuiltinFunctions(), pack, *extra_plugins], builtins=False,
                       **load_kwargs)


def load_errors(folder: Path, rules: str | Mapping[str, str] | None = None,
                **kwargs: Any) -> list[Any]:
    """The located errors of a pack that must fail to load."""
    with pytest.raises(ErrorGroup) as info:
        build_engine(folder, rules, **kwargs)
    return info.value.errors


def ruleset(body: str, *, entity: str = "household", rs_id: str = "t_set",
            header: str = "") -> str:
    """A ruleset file around ``body`` (the YAML list of rules, indented by two spaces)."""
    return (f"id: {rs_id}\nentity: {entity}\nversion: '1'\n"
            f"title: {{id: Aturan uji, en: Test rules}}\n{dedent(header)}rules:\n"
            + textwrap.indent(dedent(body), "  "))


@pytest.fixture
def engine_from(tmp_path: Path) -> Any:
    """``engine_from(rules_body, params=..., **Engine.load kwargs)`` → an engine whose one
    ruleset (household) holds ``rules_body``."""
    counter = iter(range(1000))

    def make(body: str | None = None, *, files: Mapping[str, str] | None = None,
             entity: str = "household", header: str = "", **kwargs: Any) -> Engine:
        rules = files if files is not None else (
            ruleset(body, entity=entity, header=header) if body is not None else None)
        return build_engine(tmp_path / f"e{next(counter)}", rules, **kwargs)

    return make


@pytest.fixture
def errors_from(tmp_path: Path) -> Any:
    """``errors_from(rules_body)`` → the located errors of a ruleset that must fail to load."""
    counter = iter(range(1000))

    def make(body: str | None = None, *, files: Mapping[str, str] | None = None,
             entity: str = "household", **kwargs: Any) -> list[Any]:
        rules = files if files is not None else (
            ruleset(body, entity=entity) if body is not None else None)
        return load_errors(tmp_path / f"e{next(counter)}", rules, **kwargs)

    return make
