"""The recipient jobs, the report, what-if and the CLI summary close every DuckDB connection
they open (review #21): a closed connection raises on use."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

import welfare_rules as wr
from welfare_rules.cli import main
from welfare_rules.demo import City, generate_city
from welfare_rules.engine import Engine
from welfare_rules.recipients.reallocate import propose_reallocation
from welfare_rules.recipients.reconcile import reconcile
from welfare_rules.recipients.snapshots import compare_snapshots, take_snapshot
from welfare_rules.reports.report import headline_figures, report_tables
from welfare_rules.whatif import compare

from .conftest import rows

EXAMPLES = Path(wr.__file__).parent / "national" / "examples"


@pytest.fixture(scope="module")
def small() -> City:
    return generate_city(60, seed=7)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection opened without a configuration (the faces' own; the DuckDB backend's
    is configured and released with its result)."""
    made: list[Any] = []
    real = duckdb.connect

    def connect(*args: Any, **kw: Any) -> Any:
        con = real(*args, **kw)
        if not args and not kw:
            made.append(con)
        return con

    monkeypatch.setattr(duckdb, "connect", connect)
    return made


def _all_closed(made: list[Any]) -> None:
    assert made
    for con in made:
        with pytest.raises(duckdb.ConnectionException):
            con.execute("SELECT 1")


def test_the_recipient_jobs_and_the_report_close_their_connections(
        engine: Engine, small: City, opened: list[Any]) -> None:
    heads = [p for p in rows(small.persons) if p["relationship"] == "head"][:5]
    death = pa.table({
        "nik": [p["nik"] for p in heads], "name": [p["name"] for p in heads],
        "birth_date": pa.array([p["birth_date"] for p in heads], pa.date32()),
        "death_date": pa.array([datetime.date(2024, 6, 1)] * len(heads), pa.date32()),
        "certificate_number": [f"AK-{i}" for i in range(len(heads))]})
    rec = reconcile(engine, small.households, small.persons, registers={"death": death},
                    as_of=small.as_of)
    rec.summary()
    rec.freed_places()
    snap = take_snapshot(engine, small.households, small.persons, as_of=small.as_of,
                         backend="python")
    older = take_snapshot(engine, small.households.slice(0, 50), small.persons,
                          as_of=datetime.date(2024, 6, 1), backend="python")
    changes = compare_snapshots(older, snap, engine=engine)
    changes.summary()
    proposal = propose_reallocation(engine, snap, rec, members=small.persons)
    tables = report_tables(snap, reconciliation=rec, changes=changes, proposal=proposal,
                           history=[older])
    headline_figures(tables, snap, engine=engine, as_of=small.as_of, changes=changes)
    _all_closed(opened)


def test_what_if_and_the_cli_summary_close_their_connections(engine: Engine,
                                                             opened: list[Any],
                                                             tmp_path: Path) -> None:
    loaded = engine.read(EXAMPLES / "households.csv", members=EXAMPLES / "persons.csv")
    after = Engine.load(parameters={"pkh.max_desil": 5})
    compare(engine, after, "household", loaded, as_of=datetime.date(2024, 7, 1),
            rules=["pkh_eligible"], backend="python")
    _all_closed(opened)
    opened.clear()
    r = CliRunner().invoke(main, ["evaluate", str(EXAMPLES / "households.csv"), "--members",
                                  str(EXAMPLES / "persons.csv"), "--out", str(tmp_path),
                                  "--backend", "python", "--as-of", "2024-07-01"])
    assert r.exit_code == 0, r.stderr
    _all_closed(opened)
