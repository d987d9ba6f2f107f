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
    """Differences of column names and order, Arrow types and values, row by row."""
    out: list[str] = schema_differences(expected.schema, actual.schema, label)
    if expected.column_names != actual.column_names:
        odd = set(expected.column_names) ^ set(actual.column_names)
        out.append(f"{label}: columns differ: {odd}"
                   f" / order {expected.column_names[:5]} vs {actual.column_names[:5]}")
    if expected.num_rows != actual.num_rows:
        out.append(f"{label}: {expected.num_rows} rows expected, {actual.num_rows} found")
    for i, (e, a) in enumerate(zip(expected.to_pylist(), actual.to_pylist(), strict=False)):
        for k, v in e.items():
            if not same(v, a.get(k)):
                out.append(f"{label} row {i} ({next(iter(e.values()))}) {k}: expected {v!r}, "
                           f"found {a.get(k)!r}")
                if len(out) >= limit:
                    return out
    return out
