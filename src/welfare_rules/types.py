"""The value types of the rule language and the schema.

A type is a small frozen value: its ``kind`` and, for enums, the declared values; for lists, the
element type; for relations, the entity related to. Types are compared by value, so two enums with
the same values are the same type.
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs

SCALAR_KINDS = ("bool", "int", "decimal", "str", "date", "enum")


@attrs.frozen
class Type:
    """A value type: ``bool``, ``int``, ``decimal``, ``str``, ``date``, ``enum``, ``list``,
    ``relation``, ``record`` (a decision-table row of several outputs: ``fields`` names and
    types them, when known), ``null`` or ``any``."""

    kind: str
    values: tuple[str, ...] = ()
    elem: Type | None = None
    entity: str | None = None
    fields: tuple[tuple[str, Type], ...] = ()

    def __str__(self) -> str:
        if self.kind == "enum":
            return "enum(" + ", ".join(self.values) + ")"
        if self.kind == "list":
            return f"list[{self.elem}]"
        if self.kind == "relation":
            return f"relation[{self.entity}]"
        return self.kind

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "decimal", "null", "any")

    @property
    def is_textual(self) -> bool:
        return self.kind in ("str", "enum", "null", "any")


BOOL = Type("bool")
INT = Type("int")
DECIMAL = Type("decimal")
STR = Type("str")
DATE = Type("date")
NULL = Type("null")
ANY = Type("any")
RECORD = Type("record")


def enum(values: tuple[str, ...] | list[str]) -> Type:
    return Type("enum", tuple(values))


def record_of(fields: tuple[tuple[str, Type], ...]) -> Type:
    """A record (a decision-table row of several outputs) with these named fields."""
    return Type("record", fields=fields)


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def relation(entity: str) -> Type:
    return Type("relation", entity=entity)


def compatible(a: Type, b: Type) -> bool:
    """Whether values of the two types can be compared with each other."""
    if a.kind in ("null", "any") or b.kind in ("null", "any"):
        return True
    if a.is_numeric and b.is_numeric:
        return True
    if a.kind in ("str", "enum") and b.kind in ("str", "enum"):
        return True
    if a.kind == "list" and b.kind == "list":
        return a.elem is None or b.elem is None or compatible(a.elem, b.elem)
    return a.kind == b.kind


def unify(a: Type, b: Type) -> Type:
    """The type of a value that may be either ``a`` or ``b`` (as in ``x if c else y``)."""
    if a.kind in ("null",):
        return b
    if b.kind in ("null",):
        return a
    if a == b:
        return a
    if a.is_numeric and b.is_numeric:
        return DECIMAL if "decimal" in (a.kind, b.kind) else INT
    if a.kind == "enum" and b.kind == "enum":
        return enum(tuple(dict.fromkeys(a.values + b.values)))
    if a.kind in ("str", "enum") and b.kind in ("str", "enum"):
        return STR
    return ANY


def type_of_value(value: Any) -> Type:
    """The type of a literal Python value (used for parameters and YAML literals)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DECIMAL
    if isinstance(value, str):
        return STR
    if isinstance(value, datetime.date):
        return DATE
    if isinstance(value, list | tuple):
        elem = NULL
        for v in value:
            elem = unify(elem, type_of_value(v))
        return list_of(elem)
    return ANY


def parse_type_name(name: str) -> Type:
    """Parse a schema type name (``int``, ``list[str]``)."""
    name = name.strip()
    if name.startswith("list[") and name.endswith("]"):
        return list_of(parse_type_name(name[5:-1]))
    if name in ("bool", "int", "decimal", "str", "date", "any"):
        return Type(name)
    raise ValueError(f"unknown type '{name}' (expected bool, int, decimal, str, date, enum, "
                     f"list[...])")
