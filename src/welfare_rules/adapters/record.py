"""The record contract: what a Python record given to the engine may hold, and what it means.

``Engine.evaluate`` (and ``evaluate_batch`` given a list of records) passes every record through
:func:`check_record` before a rule sees it. Every field is checked against the schema — its type,
its declared range (``min``/``max``), its ``pattern`` — with the grammar of the file adapters
(``_parse``: the same regular expressions and yes/no vocabulary), so a value means the same in a
CSV cell and in a dict. A value either converts unambiguously, as the table in ``docs/data.md``
says (``"2"`` → 2 for an int field, ``"2024-07-01"`` → a date, ``"ya"`` → True), or is a problem;
all problems of a record (and of its members) are reported at once in one
:class:`~welfare_rules.errors.InputError`. Unknown fields are problems too, with the closest
declared name (``strict=False`` turns them into an :class:`InputWarning`); with
``on_invalid="unknown"`` an invalid value is taken as missing and reported as a finding instead.

Canonical records cost one dict lookup and one class test per field; a record is copied only
when one of its values is converted.
"""

from __future__ import annotations

import datetime
import math
import re
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..errors import InputError, InputProblem, did_you_mean
from ..formatting import number
from ..masking import is_masked_field, mask_id, mask_text
from ..schema import Field, Schema
from ..types import INT64_MAX, INT64_MIN, TEXT_MAX
from ._parse import (
    BOOL_FALSE,
    BOOL_TRUE,
    REASON_INT_RANGE,
    text_to_bool,
    text_to_date,
    text_to_decimal,
    text_to_int,
)
from .record_fast import FastCheck, compile_fast_check

__all__ = ["ON_INVALID", "Checked", "InputWarning", "RecordContract", "check_record",
           "contract_for", "is_missing", "members_problem"]

#: what to do with an invalid value: raise an InputError, or take it as unknown (a finding)
ON_INVALID = ("raise", "unknown")

_BOOL_SHOWN = ", ".join(f"'{t}'/'{f}'" for t, f in zip(BOOL_TRUE[:2], BOOL_FALSE[:2],
                                                         strict=True))
_DIGITS16 = "^[0-9]{16}$"


class InputWarning(UserWarning):
    """A record had fields the schema does not declare and ``strict=False`` was asked for."""


@attrs.frozen
class Checked:
    """A record after the contract: its canonical form and what was wrong with it.

    Attributes:
        record: the canonical record (the caller's own mapping when nothing was converted).
        problems: invalid values taken as unknown (``on_invalid="unknown"``); empty otherwise,
            since problems then raise.
    """

    record: Mapping[str, Any]
    problems: tuple[InputProblem, ...] = ()


@attrs.frozen
class _Spec:
    """How one field is checked: the fast path for canonical values, then the full check."""

    name: str
    cls: type                       # the class of a canonical value
    alt: type                       # another canonical class (int for a decimal field)
    lo: Any                         # inclusive bounds for numbers and dates (None: not ranged)
    hi: Any
    allowed: frozenset[str] | None  # enum values
    plain: bool                     # a canonical value of ``cls`` needs no further check
    expected: str                   # what the field accepts, for messages
    field: Field
    pattern: re.Pattern[str] | None
    enum_keys: Mapping[str, str]    # lower-case → declared spelling


_KIND_CLASS: Mapping[str, type] = {"bool": bool, "int": int, "decimal": float, "str": str,
                                   "enum": str, "date": datetime.date}


def _expected(fld: Field) -> str:
    kind = fld.type.kind
    rng = fld.range_text()
    within = f" {rng}" if rng else ""
    if kind == "bool":
        return f"a yes/no value (True/False, {_BOOL_SHOWN}, 1/0)"
    if kind == "int":
        return f"a whole number{within}"
    if kind == "decimal":
        return f"a number{within}"
    if kind == "date":
        return f"a date (datetime.date or 'yyyy-mm-dd'){within}"
    if kind == "enum":
        return "one of: " + ", ".join(fld.type.values)
    if fld.pattern == _DIGITS16:
        return "16 digits (a NIK or No. KK)"
    if fld.pattern is not None:
        return f"text matching {fld.pattern}"
    return "text"


