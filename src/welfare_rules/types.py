"""The value types of the rule language and the schema.

A type is a small frozen value: its ``kind`` and, for enums, the declared values; for lists, the
element type; for relations, the entity related to. Types are compared by value, so two enums with
the same values are the same type.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import attrs

SCALAR_KINDS = ("bool", "int", "decimal", "str", "date", "enum")

#: A date written as text is exactly ``YYYY-MM-DD`` everywhere (``date(text)``, ``as_of``, date
#: parameters; the SQL and Polars backends spell the same pattern).
ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_DATE = re.compile(ISO_DATE)


def parse_iso_date(text: str) -> datetime.date:
    """The date of a text written exactly ``YYYY-MM-DD``.

    ``datetime.date.fromisoformat`` alone also takes ``20240101`` and week dates
    (``2024-W01-1``); every message of the project says ``YYYY-MM-DD``, and the record
    contract and the adapters refuse the rest, so this does too.

    Raises:
        ValueError: the text is not ``YYYY-MM-DD`` or not a day of the calendar
            (``2024-02-30``, year 0000).
    """
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"expected a date YYYY-MM-DD, found {text!r}")
    return datetime.date.fromisoformat(text)


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


# ---------------------------------------------------------------------------------------------
# Bounds every backend shares (docs/security.md)

#: Integers are 64-bit (DuckDB BIGINT, Spark LONG); Python checks the same range.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Decimals are IEEE 64-bit floating point on every backend: finite, at most 15 significant
#: digits (what a double holds exactly), so a written value reads back as written.
DECIMAL_DIGITS = 15
#: The longest text one field value may hold (characters): a longer input cell is refused (the
#: record contract, the adapters' quarantine), and the growth analysis (bounds.py) counts
#: every text read from data as at most this long.
TEXT_MAX = 10_000
#: Dates run from 0001-01-01 to 9999-12-31 (Python's range; DuckDB and Spark accept more).
DATE_MIN, DATE_MAX = datetime.date.min, datetime.date.max


def significant_digits(text: str) -> int:
    """The significant digits of a number written as ``text`` (``"0.00120"`` → 2)."""
    mantissa = text.strip().lstrip("+-").replace("_", "")
    for sep in "eE":
        mantissa = mantissa.split(sep, 1)[0]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." in mantissa:
        digits = digits.rstrip("0")
    return len(digits.rstrip("0")) if "." not in mantissa else len(digits)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or isinstance(value, bool) else str(value)
    return text if len(text) <= 40 else text[:20] + "…" + text[-8:] + f" ({len(text)} characters)"


def convert(value: Any, ty: Type) -> Any:
    """``value`` converted to the type ``ty``, or ``ValueError`` saying why it cannot be.

    Used for parameter overrides (``Engine.load(parameters=...)``, ``--set``, reforms): an
    integral float becomes an int, an ISO text a date, an int a decimal; NaN, infinities,
    integers outside 64 bits, decimals of more than :data:`DECIMAL_DIGITS` significant digits
    and values of another type are refused.
    """
    import decimal
    import math

    if value is None:
        return None
    kind = ty.kind
    if isinstance(value, float | decimal.Decimal) and not math.isfinite(value):
        raise ValueError(f"{_short(value)} is not a number (NaN and infinities are refused)")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, found {_short(value)}")
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, found {_short(value)}")
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value.strip())
        if isinstance(value, float | decimal.Decimal):
            if value != int(value):
                raise ValueError(f"expected an integer, found {_short(value)}")
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(f"expected an integer, found {_short(value)}")
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"integer {_short(value)} is outside the 64-bit range")
        return value
    if kind == "decimal":
        if isinstance(value, bool):
            raise ValueError(f"expected a number, found {_short(value)}")
        text = None
        if isinstance(value, str):
            text = value.strip()
            try:
                value = decimal.Decimal(text)
            except decimal.InvalidOperation:
                raise ValueError(f"expected a number, found {_short(value)}") from None
            if not value.is_finite():
                raise ValueError(f"{_short(text)} is not a number (NaN and infinities are refused)")
        if isinstance(value, decimal.Decimal):
            text = text or str(value)
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, float):
            text = None  # already a double: nothing more to lose
        else:
            raise ValueError(f"expected a number, found {_short(value)}")
        if text is not None and significant_digits(text) > DECIMAL_DIGITS:
            raise ValueError(f"{_short(text)} has more than {DECIMAL_DIGITS} significant digits "
                             "(decimals are 64-bit floating point on every backend)")
        out = float(value)
        if not math.isfinite(out):
            raise ValueError(f"{_short(text)} is out of range")
        return out
    if kind in ("str", "enum"):
        if not isinstance(value, str):
            raise ValueError(f"expected text, found {_short(value)}")
        if kind == "enum" and ty.values and value not in ty.values:
            raise ValueError(f"expected one of {', '.join(ty.values)}, found {_short(value)}")
        return value
    if kind == "date":
        if isinstance(value, datetime.datetime):
            raise ValueError(f"expected a date, found the date-time {_short(value)}")
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return parse_iso_date(value.strip())
            except ValueError:
                raise ValueError(f"expected a date YYYY-MM-DD, found {_short(value)}") from None
        raise ValueError(f"expected a date, found {_short(value)}")
    if kind == "list":
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list, found {_short(value)}")
        elem = ty.elem or ANY
        return [convert(v, elem) for v in value]
    if kind in ("any", "null"):
        if isinstance(value, list | tuple):
            return [convert(v, ANY) for v in value]
        if isinstance(value, int) and not isinstance(value, bool):
            return convert(value, INT)
        return value
    raise ValueError(f"a parameter of type {ty} cannot be overridden")
