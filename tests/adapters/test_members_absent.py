"""Members are never silently absent (issue 11): household rules that read ``members`` given no
members table raise one clear error naming ``members=`` / ``--members`` on every backend and in
the command line's ``explain`` — unless the household records carry their members."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from welfare_rules import Engine, InputError
from welfare_rules.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "welfare_rules" / "national" / "examples"
HH, PERSONS = EXAMPLES / "households.csv", EXAMPLES / "persons.csv"
AS_OF = datetime.date(2024, 7, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def test_the_national_household_rules_read_members(engine: Engine) -> None:
    reads = engine.relation_reads("household", AS_OF)
    assert "members" in reads
    assert "member_count" in reads["members"]
    assert engine.relation_reads("institution", AS_OF) == {}


@pytest.mark.parametrize("backend", ["duckdb", "python"])
@pytest.mark.parametrize("kind", ["path", "load", "arrow"])
def test_batch_without_members_is_one_clear_error_on_every_backend(
        engine: Engine, backend: str, kind: str) -> None:
    """Before: DuckDB failed with "function 'count' has no SQL implementation"; the Python
    backend evaluated every family as having no members."""
    data = {"path": HH, "load": engine.read(HH, progress=False),
            "arrow": engine.read(HH, progress=False).tables["household"]}[kind]
    with pytest.raises(InputError) as exc:
        engine.evaluate_batch("household", data, as_of=AS_OF, backend=backend)
    text = str(exc.value)
    assert "\n" not in text
    first_reader = engine.relation_reads("household", AS_OF)["members"][0]
    assert "members=" in text
    assert "--members" in text
    assert first_reader in text
    assert "SQL implementation" not in text


class Spy:
    """A backend that records the jobs it is given (to see whether orchestration let one
    through) and answers nothing."""

    name = "spy"
    reads_parquet = False

    def __init__(self) -> None:
        self.jobs: list[object] = []

    def native(self, data: object) -> bool:
        return False

    def run(self, job: object) -> None:
        self.jobs.append(job)
        raise RuntimeError("spy: stop here")


@pytest.mark.parametrize("backend", ["duckdb", "python"])
def test_batch_with_members_is_not_refused(engine: Engine, backend: str) -> None:
    res = engine.evaluate_batch("household", HH, members=PERSONS, as_of=AS_OF, backend=backend)
    assert res.to_arrow().num_rows == 3


def test_refused_in_orchestration_before_any_backend_runs(engine: Engine) -> None:
    """The check inspects the plan, before a backend compiles: a backend (Spark, DuckDB or a
    plugin's) is never handed a job without members."""
    spy = Spy()
    with pytest.raises(InputError, match="--members"):
        engine.evaluate_batch("household", HH, as_of=AS_OF, backend=spy)  # type: ignore[arg-type]
    assert spy.jobs == []


def test_records_carrying_their_members_are_not_refused(engine: Engine) -> None:
    spy = Spy()
    carried = pa.table({"id": ["3375010101230001"],
                        "members": pa.array([[]], pa.list_(pa.struct([("nik", pa.string())])))})
    with pytest.raises(RuntimeError, match="spy: stop here"):
        engine.evaluate_batch("household", carried, as_of=AS_OF, backend=spy,  # type: ignore[arg-type]
                              validate=False)
    assert len(spy.jobs) == 1


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout + r.stderr


@pytest.mark.parametrize("command", ["evaluate", "explain"])
def test_cli_without_members_exits_2_with_one_line_naming_members(tmp_path: Path,
                                                                   command: str) -> None:
    """Before: ``explain`` answered "PKH: NO" with a "no head" finding and exit 0."""
    args = [command, str(HH), "--as-of", "2024-07-01"]
    args += (["--id", "3375010101230001"] if command == "explain"
             else ["--out", str(tmp_path / "out")])
    code, out = _run(*args)
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.startswith("welfare-rules:")]
    assert len(lines) == 1, out
    assert "--members" in lines[0], out
    assert "Traceback" not in out
    assert "PKH" not in out


def test_cli_explain_with_members_still_explains() -> None:
    code, out = _run("explain", str(HH), "--members", str(PERSONS), "--id", "3375010101230001",
                     "--as-of", "2024-07-01")
    assert code == 0, out
