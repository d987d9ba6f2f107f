"""Every source kind reads into the same canonical tables as the canonical CSV example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from welfare_rules.adapters import CanonicalAdapter, SQLSource, read
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

from .conftest import EXAMPLES

HH, PERSONS = EXAMPLES / "households.csv", EXAMPLES / "persons.csv"


def _raw(path: Path) -> pa.Table:
    """The example as plain text columns (what a spreadsheet or database would hand over)."""
    names = path.read_text().splitlines()[0].split(",")
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string())))


@pytest.fixture(scope="module")
def expected(schema: Schema) -> Any:
    res = read(HH, schema, members=PERSONS)
    assert (res.rows_read, res.rows_quarantined) == (11, 0)
    return res


def _same(res: Any, expected: Any) -> None:
    assert res.rows_quarantined == 0, res.quarantine.to_pylist()
    for name in ("household", "person"):
        assert res.tables[name].equals(expected.tables[name]), name


def test_canonical_tables_have_every_schema_field_with_arrow_types(expected: Any,
                                                                    schema: Schema) -> None:
    hh = expected.tables["household"]
    assert hh.column_names == list(schema.entity("household").fields)
    assert hh.schema.field("desil").type == pa.int64()
    assert hh.schema.field("floor_area_m2").type == pa.float64()
    assert hh.schema.field("last_verified").type == pa.date32()
    assert hh.schema.field("in_dtks").type == pa.bool_()
    assert expected.tables["person"].column("household_id").null_count == 0
    rec = next(expected.iter_records("household"))
    assert [m["name"] for m in rec["members"]] == ["Slamet Riyadi", "Siti Muawanah",
                                                    "Ahmad Fauzi", "Kasmini"]


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ";"),
                                                     ("cp1252", "\t")])
def test_csv_encodings_and_delimiters_are_sniffed(tmp_path: Path, schema: Schema, expected: Any,
                                                  encoding: str, delimiter: str) -> None:
    paths = []
    for src in (HH, PERSONS):
        text = src.read_text().replace(",", delimiter)
        p = tmp_path / src.name
        p.write_bytes(text.encode(encoding))
        paths.append(p)
    _same(read(paths[0], schema, members=paths[1]), expected)


def test_windows_1252_text_is_decoded(tmp_path: Path, schema: Schema) -> None:
    text = PERSONS.read_text().replace("Siti Muawanah", "Siti Mu’awanah")
    p = tmp_path / "persons.csv"
    p.write_bytes(text.encode("cp1252"))
    res = read(p, schema, entity="person")
    assert "Siti Mu’awanah" in res.tables["person"].column("name").to_pylist()


def test_xlsx(tmp_path: Path, schema: Schema, expected: Any) -> None:
    import openpyxl
    paths = []
    for src in (HH, PERSONS):
        wb = openpyxl.Workbook()
        ws = wb.active
        for line in src.read_text().splitlines():
            ws.append([_typed(c) for c in line.split(",")])
        p = tmp_path / (src.stem + ".xlsx")
        wb.save(p)
        paths.append(p)
    _same(read(paths[0], schema, members=paths[1]), expected)


def _typed(cell: str) -> Any:
    """Spreadsheet-like cells: short numbers as numbers, long digit strings kept as text."""
    if cell.isdigit() and len(cell) < 15:
        return int(cell)
    return cell or None


def test_xlsx_nik_stored_as_a_number_is_quarantined(tmp_path: Path, schema: Schema) -> None:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["nik", "household_id", "name"])
    ws.append([3.37501123456789e15, "3375010101230001", "A"])  # what Excel makes of a NIK
    ws.append(["3375011234567891", "3375010101230001", "B"])
    p = tmp_path / "p.xlsx"
    wb.save(p)
    res = read(p, schema, entity="person")
    assert res.rows_valid == 1
    assert res.quarantine.column("reason").to_pylist() == [
        "NIK written as a decimal number: digits may have been lost (not repaired)"]


def test_parquet_json_and_json_lines(tmp_path: Path, schema: Schema, expected: Any) -> None:
    import pyarrow.parquet as pq

    hh, persons = _raw(HH), _raw(PERSONS)
    pq.write_table(hh, tmp_path / "h.parquet")
    pq.write_table(persons, tmp_path / "p.parquet")
    _same(read(tmp_path / "h.parquet", schema, members=tmp_path / "p.parquet"), expected)
    (tmp_path / "h.json").write_text(json.dumps(hh.to_pylist()))
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(r) for r in persons.to_pylist()))
    _same(read(tmp_path / "h.json", schema, members=tmp_path / "p.jsonl"), expected)


def test_typed_parquet_columns_are_validated_too(tmp_path: Path, schema: Schema,
                                                 expected: Any) -> None:
    import pyarrow.parquet as pq

    typed_hh = expected.tables["household"]
    pq.write_table(typed_hh, tmp_path / "h.parquet")
    res = read(tmp_path / "h.parquet", schema, members=PERSONS)
    _same(res, expected)


def test_jsonl_line_that_is_not_json_is_quarantined(tmp_path: Path, schema: Schema) -> None:
    p = tmp_path / "p.jsonl"
    p.write_text('{"nik": "3375011204800001", "name": "A"}\n{"nik": \n[1, 2]\n')
    res = read(p, schema, entity="person")
    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (3, 1, 2)
    reasons = res.quarantine.column("reason").to_pylist()
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "not a JSON object"


def test_pandas_polars_and_arrow(schema: Schema, expected: Any) -> None:
    import pandas as pd
    import polars as pl
    hh, persons = _raw(HH), _raw(PERSONS)
    _same(read(hh, schema, members=persons), expected)
    _same(read(hh.to_pandas(), schema, members=persons.to_pandas()), expected)
    _same(read(pl.from_arrow(hh), schema, members=pl.from_arrow(persons)), expected)
    # pandas with typed columns and NaN for missing
    df = pd.read_csv(HH, dtype={"id": str})
    res = read(df, schema, members=PERSONS)
    _same(res, expected)
    assert res.quarantine.num_rows == 0


def test_pandas_source_is_named_dataframe_in_the_quarantine(schema: Schema) -> None:
    import pandas as pd
    df = pd.DataFrame({"nik": ["3375011204800001", "12"], "name": ["A", "B"]})
    res = read(df, schema, entity="person")
    assert res.quarantine.to_pylist()[0]["source"] == "<dataframe>"
    assert res.quarantine.to_pylist()[0]["row"] == 2


def test_duckdb_relation_and_sql(schema: Schema, expected: Any) -> None:
    import duckdb

    con = duckdb.connect()
    hh_rel = con.read_csv(str(HH), all_varchar=True)
    p_rel = con.read_csv(str(PERSONS), all_varchar=True)
    _same(read(hh_rel, schema, members=p_rel), expected)
    con.execute(f"CREATE TABLE h AS SELECT * FROM read_csv('{HH}', all_varchar=true)")
    con.execute(f"CREATE TABLE p AS SELECT * FROM read_csv('{PERSONS}')")  # typed columns
    res = read(SQLSource("SELECT * FROM h", con), schema,
               members=SQLSource("SELECT * FROM p", con))
    _same(res, expected)


def test_sql_through_sqlalchemy_url(tmp_path: Path, schema: Schema, expected: Any) -> None:
    import sqlalchemy as sa
    url = f"sqlite:///{tmp_path / 'dtks.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name, src in (("h", HH), ("p", PERSONS)):
            table = _raw(src)
            cols = ", ".join(f'"{c}" TEXT' for c in table.column_names)
            conn.execute(sa.text(f"CREATE TABLE {name} ({cols})"))
            marks = ", ".join(f":{c}" for c in table.column_names)
            conn.execute(sa.text(f"INSERT INTO {name} VALUES ({marks})"), table.to_pylist())
    engine.dispose()
    res = read(SQLSource("SELECT * FROM h", url), schema, members=SQLSource("SELECT * FROM p",
                                                                           url))
    _same(res, expected)


def test_unreadable_sources_raise_data_error(tmp_path: Path, schema: Schema) -> None:
    with pytest.raises(DataError, match="no such file"):
        read(tmp_path / "missing.csv", schema)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read(empty, schema)
    no_key = tmp_path / "nokey.csv"
    no_key.write_text("name,sex\nA,male\n")
    with pytest.raises(DataError, match=r"required field person\.nik"):
        read(no_key, schema, entity="person")
    with pytest.raises(DataError, match="cannot read a object"):
        read(object(), schema)


def test_canonical_adapter_is_the_default(schema: Schema, expected: Any) -> None:
    _same(CanonicalAdapter().read(HH, schema, members=PERSONS), expected)
