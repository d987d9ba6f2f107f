"""Lines that are not rows (issue 11): an unclosed quote is reported with its line and reading
resumes at the next line; blank and whitespace-only lines are skipped and counted, not rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.adapters import read
from welfare_rules.schema import Schema

from .conftest import EXAMPLES

HH = (EXAMPLES / "households.csv").read_text().splitlines()


def _read(tmp_path: Path, schema: Schema, lines: list[str]) -> object:
    p = tmp_path / "households.csv"
    p.write_text("\n".join(lines) + "\n")
    return read(p, schema, progress=False)


def test_an_unclosed_quote_costs_its_own_line_only(tmp_path: Path, schema: Schema) -> None:
    """Before: the rest of the file folded into one quarantined record (1 household of 3)."""
    lines = list(HH)
    lines[1] = lines[1].replace(",Pekalongan Barat", ',"Pekalongan Barat', 1)
    res = _read(tmp_path, schema, lines)
    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (3, 2, 1)
    assert res.quarantine.column("row").to_pylist() == [1]
    assert res.quarantine.column("reason").to_pylist() == [
        "unclosed quote on line 2 of the file (a quoted value that never ends); reading "
        "resumed at line 3"]
    ids = res.tables["household"].column("id").to_pylist()
    assert ids == [HH[2].split(",")[0], HH[3].split(",")[0]]


def test_an_unclosed_quote_in_the_middle_and_blank_lines_around_it(tmp_path: Path,
                                                                   schema: Schema) -> None:
    lines = [HH[0], HH[1], "  ", HH[2].replace(",Pekalongan", ',"Pekalongan', 1), "", HH[3]]
    res = _read(tmp_path, schema, lines)
    assert res.quarantine.column("row").to_pylist() == [2]
    assert "line 4 of the file" in res.quarantine.column("reason")[0].as_py()
    assert res.blank_lines == 2
    assert res.rows_read == res.rows_valid + res.rows_quarantined == 3


def test_a_quoted_value_spanning_lines_is_still_one_record(tmp_path: Path,
                                                          schema: Schema) -> None:
    lines = list(HH)
    lines[1] = lines[1].replace(",Pekalongan Barat,", ',"Pekalongan\nBarat",', 1)
    res = _read(tmp_path, schema, lines)
    assert res.rows_quarantined == 0
    assert res.tables["household"].column("kecamatan")[0].as_py() == "Pekalongan\nBarat"


@pytest.mark.parametrize("blank", ["", "   ", "\t", ",,,,", " , ,"])
def test_blank_lines_are_skipped_and_counted_not_rows(tmp_path: Path, schema: Schema,
                                                      blank: str) -> None:
    """Before: a whitespace-only line counted as a row (quarantined as a broken line)."""
    lines = [HH[0], blank, HH[1], blank, HH[2], HH[3], blank]
    res = _read(tmp_path, schema, lines)
    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (3, 3, 0)
    assert res.blank_lines == 3
    assert res.summary() == "read 3, valid 3, quarantined 0, blank lines skipped 3"


def test_row_numbers_leave_out_blank_lines(tmp_path: Path, schema: Schema) -> None:
    broken = HH[2].rsplit(",", 3)[0]  # too few cells
    lines = [HH[0], "", "", HH[1], "  ", broken, "", HH[3]]
    res = _read(tmp_path, schema, lines)
    assert res.quarantine.column("row").to_pylist() == [2]
    assert res.blank_lines == 4


def test_the_tolerant_reader_counts_blank_lines_too(tmp_path: Path, schema: Schema) -> None:
    """A file that also has an unclosed quote is read line by line: same counting."""
    lines = [HH[0], "", HH[1].replace(",Pekalongan", ',"Pekalongan', 1), "   ", HH[2], ",,,",
             HH[3]]
    res = _read(tmp_path, schema, lines)
    assert res.blank_lines == 3
    assert res.quarantine.column("row").to_pylist() == [1]
    assert "line 3 of the file" in res.quarantine.column("reason")[0].as_py()
    assert res.rows_valid == 2


def test_json_lines_count_blank_lines_too(tmp_path: Path, schema: Schema) -> None:
    p = tmp_path / "households.jsonl"
    p.write_text('{"id": "3375010101230001"}\n\n   \n{"id": "3375010101230002"}\n')
    res = read(p, schema, progress=False)
    assert (res.rows_read, res.rows_valid, res.blank_lines) == (2, 2, 2)


@pytest.mark.parametrize(("value", "reason"), [
    ("+2", "a '+' sign is not accepted (write 2, not +2)"),
    ("7.5", "a decimal number in a whole-number field"),
    ("1234567890123456789012", "too large for a whole number (beyond the 64-bit range)"),
])
def test_an_int_cell_that_does_not_parse_quarantines_its_row(tmp_path: Path, schema: Schema,
                                                             value: str, reason: str) -> None:
    """Before (issue 11): one such value aborted the whole read with a pyarrow traceback."""
    header = HH[0].split(",")
    cells = HH[1].split(",")
    cells[header.index("meals_per_day")] = value
    res = _read(tmp_path, schema, [HH[0], ",".join(cells), HH[2], HH[3]])
    assert res.quarantine.select(["row", "field", "value", "reason"]).to_pylist() == [
        {"row": 1, "field": "meals_per_day", "value": value, "reason": reason}]
    assert res.rows_valid == 2
