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
