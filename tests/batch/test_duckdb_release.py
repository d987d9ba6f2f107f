"""The DuckDB backend releases its connection and spill folder when its query raises
(review #20): only the Outcome's cleanup did, and no Outcome is made then."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

import welfare_rules as wr
from welfare_rules.backends import duckdb as duck_backend
from welfare_rules.batch import evaluate_batch
from welfare_rules.errors import EvaluationError

EXAMPLES = Path(wr.__file__).parent / "national" / "examples"


def test_a_failing_results_query_closes_the_connection_and_removes_the_spill_folder(
        national: wr.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []
    cons: list[Any] = []
    real_mkdtemp, real_connect = tempfile.mkdtemp, duckdb.connect

    def mkdtemp(*a: Any, **kw: Any) -> str:
        path = real_mkdtemp(*a, **kw)
        made.append(Path(path))
        return path

    def connect(*a: Any, **kw: Any) -> Any:
        con = real_connect(*a, **kw)
        cons.append(con)
        return con

    def fail(rel: Any) -> Any:
        raise EvaluationError("arithmetic out of range (planted)")

    monkeypatch.setattr(duck_backend.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(duckdb, "connect", connect)
    monkeypatch.setattr(duck_backend, "fetch_arrow", fail)
    with pytest.raises(EvaluationError, match="planted"):
        evaluate_batch(national, "household", EXAMPLES / "households.csv",
                       members=EXAMPLES / "persons.csv", as_of=datetime.date(2024, 1, 1),
                       backend="duckdb", settle=False)
    assert made
    assert not any(p.exists() for p in made)
    assert cons
    for con in cons:  # the backend's and the reader's (duplicate sets)
        with pytest.raises(duckdb.ConnectionException):
            con.execute("SELECT 1")
