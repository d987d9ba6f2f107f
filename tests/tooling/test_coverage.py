"""Rule coverage: which criteria were seen true/false/unknown, which table rows fired, which
ladder levels were reached, per ruleset; the CLI's --coverage/--fail-under and the pytest
plugin's --rules-coverage; the national pack and Kota Pekalongan fully covered by their tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from welfare_rules.cli import main
from welfare_rules.testing.coverage import RuleCoverage
from welfare_rules.testing.runner import EngineCache, registered_test_files, run_rule_tests
from welfare_rules.tooling_cli import FolderPack

RULES = """\
id: cov_set
version: "1"
entity: household
rules:
  - id: cov_cond
    all:
      - id: cov_dtks
        when: in_dtks
      - desil <= 4
  - id: cov_table
    table:
      hit_policy: first
      inputs: [desil]
      rows:
        - {when: ["<= 2"], then: a}
        - {when: ["<= 5"], then: b}
      default: c
  - id: cov_ladder
    ladder:
      - level: low
      - level: mid
        when: in_dtks
      - level: high
        when: desil <= 2
"""
CASES = """\
- name: a poor listed household
  as_of: 2024-01-01
  input: {id: "3375010101240001", in_dtks: true, desil: 1, members: []}
  output: {cov_cond: true, cov_table: a, cov_ladder: high}
- name: an unlisted household of decile 4
  as_of: 2024-01-01
  input: {id: "3375010101240002", in_dtks: false, desil: 4, members: []}
  output: {cov_cond: false, cov_table: b, cov_ladder: low}
- name: an unknown listing
  as_of: 2024-01-01
  input: {id: "3375010101240003", desil: 3, members: []}
  output: {cov_cond: null}
"""


def _pack(tmp_path: Path) -> tuple[FolderPack, Path]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "cov.yaml").write_text(RULES, encoding="utf-8")
    cases = tmp_path / "test_cov.yaml"
    cases.write_text(CASES, encoding="utf-8")
    return FolderPack(tmp_path), cases


def test_the_report_lists_what_the_cases_never_exercised(tmp_path: Path) -> None:
    pack, cases = _pack(tmp_path)
    cov = RuleCoverage()
    results = run_rule_tests([cases], engines=EngineCache([pack]), observe=cov.observe)
    assert all(r.passed for r in results), [r.report() for r in results]
    (rs,) = cov.report(["cov_set"]).rulesets
    assert ("criterion cov_cond#2 never false (desil <= 4)",
            "ladder cov_ladder never reached level mid",
            "table cov_table default never fired") == rs.missing
    # 3 criteria and 2 level criteria (2 points each), 3 table points, 3 levels; 3 missing
    assert (13, 16) == (rs.covered, rs.total)
    assert 81.25 == rs.percent
    assert ("cov_cond seen unknown", "cov_dtks seen unknown", "cov_ladder__mid seen unknown"
            ) == rs.unknown


def test_collectors_merge_like_xdist_workers(tmp_path: Path) -> None:
    pack, cases = _pack(tmp_path)
    a, b = RuleCoverage(), RuleCoverage()
    run_rule_tests([cases], engines=EngineCache([pack]), observe=a.observe)
    b.merge(json.loads(json.dumps(a.to_data())))
    assert a.report().to_dict() == b.report().to_dict()


def test_the_command_reports_coverage_and_fails_under_the_threshold(tmp_path: Path) -> None:
    cases = tmp_path / "test_nik_only.yaml"
    cases.write_text(textwrap.dedent("""\
        - name: a person with a well-formed NIK
          entity: person
          as_of: 2024-01-01
          input: {nik: "3375014101900001", birth_date: 1990-01-01, sex: female}
          output: {nik_format: false}
        """), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(main, ["test", str(cases), "--coverage"])
    assert 0 == res.exit_code, res.output
    assert "national_nik" in res.stdout
    assert "never exercised in national_nik:" in res.stdout
    res = runner.invoke(main, ["test", str(cases), "--fail-under", "90"])
    assert 1 == res.exit_code
    assert "is under --fail-under 90%" in res.stderr
    res = runner.invoke(main, ["--json", "test", str(cases), "--coverage"])
    data = json.loads(res.stdout)
    nik = next(r for r in data["coverage"]["rulesets"] if r["ruleset"] == "national_nik")
    assert 0 < nik["percent"] < 100
    assert nik["never_exercised"]


def test_the_pytest_plugin_reports_rules_coverage(tmp_path: Path) -> None:
    (tmp_path / "test_one.yaml").write_text(textwrap.dedent("""\
        - name: a person with a well-formed NIK
          entity: person
          as_of: 2024-01-01
          input: {nik: "3375014101900001", birth_date: 1990-01-01, sex: female}
          output: {nik_format: false}
        """), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p",
                          "no:cacheprovider", "--rules-coverage",
                          "--rules-coverage-fail-under", "99"],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert "welfare-rules rule coverage" in run.stdout
    assert "never exercised in national_nik:" in run.stdout
    assert 1 == run.returncode, run.stdout


#: outcomes no YAML case can reach, with the reason: the record contract refuses a NIK that is
#: not 16 digits (schema pattern, docs/data.md) before the check sees it, so nik_format is never
#: true through evaluate() (with on_invalid="unknown" the NIK is missing and the check unknown).
#: By design (docs/data.md, "Who owns the shape of a NIK"): it is true on the path it guards,
#: evaluate_batch(validate=False) — tests/adapters/test_nik_format.py proves that.
UNREACHABLE = {"criterion nik_format never true"}


def test_the_national_pack_and_kota_pekalongan_tests_cover_every_criterion_row_and_level(
        ) -> None:
    engines = EngineCache()
    cov = RuleCoverage()
    targets = registered_test_files(engines.get(("kota-pekalongan",), {}))
    results = run_rule_tests(targets, engines=engines, observe=cov.observe)
    assert [] == [r.report() for r in results if not r.passed]
    rep = cov.report()
    missing = [m for r in rep.rulesets for m in r.missing if m not in UNREACHABLE]
    assert [] == missing
    assert rep.total - len(UNREACHABLE) == rep.covered
