"""Spreadsheets for people: one sheet per Arrow table, streamed with openpyxl.

The recipient jobs (reconcile, reallocate, allocate) and the reports all write their tables
through :func:`write_workbook`; it sits below them so that none of them imports another to
write a file.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ["excel_sheet_name", "write_workbook"]


def excel_sheet_name(name: str, taken: Sequence[str]) -> str:
    """``name`` as an Excel sheet name: without ``[]:*?/\\``, at most 31 characters, and
    not one of ``taken`` (`` (2)``, `` (3)``... appended)."""
    base = "".join(ch for ch in (name or "-") if ch not in "[]:*?/\\")[:31] or "-"
    out, i = base, 2
    while out in taken:
        suffix = f" ({i})"
        out, i = base[:31 - len(suffix)] + suffix, i + 1
    return out


def write_workbook(path: str | Path, tables: Mapping[str, pa.Table]) -> Path:
    """Write one sheet per table (header row in bold, frozen) with openpyxl in write-only
    mode, so large tables stream. Sheet names are cut to Excel's 31 characters."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    used: list[str] = []
    bold = Font(bold=True)
    for name, table in tables.items():
        sheet_name = excel_sheet_name(name, used)
        used.append(sheet_name)
        ws = wb.create_sheet(sheet_name)
        ws.freeze_panes = "A2"
        header = []
        for c in table.column_names:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for batch in table.to_batches(max_chunksize=10_000):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for row in zip(*cols, strict=True):
                ws.append([_xl(v) for v in row])
    wb.save(path)
    return path



def _xl(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str, datetime.date, datetime.datetime)):
        return v
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)
