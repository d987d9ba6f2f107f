"""Vectorised cell parsers: a column of source text in, a typed Arrow column and problems out.

Every parser takes a trimmed string array (blank cells already null) and returns a
:class:`Parsed`: the typed values (null where the cell is blank or bad) and a list of
``(mask, reason)`` pairs marking the bad cells. Nothing here loops over rows in Python, and
nothing here repairs a value: a cell that does not read cleanly is reported, not guessed at.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from ..types import INT64_MAX, INT64_MIN

ARROW_TYPES: Mapping[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int": pa.int64(),
    "decimal": pa.float64(),
    "str": pa.string(),
    "enum": pa.string(),
    "date": pa.date32(),
}


@attrs.frozen
class Parsed:
    """The outcome of parsing one column: typed values and the masks of bad cells."""

    values: pa.Array
    problems: list[tuple[pa.Array, str]] = attrs.field(factory=list)


def normalise(arr: pa.Array) -> pa.Array:
    """Trim a text column and turn blank cells into nulls."""
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _bad(present: pa.Array, ok: pa.Array) -> pa.Array:
    """Cells that hold something (``present``) but did not parse (``ok`` false or null)."""
    return pc.and_(present, pc.invert(pc.fill_null(ok, False)))


def _matches(arr: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(arr, pattern), False)


def _null_where(arr: pa.Array, mask: pa.Array) -> pa.Array:
    return pc.if_else(mask, pa.scalar(None, arr.type), arr)


def _cast_where_ok(text: pa.Array, ok: pa.Array, to: pa.DataType) -> pa.Array:
    cleaned = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return pc.cast(cleaned, to)


# --- canonical parsers: values already in canonical form -------------------------------------
#
# The grammar below is the one of the record contract too (``record.py`` parses one value with
# the scalar twins at the end of this module): a value means the same whether it arrives in a
# file or in a Python dict.

INT_RE = r"^-?[0-9]+$"
PLUS_INT_RE = r"^\+[0-9]+$"
DECIMAL_RE = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"

#: yes/no vocabulary of a canonical ``bool`` cell or text value (compared case-insensitively)
BOOL_TRUE = ("true", "ya", "1")
BOOL_FALSE = ("false", "tidak", "0")

REASON_INT = "not a whole number"
REASON_PLUS = "a '+' sign is not accepted (write 2, not +2)"
REASON_INT_DECIMAL = "a decimal number in a whole-number field"
REASON_INT_RANGE = "too large for a whole number (beyond the 64-bit range)"
REASON_DECIMAL = "not a number"


def fits_int64(text: pa.Array) -> pa.Array:
    """For cells of the shape ``-?[0-9]+``: whether the number is within the int64 range
    (compared as text, so nothing overflows on the way)."""
    neg = pc.fill_null(pc.starts_with(text, "-"), False)
    mag = pc.utf8_ltrim(pc.replace_substring_regex(text, r"^-", ""), "0")
    n = pc.utf8_length(mag)
    limit = pc.if_else(neg, pa.scalar(str(-INT64_MIN)), pa.scalar(str(INT64_MAX)))
    return pc.or_(pc.less(n, 19), pc.and_(pc.equal(n, 19), pc.less_equal(mag, limit)))


def _int_problems(digits: pa.Array, present: pa.Array, shaped: pa.Array, plus: pa.Array,
                  decimal: pa.Array, base_reason: str
                  ) -> tuple[pa.Array, list[tuple[pa.Array, str]]]:
    """Which cells of a whole-number column parse (``ok``: of the right shape and within
    int64; ``digits`` is their ``-?[0-9]+`` text) and one mask per reason for the others:
    a ``+`` sign, a decimal, beyond int64, anything else (``base_reason``)."""
    fits = pc.fill_null(fits_int64(pc.if_else(shaped, digits, pa.scalar("0"))), False)
    ok = pc.and_(shaped, fits)
    too_big = pc.and_(shaped, pc.invert(fits))
    plus = pc.and_(present, plus)
    decimal = pc.and_(pc.and_(present, pc.invert(shaped)), decimal)
    other = pc.and_(_bad(present, ok), pc.invert(pc.or_(pc.or_(too_big, plus), decimal)))
    return ok, [(other, base_reason), (plus, REASON_PLUS), (decimal, REASON_INT_DECIMAL),
                (too_big, REASON_INT_RANGE)]


def parse_int(text: pa.Array) -> Parsed:
    present = pc.is_valid(text)
    ok, problems = _int_problems(text, present, _matches(text, INT_RE),
                                 _matches(text, PLUS_INT_RE), _matches(text, DECIMAL_RE),
                                 REASON_INT)
    return Parsed(_cast_where_ok(text, ok, pa.int64()), problems)


def parse_decimal(text: pa.Array) -> Parsed:
    present = pc.is_valid(text)
    ok = _matches(text, DECIMAL_RE)
    return Parsed(_cast_where_ok(text, ok, pa.float64()), [(_bad(present, ok), REASON_DECIMAL)])


def _bool_reason(truthy: Sequence[str], falsy: Sequence[str]) -> str:
    return f"not a yes/no value (expected {'/'.join([*truthy, *falsy])})"


def parse_bool(text: pa.Array, truthy: Sequence[str] = BOOL_TRUE,
               falsy: Sequence[str] = BOOL_FALSE) -> Parsed:
    present = pc.is_valid(text)
    low = pc.utf8_lower(text)
    is_true = pc.is_in(low, value_set=pa.array([s.lower() for s in truthy], pa.string()))
    is_false = pc.is_in(low, value_set=pa.array([s.lower() for s in falsy], pa.string()))
    ok = pc.or_(is_true, is_false)
    values = pc.if_else(ok, is_true, pa.scalar(None, pa.bool_()))
    return Parsed(values, [(_bad(present, ok), _bool_reason(truthy, falsy))])


def parse_str(text: pa.Array) -> Parsed:
    return Parsed(text)


def parse_enum(text: pa.Array, declared: Sequence[str], shown: Sequence[str] | None = None
               ) -> Parsed:
    """Match declared enum values case-insensitively; return them in their declared spelling."""
    present = pc.is_valid(text)
    keys = pa.array([v.lower() for v in declared], pa.string())
    idx = pc.index_in(pc.utf8_lower(text), value_set=keys)
    values = pc.take(pa.array(list(declared), pa.string()), idx)
    ok = pc.is_valid(idx)
    expected = ", ".join(shown if shown is not None else declared)
    return Parsed(values, [(_bad(present, ok), f"not one of the declared values "
                                               f"(expected one of: {expected})")])


def _build_date(year: pa.Array, month: pa.Array, day: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Dates from text parts; the second array tells which parts formed a real calendar day."""
    y = pc.cast(year, pa.int64())
    m = pc.cast(month, pa.int64())
    d = pc.cast(day, pa.int64())
    in_range = pc.and_(pc.and_(pc.greater_equal(m, 1), pc.less_equal(m, 12)),
                       pc.and_(pc.greater_equal(d, 1), pc.less_equal(d, 31)))
    in_range = pc.fill_null(in_range, False)
    iso = pc.binary_join_element_wise(
        pc.utf8_lpad(pc.cast(y, pa.string()), 4, "0"),
        pc.utf8_lpad(pc.cast(m, pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(d, pa.string()), 2, "0"), "-")
    iso = pc.if_else(in_range, iso, pa.scalar(None, pa.string()))
    # strptime rolls 31-02 over into March; checking the day back rejects such dates
    stamp = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    real = pc.and_(pc.equal(pc.day(stamp), d), pc.equal(pc.month(stamp), m))
    real = pc.fill_null(pc.and_(real, pc.greater_equal(y, 1)), False)  # no year 0 in Python
    return pc.cast(_null_where(stamp, pc.invert(real)), pa.date32()), real


ISO_DATE_RE = r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?:[ T]00:00(?::00)?)?$"
DMY_RE = r"^(?P<d>[0-9]{1,2})[-/](?P<m>[0-9]{1,2})[-/](?P<y>[0-9]{4})$"
YMD_LOOSE_RE = r"^(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})$"


