"""The Kota Pekalongan adapter reads the same export in the formats people save it in (issue 11):
';' and Windows-1252 as the city exports it, ',' and UTF-8 with and without a BOM, to identical
canonical tables."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from welfare_rules.adapters import MappingAdapter, read
from welfare_rules.schema import Schema

from .conftest import FIXTURES

EXPORT = (FIXTURES / "pekalongan_export.csv").read_bytes()


def _resave(delimiter: str, encoding: str) -> bytes:
    rows = list(csv.reader(io.StringIO(EXPORT.decode("cp1252")), delimiter=";"))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize(("delimiter", "encoding"), [(",", "utf-8"), (",", "utf-8-sig"),
                                                     (";", "utf-8"), ("\t", "utf-8")])
def test_the_export_resaved_reads_to_identical_tables(tmp_path: Path, schema: Schema,
                                                      pekalongan: MappingAdapter,
                                                      delimiter: str, encoding: str) -> None:
    """Before: a comma-separated UTF-8 save was refused ("no column for household.id")."""
    original = tmp_path / "export.csv"
    original.write_bytes(EXPORT)
    resaved = tmp_path / "resaved.csv"
    resaved.write_bytes(_resave(delimiter, encoding))
    a = read(original, schema, adapter=pekalongan)
    b = read(resaved, schema, adapter=pekalongan)
    assert a.tables["household"].num_rows > 0
    for name in ("household", "person"):
        assert a.tables[name].equals(b.tables[name]), name
    assert (a.rows_read, a.rows_valid, a.rows_quarantined) == (
        b.rows_read, b.rows_valid, b.rows_quarantined)
    assert a.quarantine.column("reason").to_pylist() == b.quarantine.column("reason").to_pylist()
