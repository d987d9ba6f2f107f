"""Every handle a read opens is closed when the read ends, whether it finished or raised
(review #14, #15, #16, #22): files, workbooks, SQLAlchemy engines and DuckDB connections."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from welfare_rules.adapters import SQLSource, _pipeline, read
from welfare_rules.adapters._sources import open_xlsx
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

from .conftest import EXAMPLES

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="open files are listed from /proc/self/fd (Linux)")


def _open(path: Path) -> bool:
    """Whether this process holds ``path`` open."""
    fds = Path("/proc/self/fd")
    target = str(path.resolve())
    for fd in os.listdir(fds):
        try:
            if os.readlink(fds / fd) == target:
                return True
        except OSError:
            continue
    return False


def _workbook(path: Path, rows: list[list[Any]], title: str = "data") -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_a_missing_sheet_is_a_data_error_naming_the_sheets_and_the_workbook_is_closed(
        tmp_path: Path) -> None:
    p = _workbook(tmp_path / "h.xlsx", [["id", "desil"], ["3375010101010001", 1]], "rumah")
    with pytest.raises(DataError, match=r"no sheet named 'rumh' — did you mean 'rumah'.*"
                                        r"the workbook has: rumah") as err:
        open_xlsx(p, sheet="rumh", chunk_size=10)
    assert not _open(p), err


def test_a_workbook_refused_before_its_rows_are_read_is_closed(tmp_path: Path, schema: Schema
                                                               ) -> None:
    p = _workbook(tmp_path / "h.xlsx", [["desil"], [1]])  # no id column
    with pytest.raises(DataError) as err:
        read(p, schema)
    assert not _open(p), err  # the traceback (kept alive by err) holds the reader's frames


def test_a_csv_refused_for_a_missing_column_is_closed(tmp_path: Path, schema: Schema) -> None:
    p = tmp_path / "h.csv"
    p.write_text("desil,in_dtks\n1,true\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read(p, schema)
    assert not _open(p), err  # the traceback (kept alive by err) holds the reader's frames


def test_every_duplicate_set_of_a_read_is_closed(monkeypatch: pytest.MonkeyPatch,
                                                 schema: Schema) -> None:
    made: list[Any] = []
    real = _pipeline.SeenSet.__init__

    def init(self: Any) -> None:
        real(self)
        made.append(self)

    monkeypatch.setattr(_pipeline.SeenSet, "__init__", init)
    read(EXAMPLES / "households.csv", schema, members=EXAMPLES / "persons.csv")
    assert made
    for seen in made:
        with pytest.raises(duckdb.ConnectionException):
            seen.con.execute("SELECT 1")


def test_a_failing_query_on_a_database_url_releases_the_database(tmp_path: Path,
                                                                  schema: Schema) -> None:
    import sqlalchemy as sa

    db = tmp_path / "dtks.db"
    setup = sa.create_engine(f"sqlite:///{db}")
    with setup.begin() as conn:
        conn.execute(sa.text("CREATE TABLE h (id TEXT)"))
    setup.dispose()
    with pytest.raises(DataError, match="SQL query failed") as err:
        read(SQLSource("SELECT * FROM no_such_table", f"sqlite:///{db}"), schema)
    assert not _open(db), err


def test_a_database_url_whose_driver_is_not_installed_is_a_data_error(schema: Schema) -> None:
    assert "pymysql" not in sys.modules
    with pytest.raises(DataError, match=r"database driver is not installed.*pymysql"):
        read(SQLSource("SELECT 1", "mysql+pymysql://u:p@localhost/db"), schema)
