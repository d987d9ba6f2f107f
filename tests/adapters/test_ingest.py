"""Ingestion refuses what it would otherwise guess at (issue 11): a header written twice, member
rows whose family card matches no household."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.adapters import read
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

from .conftest import EXAMPLES

HH = "3375010101230001"


def test_a_header_written_twice_is_refused_naming_it_and_both_columns(tmp_path: Path,
                                                                       schema: Schema) -> None:
    """Before: the first 'desil' won silently and the second went to unmapped_columns."""
    f = tmp_path / "households.csv"
    f.write_text(f"id,desil,in_dtks,DESIL\n{HH},2,true,7\n")
    with pytest.raises(DataError, match=r"the header 'DESIL' appears twice \(columns 2 and 4\)"):
        read(f, schema)


def test_member_rows_of_no_household_are_quarantined_as_no_household(tmp_path: Path,
                                                                     schema: Schema) -> None:
    """A person whose household_id matches no household is quarantined with its reason, and
    every row is still counted once."""
    persons = (EXAMPLES / "persons.csv").read_text().rstrip("\n")
    header = persons.splitlines()[0]
    first = persons.splitlines()[1].split(",")
    cols = header.split(",")
    first[cols.index("nik")] = "3375019999990001"
    first[cols.index("household_id")] = "3375099999999999"
    f = tmp_path / "persons.csv"
    f.write_text(persons + "\n" + ",".join(first) + "\n")
    res = read(EXAMPLES / "households.csv", schema, members=f)
    q = [r for r in res.quarantine.to_pylist() if r["value"] == "3375099999999999"]
    assert [(r["field"], r["reason"]) for r in q] == [
        ("household_id", "no household: household_id matches no valid household (absent from "
                         "the household table, or quarantined)")]
    assert res.rows_read == res.rows_valid + res.rows_quarantined
    assert "3375099999999999" not in res.tables["person"].column("household_id").to_pylist()


def test_two_in_memory_tables_are_two_sources_in_the_row_accounting() -> None:
    """Households and members given as tables are both ``<dataframe>``: their quarantined
    rows of the same number are two rows, not one (it raised "row accounting broken")."""
    import pyarrow as pa

    from welfare_rules import Engine

    hh = pa.table({"id": ["3375010101010001", "337501010101002"], "kelurahan": ["Tirto"] * 2,
                   "desil": [2, 3]})
    pp = pa.table({"nik": ["3375014101900001", "3375014101900002"],
                   "household_id": ["3375010101010001", "337501010101002"],
                   "relationship": ["head", "head"]})
    loaded = Engine.load().read(hh, members=pp)
    assert (loaded.rows_read, loaded.rows_valid, loaded.rows_quarantined) == (4, 2, 2)
    assert set(loaded.quarantine.column("source").to_pylist()) == {
        "<dataframe>", "<person dataframe>"}
