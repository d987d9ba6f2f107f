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


NESTED = [
    {"id": "3375012345678901", "desil": 3, "members": [
        {"nik": "3375019876543210", "relationship": "head", "is_alive": True},
        {"nik": "12"}, 5]},
    {"id": "3375012345678902", "desil": 3},
    {"id": "3375012345678903", "desil": 3, "members": [
        {"nik": "3375019876543211", "household_id": "3375012345678999"}]},
    {"id": "3375012345678905", "desil": 3, "members": []},
]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_the_command_line_reads_members_nested_in_json_records(tmp_path: Path,
                                                               suffix: str) -> None:
    """review3 F8: `evaluate h.json` whose records carry `members` was refused with advice to
    put `members` in each record. The nested members are read as the person table: each
    member counted, a bad one quarantined with where it is, as a --members file's rows are."""
    import json

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    data = tmp_path / f"h{suffix}"
    data.write_text(json.dumps(NESTED) if suffix == ".json"
                    else "\n".join(json.dumps(r) for r in NESTED) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["evaluate", str(data), "--as-of", "2024-01-01", "--out",
                                  str(out), "--json", "-q"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["read"] == {
        "household": {"read": 4, "valid": 3, "quarantined": 1},
        "person": {"read": 4, "valid": 1, "quarantined": 3}}
    q = pacsv.read_csv(out / "quarantine.csv").to_pylist()
    reasons = {(x["source"].rsplit("/", 1)[-1], x["row"], x["reason"]) for x in q}
    assert reasons == {
        (data.name, 2, "no 'members' in this record, while the first record of the file has "
                       "them: write 'members': [] for none"),
        (f"{data.name} (members)", 2,
         "NIK has fewer than 16 digits: digits were lost (not repaired)"),
        (f"{data.name} (members)", 3, "members[2] of record 1: not a JSON object"),
        (f"{data.name} (members)", 4, "members[0] of record 3: household_id "
                                      "3375********8999 is not the id of the record it is in "
                                      "(3375********8903)")}
    members = pq.read_table(out / "members.parquet").select(["nik", "household_id"])
    assert members.to_pylist() == [{"nik": "3375019876543210",
                                    "household_id": "3375012345678901"}]
    counts = {x["id"]: x["member_count"]
              for x in pq.read_table(out / "results.parquet").to_pylist()}
    assert counts == {"3375012345678901": 1, "3375012345678903": 0, "3375012345678905": 0}
