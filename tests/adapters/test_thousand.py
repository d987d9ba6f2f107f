"""The acceptance fixture: 1,000 rows of which 57 are bad in 17 ways; every reason is checked."""

from __future__ import annotations

import re
from pathlib import Path

from welfare_rules.adapters import MappingAdapter, read
from welfare_rules.schema import Schema

from .fixtures.thousand import build


def test_thousand_rows_give_943_valid_and_57_quarantined_each_with_its_reason(
        tmp_path: Path, schema: Schema, pekalongan: MappingAdapter) -> None:
    data, expected = build()
    assert len(expected) == 57
    assert len({reason.split(" row ")[0].split(" (")[0] for reason in expected.values()}) >= 10
    path = tmp_path / "export.csv"
    path.write_bytes(data)

    res = read(path, schema, adapter=pekalongan)

    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (1000, 943, 57)
    found = dict(zip(res.quarantine.column("row").to_pylist(),
                     res.quarantine.column("reason").to_pylist(), strict=True))
    assert res.quarantine.num_rows == 57  # one problem per bad row in this fixture
    assert found == expected
    # every valid row is one person; families are whole except where rows were quarantined
    assert res.tables["person"].num_rows == 943
    assert res.household_conflicts.num_rows >= 2
    assert set(res.household_conflicts.column("field").to_pylist()) == {"desil"}
    assert res.summary() == "read 1000, valid 943, quarantined 57"


def test_quarantine_entries_name_the_column_field_and_raw_value(
        tmp_path: Path, schema: Schema, pekalongan: MappingAdapter) -> None:
    data, _ = build()
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    res = read(path, schema, adapter=pekalongan)
    q = res.quarantine.to_pylist()
    sci = next(e for e in q if "scientific" in e["reason"])
    assert (sci["column"], sci["field"], sci["value"], sci["entity"]) == (
        "NIK", "nik", "3.37501E+15", "person")
    money = next(e for e in q if "rupiah" in e["reason"])
    assert (money["column"], money["field"], money["value"]) == (
        "PENGHASILAN", "income_month", "sejuta")
    assert all(e["source"] == str(path) for e in q)
    # households that lost a member row are kept, and say so
    assert any("member row(s) quarantined" in w for w in res.warnings)


def test_write_quarantine_writes_csv_and_parquet(tmp_path: Path, schema: Schema,
                                                 pekalongan: MappingAdapter) -> None:
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    data, _ = build()
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    res = read(path, schema, adapter=pekalongan)
    paths = res.write_quarantine(tmp_path / "out")
    assert [p.name for p in paths] == ["quarantine.csv", "quarantine.parquet"]
    assert pa_csv.read_csv(paths[0]).num_rows == 57
    masked = pq.read_table(paths[1])
    assert masked.num_rows == res.quarantine.num_rows
    assert not any(re.search(r"[0-9]{16}", v or "") for v in masked["value"].to_pylist())
    paths = res.write_quarantine(tmp_path / "raw", unmask=True)
    assert pq.read_table(paths[1]).equals(res.quarantine)
