"""lookup.read_one (``explain --id``): the DuckDB fast path gives the record ``evaluate`` would
keep, key duplicates included (they need the whole file)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from welfare_rules import Engine
from welfare_rules.lookup import read_one

KK1, KK2 = "3375010101010001", "3375010101010002"
NIK1, NIK2, NIK3 = "3375014101900001", "3375014101900002", "3375014101900003"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _write(folder: Path, suffix: str, persons: list[dict[str, str]]) -> tuple[Path, Path]:
    hh = pa.Table.from_pylist([{"id": KK1, "kelurahan": "Tirto", "desil": "2"},
                               {"id": KK2, "kelurahan": "Tirto", "desil": "3"}])
    pp = pa.Table.from_pylist(persons)
    paths = folder / f"households.{suffix}", folder / f"persons.{suffix}"
    for t, p in zip((hh, pp), paths, strict=True):
        (pq.write_table if suffix == "parquet" else pacsv.write_csv)(t, p)
    return paths


def _whole(engine: Engine, hh: Path, pp: Path, rid: str) -> dict[str, object] | None:
    loaded = engine.read(str(hh), members=str(pp), progress=False)
    return next((r for r in loaded.iter_records() if r["id"] == rid), None)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_nik_also_in_an_earlier_household_gives_the_whole_file_s_record(
        engine: Engine, tmp_path: Path, suffix: str) -> None:
    hh, pp = _write(tmp_path, suffix, [
        {"nik": NIK1, "household_id": KK1, "relationship": "head"},
        {"nik": NIK2, "household_id": KK2, "relationship": "head"},
        {"nik": NIK1, "household_id": KK2, "relationship": "child"}])  # NIK1 again
    whole = _whole(engine, hh, pp, KK2)
    assert whole is not None
    assert [m["nik"] for m in whole["members"]] == [NIK2]  # the second NIK1 is quarantined
    one, how = read_one(engine, hh, KK2, members=pp)
    assert one == whole
    assert how == "read the whole file"


def test_without_duplicates_the_rows_are_selected(engine: Engine, tmp_path: Path) -> None:
    hh, pp = _write(tmp_path, "csv", [
        {"nik": NIK1, "household_id": KK1, "relationship": "head"},
        {"nik": NIK2, "household_id": KK2, "relationship": "head"},
        {"nik": NIK3, "household_id": KK2, "relationship": "child"}])
    one, how = read_one(engine, hh, KK2, members=pp)
    assert one == _whole(engine, hh, pp, KK2)
    assert "was not read whole" in how


@pytest.mark.parametrize("spelling", [f" {KK1}", f"{KK1} ", f"\t{KK1}", f"\u00a0{KK1}"])
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_key_spelled_with_spaces_is_the_same_key_as_ingestion_sees_it(
        engine: Engine, tmp_path: Path, suffix: str, spelling: str) -> None:
    """Review 2 #16: ingestion trims a key and quarantines the second spelling as a
    duplicate; the selection compared raw text, so it explained the quarantined row."""
    hh = tmp_path / f"households.{suffix}"
    table = pa.Table.from_pylist([{"id": spelling, "desil": "9", "in_dtks": "true"},
                                  {"id": KK1, "desil": "1", "in_dtks": "true"}])
    (pq.write_table if suffix == "parquet" else pacsv.write_csv)(table, hh)
    loaded = engine.read(str(hh), progress=False)
    assert loaded.rows_quarantined == 1
    (whole,) = [r for r in loaded.iter_records() if r["id"] == KK1]
    assert whole["desil"] == 9
    for asked in (KK1, f" {KK1} "):
        one, how = read_one(engine, hh, asked)
        assert one == whole
        assert how == "read the whole file"


def test_a_key_with_spaces_is_selected_when_it_is_the_only_one(engine: Engine,
                                                               tmp_path: Path) -> None:
    hh = tmp_path / "households.csv"
    pacsv.write_csv(pa.Table.from_pylist([{"id": f" {KK1} ", "desil": "4"},
                                          {"id": KK2, "desil": "1"}]), hh)
    one, how = read_one(engine, hh, KK1)
    assert one is not None
    assert one["desil"] == 4
    assert how.startswith("selected")