def _parse_dates(text: pa.Array, patterns: Sequence[str], expected: str) -> Parsed:
    present = pc.is_valid(text)
    out: pa.Array = pa.nulls(len(text), pa.date32())
    shaped = pa.repeat(False, len(text))
    for pat in patterns:
        parts = pc.extract_regex(text, pat)
        hit = pc.is_valid(parts)
        if not pc.any(hit).as_py():
            continue
        dates, _ = _build_date(pc.struct_field(parts, "y"), pc.struct_field(parts, "m"),
                               pc.struct_field(parts, "d"))
        out = pc.coalesce(out, dates)
        shaped = pc.or_(shaped, pc.fill_null(hit, False))
    not_shaped = pc.and_(present, pc.invert(shaped))
    impossible = pc.and_(shaped, pc.is_null(out))
    return Parsed(out, [(not_shaped, f"not a date (expected {expected})"),
                        (impossible, "not a real calendar date")])


def parse_iso_date(text: pa.Array) -> Parsed:
    return _parse_dates(text, [ISO_DATE_RE], "yyyy-mm-dd")


def parse_id_date(text: pa.Array) -> Parsed:
    """Indonesian and ISO dates: dd-mm-yyyy, dd/mm/yyyy, yyyy-mm-dd."""
    return _parse_dates(text, [DMY_RE, YMD_LOOSE_RE, ISO_DATE_RE],
                        "dd-mm-yyyy, dd/mm/yyyy or yyyy-mm-dd")


