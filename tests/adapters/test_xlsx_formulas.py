"""XLSX formula cells (issue 11): a formula without a cached value (a workbook written by a
program that does not calculate) is quarantined with its row, column and reason — never read
as a blank cell; a formula with its cached value reads as that value."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from welfare_rules.adapters import read
from welfare_rules.schema import Schema

from .conftest import EXAMPLES

LINES = (EXAMPLES / "households.csv").read_text().splitlines()
DESIL = LINES[0].split(",").index("desil") + 1


def _workbook(path: Path, formula: str) -> Path:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in LINES:
        ws.append(line.split(","))
    ws.cell(row=3, column=DESIL).value = formula
    wb.save(path)
    return path


def _with_cached_value(path: Path, value: str) -> Path:
    """The same workbook as a calculating spreadsheet program saves it: ``<v>`` beside ``<f>``."""
    out = path.with_name("cached.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"(<f>[^<]*</f>)(<v\s*/>|<v></v>)?", rb"\1<v>" + value.encode()
                              + rb"</v>", data)
            dst.writestr(item, data)
    return out


def test_a_formula_without_a_cached_value_is_quarantined(tmp_path: Path,
                                                         schema: Schema) -> None:
    """Before: read as a blank cell (the household's desil silently unknown)."""
    res = read(_workbook(tmp_path / "hh.xlsx", "=1+1"), schema, progress=False)
    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (3, 2, 1)
    (entry,) = res.quarantine.to_pylist()
    assert (entry["row"], entry["column"], entry["value"]) == (2, "desil", "=1+1")
    assert entry["reason"].startswith("a formula without a cached value")


def test_a_formula_with_its_cached_value_reads_as_the_value(tmp_path: Path,
                                                            schema: Schema) -> None:
    path = _with_cached_value(_workbook(tmp_path / "hh.xlsx", "=1+1"), "2")
    res = read(path, schema, progress=False)
    assert res.rows_quarantined == 0, res.quarantine.to_pylist()
    assert res.tables["household"].column("desil")[1].as_py() == 2
