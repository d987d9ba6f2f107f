"""The cell parsers: Indonesian numbers, money, dates and 16-digit ids, never repaired."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from welfare_rules.adapters import _parse as P


def run(fn: P.Parser, cells: list[str | None]) -> tuple[list[object], list[str | None]]:
    parsed = fn(P.normalise(pa.array(cells, pa.string())))
    reasons: list[str | None] = [None] * len(cells)
    for mask, reason in parsed.problems:
        for i, bad in enumerate(mask.to_pylist()):
            if bad and reasons[i] is None:
                reasons[i] = reason
    return parsed.values.to_pylist(), reasons


def test_id_number_reads_rupiah_amounts() -> None:
    values, reasons = run(P.parse_id_number, ["1500000", "1.500.000", "Rp 1.500.000",
                                              "rp1.500.000,00", " 0 ", "", "1,5", "1.50.000"])
    assert values == [1500000, 1500000, 1500000, 1500000, 0, None, None, None]
    assert reasons[:6] == [None] * 6
    assert reasons[6] is not None
    assert reasons[7] is not None


def test_id_decimal_reads_decimal_commas() -> None:
    values, reasons = run(P.parse_id_decimal, ["36", "36,5", "1.250,5", "36.5", "abc"])
    assert values == [36.0, 36.5, 1250.5, 36.5, None]
    assert reasons[-1] == "not a number (expected e.g. 36, 36,5 or 1.250,5)"


def test_dates_in_three_shapes_and_impossible_days_rejected() -> None:
    values, reasons = run(P.parse_id_date, ["05-01-1980", "5/1/1980", "1980-01-05",
                                            "31-02-1980", "1980/13/01", "kemarin"])
    d = datetime.date(1980, 1, 5)
    assert values[:3] == [d, d, d]
    assert values[3:] == [None, None, None]
    assert reasons[3] == "not a real calendar date"
    assert reasons[4] == "not a real calendar date"
    assert reasons[5] == "not a date (expected dd-mm-yyyy, dd/mm/yyyy or yyyy-mm-dd)"


def test_iso_dates_only_for_canonical_data() -> None:
    values, reasons = run(P.parse_iso_date, ["2024-01-05", "2024-01-05 00:00:00", "05-01-2024"])
    assert values[:2] == [datetime.date(2024, 1, 5)] * 2
    assert reasons[2] == "not a date (expected yyyy-mm-dd)"


@pytest.mark.parametrize(("cell", "reason"), [
    ("3375011234567890", None),
    ("3.37501E+15", "NIK in scientific notation: digits were lost (not repaired)"),
    ("3,37501E+15", "NIK in scientific notation: digits were lost (not repaired)"),
    ("3375011234567890.0", "NIK written as a decimal number: digits may have been lost "
                           "(not repaired)"),
    ("337501123456789", "NIK has fewer than 16 digits: digits were lost (not repaired)"),
    ("33750112345678901", "NIK has more than 16 digits"),
    ("3375-0112-3456-7890", "NIK must be 16 digits"),
])
def test_digits16_never_repairs(cell: str, reason: str | None) -> None:
    values, reasons = run(lambda a: P.parse_digits16(a, "NIK"), [cell])
    assert reasons == [reason]
    assert values == ([cell] if reason is None else [None])


def test_value_map_is_case_insensitive_and_passes_unknown_values_through() -> None:
    text = P.normalise(pa.array(["kepala  keluarga", "ISTRI", "head", "tetangga"]))
    mapped = P.apply_value_map(text, {"KEPALA KELUARGA": "head", "ISTRI": "spouse"})
    values, reasons = run(lambda a: P.parse_enum(a, ("head", "spouse", "child")),
                          mapped.to_pylist())
    assert values == ["head", "spouse", "head", None]
    assert reasons[3] == "not one of the declared values (expected one of: head, spouse, child)"
