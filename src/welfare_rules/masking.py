"""Masking of personal identifiers in everything the library prints or writes for others.

A NIK (national identity number) and a No. KK (family card number) are 16-digit numbers that
identify a person or a family. Every text the library produces for someone else — the ``repr`` of
findings and decisions, warnings, error messages, explanations, reports, quarantine and
reconciliation files — goes through this module:

* a value of an identifier field (:data:`MASKED_FIELDS`, or the key of the household entity) is
  shown by :func:`mask_id`: the 4-digit region code and the last 4 digits, the rest as ``*``;
* any other text is scanned by :func:`mask_text` for runs of 16 or more digits (a NIK typed into a
  name, a certificate number or a note), which are masked the same way.

Callers that must see the full numbers (an officer correcting a record) ask with ``unmask=True``
(``--unmask`` on the command line); nothing is unmasked by default. The module has no imports
from the rest of the library, so every layer can use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

__all__ = [
    "MASKED_FIELDS",
    "is_masked_field",
    "mask_data",
    "mask_field",
    "mask_id",
    "mask_id_sql",
    "mask_table",
    "mask_text",
    "placeholder_text",
]

#: Fields whose values are identifiers (a NIK or a No. KK), masked wherever they are shown.
MASKED_FIELDS: frozenset[str] = frozenset({
    "nik", "household_id", "no_kk", "nomor_kk", "kk", "nik_kepala", "nik_pengurus",
})

#: A run of 16 or more digits not inside a longer run: what a NIK or No. KK looks like in free text.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]{16,}(?![0-9])")
_DIGITS16 = re.compile(r"[0-9]{16}")


def mask_id(value: Any) -> str:
    """Mask an identifier: keep the 4-digit region and the last 4 digits.

    Args:
        value: A NIK, a No. KK or any identifier; ``None`` gives an empty string.

    Returns:
        ``"3326********0001"`` for ``"3326010101010001"``; identifiers of 8 characters or fewer
        are masked completely.
    """
    s = "" if value is None else str(value)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_id_sql(value: exp.Expression) -> exp.Expression:
    """:func:`mask_id` as a SQL expression, for the SQL backends and DuckDB queries.

    Args:
        value: a ``sqlglot`` expression of type text (``NULL`` gives ``NULL``).

    Returns:
        A ``sqlglot`` expression: the first 4 and last 4 characters with ``*`` between them;
        a text of 8 characters or fewer all ``*`` (the same as :func:`mask_id`).
    """
    from sqlglot import exp  # at call time: the module is imported by every layer, cheaply

    length = exp.Length(this=value)
    eight = exp.Literal.number(8)
    star = exp.Literal.string("*")
    ends = exp.DPipe(this=exp.DPipe(
        this=exp.Substring(this=value, start=exp.Literal.number(1),
                           length=exp.Literal.number(4)),
        expression=exp.Repeat(this=star, times=exp.Sub(this=length, expression=eight)),
        safe=True), expression=exp.Right(this=value, expression=exp.Literal.number(4)),
        safe=True)
    return exp.Case(ifs=[exp.If(this=exp.LTE(this=length, expression=eight),
                                true=exp.Repeat(this=star, times=length))], default=ends)


def mask_text(text: str, *, unmask: bool = False) -> str:
    """Mask every run of 16 or more digits in free text (a NIK typed where it should not be).

    Args:
        text: Any text meant for someone else.
        unmask: Return ``text`` unchanged (only on the caller's explicit request).

    Returns:
        The text with each such run masked by :func:`mask_id`.
    """
    if unmask or not text:
        return text
    return _DIGIT_RUN.sub(lambda m: mask_id(m.group(0)), text)


def is_masked_field(name: str, entity: str | None = None, key: str | None = None) -> bool:
    """Whether the field ``name`` holds an identifier that must be masked.

    Args:
        name: The field name.
        entity: The entity the field belongs to, when known.
        key: The key field of that entity, when known (``id`` for households: the No. KK).
    """
    if name in MASKED_FIELDS:
        return True
    if entity == "household":
        return name == (key or "id")
    return False


def mask_field(name: str, value: Any, *, entity: str | None = None, key: str | None = None,
               unmask: bool = False) -> str:
    """The text of one field's value as it may be shown to others.

    Identifier fields are masked whole (:func:`mask_id`); any other value is shown with its
    16-digit runs masked (:func:`mask_text`). ``None`` is shown as an empty string.
    """
    if value is None:
        return ""
    s = str(value)
    if unmask:
        return s
    if is_masked_field(name, entity, key):
        return mask_id(s)
    return mask_text(s)


def placeholder_text(name: str, value: Any, *, entity: str | None = None,
                     key: str | None = None, unmask: bool = False) -> str:
    """A field's value in a finding message, as every backend writes it: ``"?"`` when it is
    unknown, an identifier field masked whole (empty when missing), any other value with its
    16-digit runs masked (:func:`mask_field`)."""
    if value is None and not is_masked_field(name, entity, key):
        return "?"
    return mask_field(name, value, entity=entity, key=key, unmask=unmask)


def mask_data(value: Any, *, unmask: bool = False) -> Any:
    """Mask a JSON-like structure: every string (and every integer of 16+ digits) inside it.

    Mappings whose keys are identifier fields have those values masked whole. Containers are
    copied; other values are returned as they are.
    """
    if unmask:
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return mask_text(str(value)) if abs(value) >= 10**15 else value
    if isinstance(value, Mapping):
        return {k: (mask_id(v) if isinstance(k, str) and is_masked_field(k) and v is not None
                    else mask_data(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v) for v in value]
    return value


def mask_table(table: pa.Table, *, unmask: bool = False,
               columns: tuple[str, ...] | None = None) -> pa.Table:
    """Mask a pyarrow table about to be written for others.

    Columns named like an identifier field (:data:`MASKED_FIELDS`) that still hold a full
    16-digit number are masked whole; in every other text, 16-digit runs are masked
    (:func:`mask_text`). Text is found wherever it is: plain and dictionary-encoded string
    columns, and strings inside list and struct columns (masked as :func:`mask_data` masks
    them). An integer column named like an identifier, or holding numbers of 16 digits, is
    turned into masked text (a NIK read as a number is still a NIK). Columns whose name ends
    in ``_unmasked`` were asked for explicitly and are left as they are, as is everything when
    ``unmask`` is true.

    Args:
        table: a ``pyarrow.Table``.
        unmask: return the table unchanged.
        columns: mask only these columns (all columns when ``None``).

    Returns:
        A ``pyarrow.Table``; every column keeps its type (a dictionary-encoded one is masked
        and encoded again) except an integer column that held an identifier, which becomes
        text.
    """
    import pyarrow as pa

    if unmask or table.num_rows == 0:
        return table
    for i, name in enumerate(table.column_names):
        if name.endswith("_unmasked") or (columns is not None and name not in columns):
            continue
        masked = _mask_column(name, table.column(i))
        if masked is not None:
            table = table.set_column(i, pa.field(name, masked.type), masked)
    return table


def _mask_column(name: str, col: Any) -> Any:
    """The masked column, or ``None`` when nothing in it needs masking."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = col.type
    whole = is_masked_field(name)
    if pa.types.is_dictionary(typ) and _is_text(typ.value_type):
        decoded = _mask_column(name, col.cast(typ.value_type))
        return None if decoded is None else decoded.cast(typ)
    if _is_text(typ):
        if not pc.any(pc.fill_null(pc.match_substring_regex(col, "[0-9]{16}"), False)).as_py():
            return None
        fn = mask_id if whole else mask_text
        return pa.chunked_array([pa.array(
            [v if v is None or not _DIGITS16.search(v) else fn(v) for v in c.to_pylist()], typ)
            for c in col.chunks], typ)
    if pa.types.is_integer(typ):
        big = pc.fill_null(pc.greater_equal(pc.abs(col), 10**15), False) \
            if not pa.types.is_int8(typ) and not pa.types.is_uint8(typ) else None
        if not whole and (big is None or not pc.any(big).as_py()):
            return None
        return pa.chunked_array([pa.array(
            [None if v is None else (mask_id(v) if whole else mask_text(str(v)))
             for v in c.to_pylist()], pa.string()) for c in col.chunks], pa.string())
    if pa.types.is_nested(typ):
        values = col.to_pylist()
        masked = [mask_data(v) for v in values]
        if masked == values:
            return None
        return pa.chunked_array([pa.array(masked, typ)], typ)
    return None


def _is_text(typ: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ))
