"""Spreadsheets for people: one sheet per Arrow table, streamed with openpyxl.

The recipient jobs (reconcile, reallocate, allocate) and the reports all write their tables
through :func:`write_workbook`; it sits below them so that none of them imports another to
write a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from .masking import mask_table

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
    mode, so large tables stream. Sheet names are cut to Excel's 31 characters.

    16-digit runs are masked (:func:`~welfare_rules.masking.mask_table`; ``*_unmasked``
    columns, present only on request, are kept), no cell from data is a formula and the file
    is byte-reproducible (:mod:`welfare_rules.safecells`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .safecells import save_workbook, text_cells

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
        header = text_cells(ws, table.column_names)
        for cell in header:
            cell.font = bold
        ws.append(header)
        for batch in mask_table(table).to_batches(max_chunksize=10_000):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for row in zip(*cols, strict=True):
                ws.append(text_cells(ws, row))
    return save_workbook(wb, path)
