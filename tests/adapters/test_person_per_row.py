"""Person-per-row exports (issue 11): a damaged person cell on a row costs that person, not the
household fields the same row gives — the family keeps its desil, in_dtks and floor area, and
the warning says exactly that."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.adapters import MappingAdapter, read
from welfare_rules.schema import Schema

from .conftest import FIXTURES

EXPORT = FIXTURES / "pekalongan_export.csv"
LINES = EXPORT.read_bytes().split(b"\r\n")
HEADER = [h.decode().upper() for h in LINES[0].split(b";")]


def _with_cell(tmp_path: Path, row: int, column: str, value: bytes) -> Path:
    cells = LINES[row].split(b";")
    cells[HEADER.index(column)] = value
    p = tmp_path / "export.csv"
    p.write_bytes(b"\r\n".join([*LINES[:row], b";".join(cells), *LINES[row + 1:]]))
    return p


@pytest.mark.parametrize(("column", "value"), [
    ("TANGGAL_LAHIR", b"31-02-1980"),        # not a real date
    ("JENIS_KELAMIN", b"X"),                 # not a declared value
    ("NAMA", b"Slamet \x81 Riyadi"),         # a byte windows-1252 does not define
])
def test_a_bad_person_cell_on_the_heads_row_keeps_the_household_fields(
        tmp_path: Path, schema: Schema, pekalongan: MappingAdapter, column: str,
        value: bytes) -> None:
    """Before: the head's row was quarantined whole, so the family lost its desil, in_dtks and
    floor area (given on the head's row only); the warning spoke only of member rows."""
    clean = read(EXPORT, schema, adapter=pekalongan, progress=False)
    res = read(_with_cell(tmp_path, 1, column, value), schema, adapter=pekalongan,
               progress=False)
    family = clean.tables["household"].column("id")[0].as_py()
    before = clean.tables["household"].to_pylist()[0]
    after = next(h for h in res.tables["household"].to_pylist() if h["id"] == family)
    assert after == before
    assert before["desil"] is not None
    assert res.rows_read == res.rows_valid + res.rows_quarantined
    assert res.rows_quarantined == 1
    assert res.quarantine.column("row").to_pylist()[0] == 1
    assert res.tables["person"].num_rows == clean.tables["person"].num_rows - 1
    assert res.warnings[-1].endswith(
        "1 member row(s) quarantined (row 1); the household is kept without them, with the "
        "household fields of row 1 (only their person cells were bad)")


def test_a_bad_household_cell_still_costs_the_whole_row(tmp_path: Path, schema: Schema,
                                                        pekalongan: MappingAdapter) -> None:
    res = read(_with_cell(tmp_path, 1, "DESIL", b"42"), schema, adapter=pekalongan,
               progress=False)
    q = res.quarantine.to_pylist()
    assert [(e["row"], e["field"]) for e in q] == [(1, "desil")]
    assert "with the household fields" not in " ".join(res.warnings)


def test_a_family_whose_only_person_row_is_bad_does_not_appear(tmp_path: Path, schema: Schema,
                                                               pekalongan: MappingAdapter
                                                               ) -> None:
    cells = LINES[1].split(b";")
    cells[HEADER.index("NIK")] = b"3375011204809999"
    cells[HEADER.index("NO_KK")] = b"3375010101239999"
    cells[HEADER.index("JENIS_KELAMIN")] = b"X"
    p = tmp_path / "export.csv"
    p.write_bytes(b"\r\n".join([*[line for line in LINES if line], b";".join(cells)]) + b"\r\n")
    res = read(p, schema, adapter=pekalongan, progress=False)
    assert "3375010101239999" not in res.tables["household"].column("id").to_pylist()
    assert res.quarantine.column("field").to_pylist() == ["sex"]
    assert res.rows_read == res.rows_valid + res.rows_quarantined