def _spec(fld: Field) -> _Spec:
    kind = fld.type.kind
    cls = _KIND_CLASS.get(kind, object)
    lo = hi = None
    if kind == "int":
        lo = max(INT64_MIN, fld.min) if fld.min is not None else INT64_MIN
        hi = min(INT64_MAX, fld.max) if fld.max is not None else INT64_MAX
    elif kind == "decimal":
        lo = fld.min if fld.min is not None else -sys.float_info.max  # never ±inf or NaN
        hi = fld.max if fld.max is not None else sys.float_info.max
    elif kind == "date":
        lo = fld.min if fld.min is not None else datetime.date.min
        hi = fld.max if fld.max is not None else datetime.date.max
    allowed = frozenset(fld.type.values) if kind == "enum" else None
    pattern = re.compile(fld.pattern) if fld.pattern is not None else None
    plain = kind == "bool" or (kind == "str" and pattern is None)
    alt = int if kind == "decimal" else cls
    return _Spec(fld.name, cls, alt, lo, hi, allowed, plain, _expected(fld), fld, pattern,
                 {v.lower(): v for v in fld.type.values} if kind == "enum" else {})


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing-value marker: None, a float NaN of any float class
    (Python, NumPy), ``Decimal('NaN')``, pandas' ``NA`` and ``NaT``.

    These are what a table hands over for an empty cell, and the batch path reads them as
    missing (an empty cell), so the record path does too: one behaviour on both paths.
    Text such as ``"NaN"`` is not a marker (it is refused where a number is expected).
    """
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    if isinstance(value, Decimal):
        return value.is_nan()
    cls = value.__class__
    if cls.__name__ in ("NAType", "NaTType") and cls.__module__.startswith("pandas"):
        return True
    if cls.__module__ == "numpy" and getattr(getattr(value, "dtype", None), "kind", "") == "f":
        return bool(value != value)
    return False


def members_problem(entity: str, relation: str, child: str, rules: Sequence[str] = ()
                    ) -> InputProblem:
    """The problem of members absent although the rules in force read them: one wording for
    a record (``Engine.evaluate``), a table (``evaluate_batch``) and the command line."""
    read_by = ""
    if rules:
        read_by = " (" + ", ".join(rules[:3]) + (", ..." if len(rules) > 3 else "") + ")"
    return InputProblem(
        entity, relation,
        f"the {child} records, since the rules in force read {relation}{read_by}: "
        f"give members= (a {child} table; on the command line --members FILE) or "
        f"'{relation}' in each record ('{relation}': [] for none)",
        "no members")


def _convert(spec: _Spec, value: Any) -> tuple[Any, str | None]:
    """The slow path: the canonical value, or None and what is wrong (None = fine)."""
    kind = spec.field.type.kind
    if value.__class__.__module__ == "numpy":
        value = _from_numpy(value)  # df.iloc[i].to_dict() hands over NumPy scalars
    if is_missing(value):
        return None, None  # how tables write an empty cell (see is_missing)
    if isinstance(value, str) and kind != "str":
        value = value.strip()
        if not value:
            return None, None  # a blank text is a missing value, as a blank cell is
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str):
            b = text_to_bool(value)
            if b is not None:
                return b, None
        return None, ""
    if kind == "int":
        if isinstance(value, bool):
            return None, "a yes/no value is not a number"
        if isinstance(value, int):
            out: Any = int(value)
        elif isinstance(value, float | Decimal):
            if not math.isfinite(value) or value != int(value):
                return None, "a decimal number in a whole-number field"
            out = int(value)
        elif isinstance(value, str):
            out, why = text_to_int(value)
            if why is not None:
                return None, why
        else:
            return None, ""
        if not INT64_MIN <= out <= INT64_MAX:
            return None, REASON_INT_RANGE
        return _in_range(spec, out)
    if kind == "decimal":
        if isinstance(value, bool):
            return None, "a yes/no value is not a number"
        if isinstance(value, int):
            out = value  # a whole number is a decimal as it is
        elif isinstance(value, float | Decimal):
            out = float(value)
            if not math.isfinite(out):
                return None, "not a finite number"
        elif isinstance(value, str):
            out = text_to_decimal(value)
            if out is None:
                return None, ""
        else:
            return None, ""
        return _in_range(spec, out)
    if kind == "date":
        if isinstance(value, datetime.datetime):
            if value.time() != datetime.time(0) or value.tzinfo is not None:
                return None, "a date and time (expected a date alone)"
            out = value.date()
        elif isinstance(value, datetime.date):
            out = value
        elif isinstance(value, str):
            out, why = text_to_date(value)
            if why is not None:
                return None, why
        else:
            return None, ""
        return _in_range(spec, out)
    if kind == "enum":
        if isinstance(value, str):
            hit = spec.enum_keys.get(value.lower())
            if hit is not None:
                return hit, None
            return None, f"not a declared value{did_you_mean(value, spec.field.type.values)}"
        return None, ""
    if kind == "str":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None, ""
        if len(value) > TEXT_MAX:
            return None, TEXT_TOO_LONG
        if spec.pattern is not None and spec.pattern.fullmatch(value) is None:
            return None, ""
        return value, None
    return value, None  # list[...] and any: taken as they are


def _from_numpy(value: Any) -> Any:
    """The Python counterpart of a NumPy scalar, checked as that would be: ``np.bool_`` a
    bool, ``np.integer`` an int, ``np.floating`` a float, a ``np.datetime64`` at midnight a
    date (finer: a date-time, refused as one; NaT: missing). Anything else (a month or year
    ``datetime64``, which names no day) is left as it is, and refused."""
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if kind in ("b", "i", "u", "f"):
        return value.item()
    if kind == "M" and str(value.dtype) not in ("datetime64[Y]", "datetime64[M]",
                                                "datetime64[W]"):
        if value != value:
            return None  # NaT
        day = value.astype("datetime64[D]")
        out = day.item() if day == value else value.astype("datetime64[us]").item()
        if isinstance(out, datetime.date):  # a year outside 1-9999 gives an int
            return out
    return value


#: Why a text cell past :data:`~welfare_rules.types.TEXT_MAX` is refused (docs/security.md).
TEXT_TOO_LONG = f"longer than {number(TEXT_MAX)} characters"


def _in_range(spec: _Spec, value: Any) -> tuple[Any, str | None]:
    if value < spec.lo:
        return None, "below the minimum"
    if value > spec.hi:
        return None, "above the maximum"
    return value, None


def _shown(value: Any, spec: _Spec | None, name: str, entity: str | None = None,
           key: str | None = None) -> str:
    """A value as a message shows it: identifiers masked, long text cut."""
    ident = is_masked_field(name, entity, key) or (
        spec is not None and spec.pattern is not None and spec.pattern.pattern == _DIGITS16)
    if ident and value is not None and not isinstance(value, bool):
        return repr(mask_id(value))
    text = mask_text(repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


class RecordContract:
    """The compiled contract of one entity (and, through its relations, of its members).

    Args:
        schema: the engine's schema.
        entity: the entity whose records this contract checks.
    """

    def __init__(self, schema: Schema, entity: str, _depth: int = 0):
        ent = schema.entity(entity)
        self.entity = entity
        self.key = ent.key
        self.specs = {name: _spec(fld) for name, fld in ent.fields.items()}
        self.required = tuple(name for name, fld in ent.fields.items() if fld.required)
        self.relations: dict[str, RecordContract] = {}
        if _depth < 4:
            for rel in ent.relations.values():
                self.relations[rel.name] = RecordContract(schema, rel.entity, _depth + 1)
        self.names = (*self.specs, *self.relations)
        #: ``fast(record)``: True when :meth:`check` would give ``record`` itself back with no
        #: problem (apart from the ``relations_needed`` it is given), by the fast path alone;
        #: False means "call :meth:`check`", never "invalid" (record_fast.py)
        self.fast: FastCheck = compile_fast_check(
            self.specs, self.required, {k: c.fast for k, c in self.relations.items()},
            self.names)

    def check(self, record: Mapping[str, Any], *, strict: bool = True,
              on_invalid: str = "raise", relations_needed: Collection[str] = ()) -> Checked:
        """Check one record (and its members) against the schema.

        Args:
            record: the caller's record; never modified.
            strict: unknown fields are errors (True) or an :class:`InputWarning` (False).
            on_invalid: ``"raise"`` (an :class:`InputError` with every problem) or
                ``"unknown"`` (invalid values taken as missing and returned as problems).
            relations_needed: relations the rules in force read (``members``): a record without
                one of them is an error, never an empty list.

        Returns:
            The canonical record and the problems taken as unknown.

        Raises:
            InputError: invalid values (``on_invalid="raise"``), unknown fields (``strict``),
                or a record whose shape is wrong (a relation missing or not a list of records),
                whatever ``on_invalid`` says.
        """
        if on_invalid not in ON_INVALID:
            raise ValueError(f"on_invalid must be one of {', '.join(ON_INVALID)}, "
                             f"found {on_invalid!r}")
        invalid: list[InputProblem] = []
        unknown: list[InputProblem] = []
        shape: list[InputProblem] = []
        out = record if self.fast(record) else self._check(record, invalid, unknown, shape,
                                                             None, None)
        for rel in relations_needed:
            if rel in self.relations and rel not in record:
                shape.append(members_problem(self.entity, rel, self.relations[rel].entity))
        if unknown and not strict:
            warnings.warn(InputWarning(mask_text("; ".join(
                f"{p.entity} record: unknown field '{p.path}' ignored"
                f"{did_you_mean(p.field, self._names_of(p.entity))}" for p in unknown))),
                stacklevel=3)
            unknown = []
        if shape or ((invalid or unknown) and on_invalid == "raise"):
            raise InputError([*shape, *invalid, *unknown], self.entity,
                             self._record_id(record))
        return Checked(out, tuple(invalid + unknown))

    def _names_of(self, entity: str) -> tuple[str, ...]:
        if entity == self.entity:
            return self.names
        return next((c.names for c in self.relations.values() if c.entity == entity), ())

    def _record_id(self, record: Mapping[str, Any]) -> str | None:
        key = record.get(self.key)
        if key is None:
            return None
        return _shown(key, self.specs.get(self.key), self.key, self.entity,
                      self.key).strip("'")

    def _check(self, rec: Mapping[str, Any], invalid: list[InputProblem],
               unknown: list[InputProblem], shape: list[InputProblem], index: int | None,
               relation: str | None) -> Mapping[str, Any]:
        specs = self.specs
        out: dict[str, Any] | None = None
        for k, v in rec.items():
            s = specs.get(k)
            if s is None:
                sub = self.relations.get(k)
                if sub is not None:
                    members = self._members(k, v, sub, invalid, unknown, shape, index)
                    if members is not v:
                        if out is None:
                            out = dict(rec)
                        out[k] = members
                    continue
                if out is None:
                    out = dict(rec)
                del out[k]
                unknown.append(InputProblem(
                    self.entity, str(k), f"a field of {self.entity}"
                    + did_you_mean(str(k), self.names),
                    "a field the schema does not declare", index, relation))
                continue
            if v is None:
                continue
            if v.__class__ is s.cls or v.__class__ is s.alt:
                if s.plain and (v.__class__ is not str or len(v) <= TEXT_MAX):
                    continue
                if s.allowed is not None:
                    if v in s.allowed:
                        continue
                elif s.lo is not None and s.lo <= v <= s.hi:
                    continue
            canon, why = _convert(s, v)
            if why is not None:
                invalid.append(InputProblem(
                    self.entity, k, s.expected + (f" ({why})" if why else ""),
                    _shown(v, s, k, self.entity, self.key), index, relation))
            if canon is not v:
                if out is None:
                    out = dict(rec)
                out[k] = canon
        for name in self.required:
            if (out if out is not None else rec).get(name) is None and not any(
                    p.field == name and p.member_index == index for p in invalid):
                invalid.append(InputProblem(self.entity, name, specs[name].expected +
                                            " (a required field)", "nothing", index, relation))
        return out if out is not None else rec

    def _members(self, name: str, value: Any, sub: RecordContract, invalid: list[InputProblem],
                 unknown: list[InputProblem], shape: list[InputProblem], index: int | None
                 ) -> Any:
        if value is None:
            return None
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            shape.append(InputProblem(self.entity, name, f"a list of {sub.entity} records",
                                      _shown(value, None, name), index))
            return value
        changed = False
        out = []
        for i, m in enumerate(value):
            if not isinstance(m, Mapping):
                shape.append(InputProblem(sub.entity, name, f"a {sub.entity} record (a mapping)",
                                          _shown(m, None, name), i, name))
                out.append(m)
                continue
            c = sub._check(m, invalid, unknown, shape, i, name)
            changed = changed or c is not m
            out.append(c)
        return out if changed or value.__class__ is not list else value


_CONTRACTS: dict[tuple[int, str], tuple[Schema, RecordContract]] = {}


def contract_for(schema: Schema, entity: str) -> RecordContract:
    """The contract of ``entity`` under ``schema``, compiled once per schema."""
    key = (id(schema), entity)
    hit = _CONTRACTS.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    contract = RecordContract(schema, entity)
    if len(_CONTRACTS) > 256:
        _CONTRACTS.clear()
    _CONTRACTS[key] = (schema, contract)
    return contract


def check_record(schema: Schema, entity: str, record: Mapping[str, Any], *,
                 strict: bool = True, on_invalid: str = "raise",
                 relations_needed: Collection[str] = ()) -> Checked:
    """Check a record of ``entity`` against ``schema``; see :meth:`RecordContract.check`."""
    return contract_for(schema, entity).check(record, strict=strict, on_invalid=on_invalid,
                                              relations_needed=relations_needed)
