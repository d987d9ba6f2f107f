"""The command line: exit codes, located errors, the rule-test runner and the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from welfare_rules.cli import main

GOOD = """\
id: t_cli
entity: household
rules:
  - id: t_cli_small
    title: {id: Kecil, en: Small}
    when: floor_area_m2 < 20
"""

BAD = """\
id: t_cli_bad
entity: household
rules:
  - id: t_cli_a
    when: floor_aera_m2 < 20
  - id: t_cli_b
    when: floor_type == "mud"
"""

CASES = """\
- name: a small floor is small
  entity: household
  as_of: 2024-01-01
  input: {id: "3375010101240001", floor_area_m2: 10}
  output: {t_cli_small: true}
- name: this case is wrong on purpose
  entity: household
  as_of: 2024-01-01
  input: {id: "3375010101240001", floor_area_m2: 30}
  output: {t_cli_small: true}
"""


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_check_accepts_valid_rules(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    code, out, _ = run("check", str(tmp_path / "good.yaml"))
    assert code == 0
    assert out.startswith("ok:")


def test_check_reports_every_error_located_and_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(BAD)
    code, _, err = run("check", str(f))
    assert code == 2
    assert f"{f}:5:11: unknown name 'floor_aera_m2'" in err
    assert "did you mean 'floor_area_m2'" in err
    assert f"{f}:7:" in err
    assert "'mud' is not a value of enum" in err
    assert err.strip().splitlines()[-1] == "welfare-rules: 2 error(s) in the rules"


def test_test_command_prints_case_names_and_differences(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(GOOD)
    (tmp_path / "cases.yaml").write_text(CASES)
    from welfare_rules.testing.runner import EngineCache, run_rule_tests

    class Cache(EngineCache):
        def get(self, plugins, parameters):  # type: ignore[no-untyped-def]
            from welfare_rules import Engine

            return Engine.load(rules=[tmp_path / "rules.yaml"], national=False)

    results = run_rule_tests([tmp_path / "cases.yaml"], engines=Cache())
    assert [r.passed for r in results] == [True, False]
    assert "this case is wrong on purpose" in results[1].report()
    assert "t_cli_small: expected True, got False" in results[1].report()
    assert "Traceback" not in results[1].report()


def test_test_command_exit_code_is_1_on_failure(tmp_path: Path) -> None:
    (tmp_path / "cases.yaml").write_text(
        "- name: unknown rule\n  input: {}\n  as_of: 2024-01-01\n  output: {no_such_rule: 1}\n")
    code, out, _ = run("test", str(tmp_path / "cases.yaml"))
    assert code == 1
    assert "0 passed, 1 failed" in out
    assert "unknown rule" in out


def test_schema_is_json_schema_of_the_rule_format() -> None:
    code, out, _ = run("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"ConditionRuleSpec", "TableSpec", "LadderRuleSpec", "CheckRuleSpec"} <= set(
        schema["$defs"])


def test_national_rule_files_validate_against_the_schema() -> None:
    import jsonschema
    import yaml

    _code, out, _ = run("schema")
    schema = json.loads(out)
    root = Path(__file__).parents[2] / "src" / "welfare_rules" / "national" / "rules"
    files = sorted(root.glob("*.yaml"))
    assert files
    for f in files:
        data = yaml.safe_load(f.read_text())
        jsonschema.validate(_jsonable(data), schema)


def _jsonable(v: object) -> object:
    import datetime

    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


def test_a_bad_as_of_is_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("id\n3375010101010001\n")
    code, _, err = run("evaluate", str(f), "--as-of", "yesterday")
    assert code == 2
    assert "--as-of must be a date" in err


def test_demo_writes_results_that_open_in_pandas(tmp_path: Path) -> None:
    """The main job on a small city: Parquet and CSV results, a summary per kelurahan."""
    import pandas as pd

    out = tmp_path / "demo"
    code, stdout, _ = run("demo", "--households", "1500", "--out", str(out))
    assert code == 0
    assert "per kelurahan" in stdout
    assert "LKS per tingkat kematangan" in stdout  # Indonesian by default (--lang en)
    # counts in Indonesian, with Babel: 1.500, not Python's 1,500 (review2 #37)
    assert "1.500 keluarga" in stdout
    # ... and so are the table's cells: the total row reads 1.500, not 1,500
    assert any(line.startswith("│ Jumlah") and " 1.500 " in line
               for line in stdout.splitlines()), stdout
    # titles are templates over parameters: the headers show the value in force, never the
    # placeholder (the BPS header read "paling sedikit {param.bps.min_criteria} dari 14")
    assert "{param." not in stdout
    hh = pd.read_parquet(out / "households" / "results.parquet")
    assert len(hh) == 1500
    assert {"id", "kelurahan", "poor_bps", "pkh_eligible", "pkh_eligible__status"} <= set(
        hh.columns)
    assert len(pd.read_csv(out / "households" / "results.csv", dtype={"id": str})) == 1500
    assert set(hh["kelurahan"]) <= {k for _, (_, ks) in _kecamatan().items() for k in ks}
    lks = pd.read_csv(out / "lks" / "results.csv")
    assert set(lks["lks_maturity"].dropna()) <= {"embrio", "tumbuh", "berkembang", "mandiri"}


def _kecamatan() -> dict[str, tuple[str, list[str]]]:
    from welfare_rules.demo import KECAMATAN

    return KECAMATAN


def test_evaluate_writes_the_quarantine_and_fails_over_the_threshold(tmp_path: Path) -> None:
    hh = tmp_path / "households.csv"
    hh.write_text("id,kelurahan,desil,in_dtks\n"
                  "3375010101010001,Tirto,2,true\n"
                  "3.37501E+15,Tirto,2,true\n"          # a No. KK a spreadsheet mangled
                  "3375010101010003,Tirto,eleven,true\n")
    persons = tmp_path / "persons.csv"
    persons.write_text("nik,household_id,relationship,is_alive\n"
                       "3375014101900001,3375010101010001,head,true\n")
    out = tmp_path / "out"
    args = ["evaluate", str(hh), "--members", str(persons), "--out", str(out),
            "--as-of", "2024-07-01"]
    code, _, err = run(*args)
    assert code == 0
    # households and persons are counted apart (3 household rows + 1 person row)
    assert "read 3 households (1 valid, 2 quarantined) and 1 person (1 valid, 0 " \
           "quarantined)" in err
    assert (out / "quarantine.csv").exists()
    assert (out / "quarantine.parquet").exists()
    code, _, err = run(*args, "--max-quarantine", "1")
    assert code == 1
    assert "rows quarantined" in err


def test_table_headers_fill_the_parameters_of_rule_titles() -> None:
    """A header is the rule's title with the values in force on the date: an override shows
    its own number."""
    import datetime

    from welfare_rules import Engine
    from welfare_rules.cli import _headers

    day = datetime.date(2024, 7, 1)
    heads = _headers(Engine.load(), ["poor_bps", "kelurahan"], "id", day)
    assert heads["poor_bps"] == "Rumah tangga miskin (paling sedikit 9 dari 14 kriteria BPS)"
    heads = _headers(Engine.load(parameters={"bps.min_criteria": 7}), ["poor_bps"], "en", day)
    assert heads["poor_bps"] == "Poor household (at least 7 of the 14 BPS criteria)"



def test_table_cells_and_totals_are_grouped_in_the_given_language(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``Ui.table(..., lang=)``: cells and the total row are grouped as the language writes
    numbers (3.053 / 3,053), the machine result keeps the plain integers."""
    import pyarrow as pa

    from welfare_rules.cli_kit import Ui

    rows = pa.table({"kelurahan": ["Klego", "Tirto"], "households": [3053, 84990]})
    for lang, cells in (("id", ("3.053", "84.990", "88.043")),
                        ("en", ("3,053", "84,990", "88,043"))):
        ui = Ui()
        ui.table(rows, title="t", key="k", lang=lang)
        out = capsys.readouterr().out
        for c in cells:
            assert f" {c} " in out, (lang, out)
        assert ui.result["tables"]["k"][0]["households"] == 3053
