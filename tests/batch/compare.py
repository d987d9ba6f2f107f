"""Row-by-row comparison of batch results, with the first differences spelled out."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pyarrow as pa

CHECKS = {
    "dup_nik_households": {"kind": "duplicate_key", "entity": "person", "key": ["nik"],
                           "across": "household_id", "severity": "error",
                           "message": "NIK {nik} ({name}) di {count} KK"},
    "dup_person_identity": {"kind": "duplicate_key", "entity": "person",
                            "key": ["name", "birth_date"], "normalise": ["name"],
                            "across": "nik", "message": "{name} {birth_date} {count} NIK {nik}"},
    "programme_overlap": {"kind": "forbidden_combination", "entity": "household",
                          "programmes": {"pkh": "receives_pkh", "pbi": "receives_pbi",
                                         "bpnt": "receives_bpnt"},
                          "forbidden": [["pkh", "pbi"], ["bpnt", "pbi"]],
                          "message": "{a}+{b} {id} {in_dtks} {kelurahan}"},
}


def same(a: Any, b: Any) -> bool:
    """Equal values; floats within 1e-9 (sums over members may add in another order)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a == b and type(a) is type(b))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime.date) or isinstance(b, datetime.date):
        return a == b
    return bool(a == b)


def schema_differences(expected: pa.Schema, actual: pa.Schema, label: str) -> list[str]:
    """Columns whose Arrow types differ (list item names included: ``str`` of each type)."""
    theirs = {f.name: f.type for f in actual}
    return [f"{label}: column {f.name} is {theirs[f.name]}, expected {f.type}"
            for f in expected if f.name in theirs and str(theirs[f.name]) != str(f.type)]


def differences(expected: pa.Table, actual: pa.Table, label: str, limit: int = 12
                ) -> list[str]:
    """Differences of column names and order, Arrow types and values, row by row.

    A column of the same type whose values Arrow finds equal (nulls in the same places) is
    equal by :func:`same` too, so only the other columns are turned into Python values and
    compared one by one (``to_pylist`` of every cell of a wide result was most of the
    differential tests' time). The differences are listed by row, then column, as found.
    """
    out: list[str] = schema_differences(expected.schema, actual.schema, label)
    if expected.column_names != actual.column_names:
        odd = set(expected.column_names) ^ set(actual.column_names)
        out.append(f"{label}: columns differ: {odd}"
                   f" / order {expected.column_names[:5]} vs {actual.column_names[:5]}")
    if expected.num_rows != actual.num_rows:
        out.append(f"{label}: {expected.num_rows} rows expected, {actual.num_rows} found")
    rows = min(expected.num_rows, actual.num_rows)
    if not expected.num_columns or not rows:
        return out
    theirs = set(actual.column_names)
    odd_cells: list[tuple[int, int, str, Any, Any]] = []
    for j, name in enumerate(expected.column_names):
        e = expected.column(name).slice(0, rows)
        a = actual.column(name).slice(0, rows) if name in theirs else None
        if a is not None and e.type == a.type and e.equals(a):
            continue
        got = a.to_pylist() if a is not None else [None] * rows
        odd_cells += [(i, j, name, v, w) for i, (v, w) in enumerate(zip(e.to_pylist(), got,
                                                                         strict=True))
                      if not same(v, w)]
    if not odd_cells:
        return out
    keys = expected.column(0).slice(0, rows).to_pylist()
    for i, _, name, v, w in sorted(odd_cells, key=lambda c: (c[0], c[1])):
        out.append(f"{label} row {i} ({keys[i]}) {name}: expected {v!r}, found {w!r}")
        if len(out) >= limit:
            return out
    return out
