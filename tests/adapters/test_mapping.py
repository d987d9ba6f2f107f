"""Column mappings: the Pekalongan export, household grouping and conflicts, mapping errors."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from welfare_rules.adapters import MappingAdapter, MappingError, read
from welfare_rules.schema import Schema

from .conftest import FIXTURES
from .fixtures.thousand import build


def test_pekalongan_export_reads_into_households_with_members(
        schema: Schema, pekalongan: MappingAdapter) -> None:
    res = read(FIXTURES / "pekalongan_export.csv", schema, adapter=pekalongan)
    assert res.summary() == "read 9, valid 9, quarantined 0"
    assert res.unmapped_columns == ["KETERANGAN"]
    households = list(res.iter_records("household"))
    assert [h["id"] for h in households] == ["3375010101230001", "3375020202180002",
                                             "3375030303150003"]
    first = households[0]
    assert (first["desil"], first["floor_area_m2"], first["head_income_month"]) == (
        2, 36.5, 1_500_000)
    assert (first["floor_type"], first["wall_type"], first["can_afford_clinic"]) == (
        "cement", "unplastered_brick", False)
    assert first["last_verified"] == datetime.date(2024, 1, 5)
    members = first["members"]
    assert [m["relationship"] for m in members] == ["head", "spouse", "child", "parent"]
    assert [m["sex"] for m in members] == ["male", "female", "male", "female"]
    assert members[1]["name"] == "Siti Mu’awanah"  # decoded from Windows-1252
    assert members[1]["income_month"] == 750_000
    assert members[1]["is_pregnant"] is True
    assert members[3]["is_alive"] is False
    assert members[3]["death_date"] == datetime.date(2023, 2, 3)
    assert households[2]["land_area_m2"] == 1250.5
    assert households[2]["head_education"] == "sd_incomplete"
    assert {m["household_id"] for m in members} == {"3375010101230001"}


def test_row_numbers_hold_across_many_small_chunks(tmp_path: Path, schema: Schema,
                                                   pekalongan: MappingAdapter) -> None:
    data, expected = build()
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    res = read(path, schema, adapter=pekalongan, chunk_size=40)
    found = dict(zip(res.quarantine.column("row").to_pylist(),
                     res.quarantine.column("reason").to_pylist(), strict=True))
    assert found == expected
    assert res.tables["person"].num_rows == 943


def _mapping(**extra: object) -> MappingAdapter:
    d: dict[str, object] = {
        "name": "t", "layout": "person_per_row", "group_by": "KK",
        "columns": {
            "KK": {"field": "household.id", "parser": "digits16"},
            "NIK": {"field": "person.nik", "parser": "digits16", "aliases": ["NO NIK"]},
            "DESIL": {"field": "household.desil", "parser": "id_number"},
            "KEL": "household.kelurahan",
        },
        "defaults": {"person.is_alive": True},
    }
    d.update(extra)
    return MappingAdapter.from_dict(d)


def test_household_rows_that_disagree_are_reported_and_quarantined(tmp_path: Path,
                                                                   schema: Schema) -> None:
    p = tmp_path / "x.csv"
    p.write_text("kk,no nik,desil,kel\n"
                 "3375000000000001,3375000000000011,2,Klego\n"
                 "3375000000000001,3375000000000012,,\n"
                 "3375000000000001,3375000000000013,3,Klego\n"
                 "3375000000000002,3375000000000021,,\n"
                 "3375000000000002,3375000000000022,4,Bendan\n")
    res = read(p, schema, adapter=_mapping())
    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (5, 2, 3)
    assert res.household_conflicts.select(["household_id", "field", "row", "value"]).to_pylist() \
        == [{"household_id": "3375000000000001", "field": "desil", "row": 1, "value": "2"},
            {"household_id": "3375000000000001", "field": "desil", "row": 3, "value": "3"}]
    assert set(res.quarantine.column("reason").to_pylist()) == {
        "household rows disagree on desil"}
    hh = res.tables["household"].to_pylist()
    assert [(h["id"], h["desil"], h["kelurahan"]) for h in hh] == [
        ("3375000000000002", 4, "Bendan")]  # blanks merged from the other row
    assert res.tables["person"].column("is_alive").to_pylist() == [True, True]  # default


def test_a_bad_member_row_keeps_its_household_with_a_warning(tmp_path: Path,
                                                             schema: Schema) -> None:
    p = tmp_path / "x.csv"
    p.write_text("KK,NIK,DESIL,KEL\n"
                 "3375000000000001,3375000000000011,2,Klego\n"
                 "3375000000000001,3.37500E+15,,\n")
    res = read(p, schema, adapter=_mapping())
    assert [h["id"] for h in res.iter_records()] == ["3375000000000001"]
    assert res.warnings == ["household 3375********0001: 1 member row(s) quarantined (row 2); "
                            "the household is kept without them"]


def test_mapping_errors_name_the_problem(schema: Schema) -> None:
    with pytest.raises(MappingError, match="has no field 'desill'"):
        MappingAdapter.from_dict({"columns": {"D": "household.desill"}}).spec.check(schema)
    with pytest.raises(MappingError, match="cannot produce"):
        MappingAdapter.from_dict({"columns": {"D": {"field": "household.desil",
                                                    "parser": "date"}}}).spec.check(schema)
    with pytest.raises(MappingError, match=r"not a value of person\.sex"):
        MappingAdapter.from_dict({"columns": {"S": {"field": "person.sex",
                                                    "values": {"L": "man"}}}}).spec.check(schema)
    with pytest.raises(MappingError, match="unknown key 'parsr'"):
        MappingAdapter.from_dict({"columns": {"D": {"field": "household.desil", "parsr": "x"}}})


def test_mapping_yaml_errors_carry_the_location(tmp_path: Path) -> None:
    y = tmp_path / "m.yaml"
    y.write_text("name: t\ncolumns:\n  A: {field: household.id, parsr: digits16}\n")
    with pytest.raises(MappingError) as info:
        MappingAdapter.from_yaml(y)
    assert str(info.value).startswith(f"{y}:3:")


def test_progress_bar_can_be_forced(tmp_path: Path, schema: Schema,
                                    capsys: pytest.CaptureFixture[str],
                                    pekalongan: MappingAdapter) -> None:
    read(FIXTURES / "pekalongan_export.csv", schema, adapter=pekalongan, progress=False)
    assert capsys.readouterr().err == ""
    read(FIXTURES / "pekalongan_export.csv", schema, adapter=pekalongan, progress=True)
    assert "reading" in capsys.readouterr().err
