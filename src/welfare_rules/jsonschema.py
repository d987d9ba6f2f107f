"""JSON Schema of the rule-file format, generated from the loader's spec classes.

Editors (VS Code with the YAML extension, for example) use it to validate and complete rule
files: ``welfare-rules schema > welfare-rules.schema.json``. Because it is derived from the same
attrs classes the cattrs converter structures, the schema cannot drift from the loader.
"""

from __future__ import annotations

import datetime
import types
import typing
from typing import Any, Union

import attrs

from . import loading as L
from .schema import Text

_RENAMES = {"not_": "not", "from_": "from"}


class _Gen:
    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        if tp is Any:
            return {}
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is datetime.date:
            return {"type": "string", "format": "date"}
        if tp is Text:
            return {"anyOf": [{"type": "string"}, {
                "type": "object", "additionalProperties": False,
                "properties": {"id": {"type": "string"}, "en": {"type": "string"}}}]}
        if tp == L.RuleSpec:
            return {"$ref": "#/$defs/Rule"}
        if tp == L.Criterion:
            return {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/ConditionSpec"}]}
        origin = typing.get_origin(tp)
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            schemas = [self.of(a) for a in args]
            nullable = type(None) in typing.get_args(tp)
            if nullable:
                schemas.append({"type": "null"})
            return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        if origin is list:
            (item,) = typing.get_args(tp)
            return {"type": "array", "items": self.of(item)}
        if origin is dict:
            _, val = typing.get_args(tp)
            return {"type": "object", "additionalProperties": self.of(val)}
        if attrs.has(tp):
            name = tp.__name__
            if name not in self.defs:
                self.defs[name] = {}
                hints = typing.get_type_hints(tp, vars(L))
                props = {}
                required = []
                for f in attrs.fields(tp):
                    key = _RENAMES.get(f.name, f.name)
                    props[key] = self.of(hints[f.name])
                    if f.default is attrs.NOTHING:
                        required.append(key)
                self.defs[name] = {"type": "object", "additionalProperties": False,
                                   "properties": props, "required": required}
            return {"$ref": f"#/$defs/{name}"}
        return {}


def rule_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ruleset file."""
    g = _Gen()
    root = g.of(L.RuleSetSpec)
    kinds = [L.ConditionRuleSpec, L.ValueRuleSpec, L.TableRuleSpec, L.LadderRuleSpec,
             L.ScoreRuleSpec, L.CheckRuleSpec]
    variants = []
    for k in kinds:
        ref = g.of(k)
        name = ref["$ref"].rsplit("/", 1)[1]
        g.defs[name]["properties"]["kind"] = {"type": "string"}
        variants.append(ref)
    g.defs["Rule"] = {"anyOf": variants}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://welfare-rules.invalid/schema/ruleset.json",
        "title": "welfare-rules ruleset file",
        "description": "One ruleset: id, entity, version, effective dates and rules. "
                       "See docs/rules.md.",
        **root, "$defs": g.defs,
    }