# --- Indonesian numbers ----------------------------------------------------------------------

_RP_PREFIX = r"^[Rr][Pp]\.?\s*"
ID_INT_RE = r"^-?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)(,0+)?$"
ID_FRACTION_RE = r"^-?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+),[0-9]*[1-9][0-9]*$"
REASON_ID_NUMBER = ("not a whole number or amount in rupiah "
                    "(expected e.g. 1500000, 1.500.000 or Rp 1.500.000)")


def parse_id_number(text: pa.Array) -> Parsed:
    """Whole numbers and money as written in Indonesia: ``1500000``, ``1.500.000``,
    ``Rp 1.500.000``, ``Rp1.500.000,00`` (dots group thousands; a decimal part must be zero)."""
    present = pc.is_valid(text)
    bare = pc.replace_substring_regex(text, _RP_PREFIX, "")
    shaped = _matches(bare, ID_INT_RE)
    digits = pc.replace_substring_regex(pc.replace_substring_regex(bare, r",0+$", ""), r"\.", "")
    plus = _matches(bare, r"^\+[0-9]")
    # "7,5" or "1.500,50": an amount with a non-zero decimal part
    decimal = pc.or_(_matches(bare, ID_FRACTION_RE), _matches(bare, r"^-?[0-9]+\.[0-9]{1,2}$"))
    ok, problems = _int_problems(digits, present, shaped, plus, decimal, REASON_ID_NUMBER)
    return Parsed(_cast_where_ok(digits, ok, pa.int64()), problems)


ID_DEC_THOUSANDS_RE = r"^-?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$"
ID_DEC_COMMA_RE = r"^-?[0-9]+(,[0-9]+)?$"
ID_DEC_POINT_RE = r"^-?[0-9]+\.[0-9]+$"


def parse_id_decimal(text: pa.Array) -> Parsed:
    """Decimals with a comma (``36,5``); dots group thousands when followed by three digits
    (``1.250,5``); a lone dot not followed by exactly three digits is a decimal point."""
    present = pc.is_valid(text)
    thousands = _matches(text, ID_DEC_THOUSANDS_RE)
    comma = _matches(text, ID_DEC_COMMA_RE)
    point = pc.and_(_matches(text, ID_DEC_POINT_RE), pc.invert(thousands))
    as_comma = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    cleaned = pc.if_else(point, text, as_comma)
    ok = pc.or_(pc.or_(thousands, comma), point)
    return Parsed(_cast_where_ok(cleaned, ok, pa.float64()),
                  [(_bad(present, ok), "not a number (expected e.g. 36, 36,5 or 1.250,5)")])


def parse_yes_no(text: pa.Array) -> Parsed:
    """``YA``/``TIDAK`` (and the rest of the canonical yes/no vocabulary)."""
    return parse_bool(text, truthy=("YA", "true", "1"), falsy=("TIDAK", "false", "0"))


def parse_digits16(text: pa.Array, label: str = "number") -> Parsed:
    """A NIK or No. KK: exactly 16 digits, kept as text. Never repaired: scientific notation,
    a decimal point (a spreadsheet number) or the wrong length are each reported."""
    present = pc.is_valid(text)
    sci = _matches(text, r"^[+-]?[0-9]*[.,]?[0-9]+[eE][+-]?[0-9]+$")
    decimal = pc.and_(_matches(text, r"^[0-9]+[.,][0-9]*$"), pc.invert(sci))
    digits = _matches(text, r"^[0-9]+$")
    length = pc.utf8_length(pc.fill_null(text, ""))
    ok = pc.and_(digits, pc.equal(length, 16))
    short = pc.and_(digits, pc.less(length, 16))
    long = pc.and_(digits, pc.greater(length, 16))
    other = pc.and_(present, pc.invert(pc.or_(pc.or_(sci, decimal), digits)))
    values = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return Parsed(values, [
        (sci, f"{label} in scientific notation: digits were lost (not repaired)"),
        (decimal, f"{label} written as a decimal number: digits may have been lost "
                  "(not repaired)"),
        (short, f"{label} has fewer than 16 digits: digits were lost (not repaired)"),
        (long, f"{label} has more than 16 digits"),
        (other, f"{label} must be 16 digits"),
    ])


