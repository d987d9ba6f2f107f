"""Spreadsheet-safe CSV and XLSX output, and byte-reproducible workbooks.

Data comes from exports that anyone along the chain can edit; the CSV and XLSX files the library
writes are opened by officials in Excel or LibreOffice. A cell whose text starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return would be read as a formula (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``). Following OWASP's CSV-injection guidance, every such text from data is
written as text:

* in CSV, the cell is prefixed with a single quote (``'=HYPERLINK(...)``), which spreadsheets
  hide and which makes the cell a literal;
* in XLSX, the cell is written with the string type, so it is never a formula (the text itself
  is unchanged).

Workbooks are saved by :func:`save_workbook`, which fixes the metadata openpyxl would stamp with
the current time and the timestamps inside the zip container, so the same inputs give the same
bytes.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "FORMULA_STARTS",
    "csv_text",
    "is_formula_like",
    "safe_csv_table",
    "save_workbook",
    "text_cells",
    "write_csv",
]

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = "^[=+\\-@\t\r]"
#: The fixed creation and modification time written into every workbook.
FIXED_TIME = datetime.datetime(2000, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_text(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text (``'`` prefixed when formula-like)."""
    return "'" + value if is_formula_like(value) else value


def safe_csv_table(table: pa.Table) -> pa.Table:
    """The table with every formula-like text cell quoted, lists and structs as JSON text."""
    cols = []
    for c in table.columns:
        if pa.types.is_list(c.type) or pa.types.is_struct(c.type) or pa.types.is_map(c.type):
            c = pa.chunked_array([pa.array(
                [None if v is None else json.dumps(v, default=str, ensure_ascii=False)
                 for v in c.to_pylist()], pa.string())])
        if pa.types.is_dictionary(c.type):
            c = pc.cast(c, c.type.value_type)
        if pa.types.is_string(c.type) or pa.types.is_large_string(c.type):
            risky = pc.fill_null(pc.match_substring_regex(c, _FORMULA_RE), False)
            if pc.any(risky).as_py():
                c = pc.if_else(risky, pc.binary_join_element_wise("'", c, ""), c)
        cols.append(c)
    return pa.table(cols, names=table.column_names)


def write_csv(table: pa.Table, path: str | Path, *, unmask: bool = False) -> Path:
    """Write ``table`` as CSV for others: NIKs masked (:func:`~welfare_rules.masking.mask_table`,
    unless ``unmask``) and :func:`safe_csv_table` applied; return the path."""
    import pyarrow.csv as pa_csv

    from .masking import mask_table

    p = Path(path)
    pa_csv.write_csv(safe_csv_table(mask_table(table, unmask=unmask)), p)
    return p


def _xl_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str | datetime.date):
        return v
    if isinstance(v, list | dict | tuple):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def text_cells(ws: Any, values: Iterable[Any]) -> list[Any]:
    """openpyxl cells for one row of data, none of which is a formula.

    Args:
        ws: the worksheet (normal or write-only) the row is appended to.
        values: the row's values; lists and dicts become JSON text.

    Returns:
        Cells to pass to ``ws.append``; a formula-like text is a string cell.
    """
    from openpyxl.cell import Cell

    out = []
    for v in values:
        cell = Cell(ws, row=1, column=1, value=_xl_value(v))
        if cell.data_type == "f":
            cell.data_type = "s"
        out.append(cell)
    return out


_CORE_TIME = re.compile(
    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def save_workbook(wb: Any, path: str | Path) -> Path:
    """Save an openpyxl workbook so that the same content always gives the same bytes.

    The document properties get a fixed creator and creation/modification time, and the zip
    entries a fixed timestamp, in the order openpyxl wrote them.
    """
    p = Path(path)
    wb.properties.creator = "welfare-rules"
    wb.properties.lastModifiedBy = "welfare-rules"
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(lambda m: m.group(1) + stamp + m.group(3), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(out.getvalue())
    return p