Parser = Callable[..., Parsed]

PARSERS: Mapping[str, tuple[Parser, frozenset[str]]] = {
    # name: (function, field kinds it can produce)
    "int": (parse_int, frozenset({"int"})),
    "decimal": (parse_decimal, frozenset({"decimal"})),
    "bool": (parse_bool, frozenset({"bool"})),
    "str": (parse_str, frozenset({"str", "enum"})),
    "iso_date": (parse_iso_date, frozenset({"date"})),
    "date": (parse_id_date, frozenset({"date"})),
    "id_number": (parse_id_number, frozenset({"int"})),
    "id_decimal": (parse_id_decimal, frozenset({"decimal"})),
    "yes_no": (parse_yes_no, frozenset({"bool"})),
    "digits16": (parse_digits16, frozenset({"str"})),
}

DEFAULT_PARSER = {"int": "int", "decimal": "decimal", "bool": "bool", "str": "str",
                  "enum": "str", "date": "iso_date"}


def apply_value_map(text: pa.Array, value_map: Mapping[str, str]) -> pa.Array:
    """Replace mapped source values (matched case-insensitively, spaces collapsed); cells not in
    the map pass through unchanged for the field's parser to accept or reject."""
    if not value_map:
        return text
    keys = pa.array([normalise_key(k) for k in value_map], pa.string())
    targets = pa.array([str(v) for v in value_map.values()], pa.string())
    probe = pc.utf8_upper(pc.replace_substring_regex(text, r"\s+", " "))
    idx = pc.index_in(probe, value_set=keys)
    return pc.coalesce(pc.take(targets, idx), text)


def normalise_key(value: Any) -> str:
    """The form a value-map key or a header is compared in: trimmed, upper case, one space."""
    return " ".join(str(value).split()).upper()


# --- scalar twins: one value at a time, for the record contract ---------------------------------
#
# Same grammar as the column parsers above (the same regular expressions and vocabulary), for a
# single text value; tests/adapters/test_record.py checks that both agree on random text.

_INT_SCALAR = re.compile(INT_RE)
_DECIMAL_SCALAR = re.compile(DECIMAL_RE)
_PLUS_SCALAR = re.compile(PLUS_INT_RE)
_ISO_SCALAR = re.compile(ISO_DATE_RE)
_TRUE = frozenset(BOOL_TRUE)
_FALSE = frozenset(BOOL_FALSE)


def text_to_bool(text: str) -> bool | None:
    """``true``/``ya``/``1`` → True, ``false``/``tidak``/``0`` → False (any case); else None."""
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def text_to_int(text: str) -> tuple[int | None, str | None]:
    """A canonical whole number: the value, or None and the reason it is not one."""
    if _INT_SCALAR.fullmatch(text):
        value = int(text)
        if INT64_MIN <= value <= INT64_MAX:
            return value, None
        return None, REASON_INT_RANGE
    if _PLUS_SCALAR.fullmatch(text):
        return None, REASON_PLUS
    if _DECIMAL_SCALAR.fullmatch(text):
        return None, REASON_INT_DECIMAL
    return None, REASON_INT


def text_to_decimal(text: str) -> float | None:
    """A canonical decimal (``36.5``, ``-2``, ``.5``) as a float; None if it is not one."""
    return float(text) if _DECIMAL_SCALAR.fullmatch(text) else None


def text_to_date(text: str) -> tuple[datetime.date | None, str | None]:
    """An ISO date (``yyyy-mm-dd``, optionally ``T00:00[:00]``): the date, or None and why."""
    m = _ISO_SCALAR.fullmatch(text)
    if m is None:
        return None, "not a date (expected yyyy-mm-dd)"
    try:
        return datetime.date(int(m["y"]), int(m["m"]), int(m["d"])), None
    except ValueError:
        return None, "not a real calendar date"
