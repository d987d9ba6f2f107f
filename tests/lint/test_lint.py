"""welfare-rules lint: each kind of finding, located, on rule files made to contain it; clean files
give none; the national pack and the bundled plugins have no error-level finding; for small
generated tables, the overlap and gap verdicts equal a brute-force enumeration of the inputs."""

from __future__ import annotations

import datetime
import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from welfare_rules import national
from welfare_rules.cli import main
from welfare_rules.engine import Engine
from welfare_rules.errors import HitPolicyError
from welfare_rules.lint import holes, lint, numbers_in
from welfare_rules.plugins import installed_entry_points
from welfare_rules.testing.strategies import small_tables
from welfare_rules.tooling_cli import FolderPack, lint_engine_for

HERE = Path(__file__).parent
FINDINGS = HERE / "fixtures" / "findings"
CLEAN = HERE / "fixtures" / "clean"
_EXPECT = re.compile(r"#\s*expect:\s*([a-z-]+)")
_EXPECT_INFO = re.compile(r"#\s*expect-info:\s*([a-z-]+)")


def expected_findings(root: Path, marker: re.Pattern[str] = _EXPECT
                      ) -> set[tuple[str, int, str]]:
    """The ``# expect: code`` comments of a fixture folder: (file, line, code)."""
    out = set()
    for f in sorted(root.rglob("*.yaml")):
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            for m in marker.finditer(line):
                out.add((str(f.resolve()), i, m.group(1)))
    return out


def run_lint(*paths: Path, plugins: tuple[str, ...] = ()) -> list:
    engine, roots = lint_engine_for([str(p) for p in paths], plugins)
    return lint(engine, roots)


def test_every_kind_of_finding_is_reported_at_the_line_that_says_so() -> None:
    findings = run_lint(FINDINGS)
    got = {(f.location.file, f.location.line, f.code) for f in findings
           if f.severity != "info"}
    assert expected_findings(FINDINGS) == got


def test_every_finding_has_a_file_line_column_and_a_severity() -> None:
    for f in run_lint(FINDINGS):
        assert None not in (f.location.file, f.location.line, f.location.column), f
        assert f.severity in ("error", "warning", "info")
        assert re.match(r"^/.+\.yaml:\d+:\d+: (error|warning|info): ", str(f)), str(f)


def test_the_findings_name_what_is_wrong_and_where_in_the_inputs() -> None:
    by_code: dict[str, list[str]] = {}
    for f in run_lint(FINDINGS):
        by_code.setdefault(f.code, []).append(f.message)
    assert ("table 't_unique_overlap' (hit policy unique): rows 1 and 2 both match where "
            "desil in [3..4]; toilet = none") in by_code["table-overlap"]
    assert any("no row matches desil in [1..6]; in_dtks = false | desil in [5..6]; "
               "in_dtks = true" in m for m in by_code["table-gap"])
    assert any("no value of desil (1..10) satisfies desil >= 5 and desil < 3" in m
               for m in by_code["ladder-level-unreachable"])
    assert any("no value from 2020-01-01 until 2022-01-01" in m
               for m in by_code["parameter-hole"])


def test_a_cell_comparing_with_a_field_is_an_info_that_the_table_is_not_analysed() -> None:
    got = {(f.location.file, f.location.line, f.code) for f in run_lint(FINDINGS)
           if f.severity == "info" and f.code != "parameter-hole"}
    assert expected_findings(FINDINGS, _EXPECT_INFO) == got


def test_a_rule_without_a_start_reading_a_dated_parameter_is_an_info_hole() -> None:
    infos = [f for f in run_lint(FINDINGS) if f.severity == "info"]
    assert {("c_desil", "lint.max_desil"), ("c_range", "lint.cutoff")} == {
        (f.rule, f.parameter) for f in infos if f.code == "parameter-hole"}


def test_clean_rule_files_give_no_finding_at_all() -> None:
    assert [] == [str(f) for f in run_lint(CLEAN)]


def test_the_command_exits_1_on_errors_and_prints_json_lines() -> None:
    res = CliRunner().invoke(main, ["lint", str(FINDINGS), "--json"])
    assert 1 == res.exit_code, res.output
    result = json.loads(res.stdout)
    assert 10 == result["counts"]["error"]
    rows = result["findings"]
    assert {"code", "severity", "message", "file", "line", "column"} <= set(rows[0])
    assert any(r["code"] == "table-overlap" and r["severity"] == "error" for r in rows)


def test_the_command_exits_0_on_clean_files() -> None:
    res = CliRunner().invoke(main, ["lint", str(CLEAN)])
    assert 0 == res.exit_code, res.output


def test_a_file_that_does_not_load_is_exit_2_with_located_errors(tmp_path: Path) -> None:
    bad = tmp_path / "rules" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text("id: x\nentity: household\nrules:\n  - id: a\n    when: desill > 3\n",
                   encoding="utf-8")
    res = CliRunner().invoke(main, ["lint", str(tmp_path)])
    assert 2 == res.exit_code
    assert "bad.yaml:5" in res.output
    assert "did you mean 'desil'" in res.output


def test_the_national_pack_folder_given_as_a_path_is_a_filter_not_a_second_load() -> None:
    folder = Path(national.__file__).resolve().parent
    res = CliRunner().invoke(main, ["lint", str(folder), "--json"])
    assert 0 == res.exit_code, res.output
    result = json.loads(res.stdout)
    assert 0 == result["counts"]["error"]
    assert not any("declared twice" in r["message"] for r in result["findings"])
    _engine, roots = lint_engine_for([str(folder / "rules")], ())
    assert [folder / "rules"] == roots


@pytest.mark.parametrize("plugins", [(), *((ep.name,) for ep in installed_entry_points())])
def test_the_national_pack_and_the_bundled_plugins_have_no_error_level_finding(
        plugins: tuple[str, ...]) -> None:
    engine, roots = lint_engine_for([], plugins)
    errors = [str(f) for f in lint(engine, roots) if f.severity == "error"]
    assert [] == errors


def test_numbers_in_texts_read_thousands_separators_and_skip_placeholders() -> None:
    assert [600000.0, 8.0] == numbers_in("penghasilan < Rp600.000, 8 m² {param.x} {n}")
    assert [2.5] == numbers_in("2,5 kali")


def test_holes_are_the_spans_without_a_value_inside_the_rule_range() -> None:
    from welfare_rules import types as t
    from welfare_rules.model import Parameter

    d = datetime.date
    p = Parameter("p", ((d(2020, 1, 1), 1), (d(2021, 1, 1), None), (d(2022, 1, 1), 2)), t.INT)
    assert [(None, d(2020, 1, 1)), (d(2021, 1, 1), d(2022, 1, 1))] == holes(p, None, None)
    assert [] == holes(p, d(2022, 6, 1), None)
    assert [(d(2021, 1, 1), d(2021, 6, 1))] == holes(p, d(2020, 6, 1), d(2021, 6, 1))


# ---------------------------------------------------------------------------------------------
# lint's verdicts against a brute-force enumeration of the whole input domain

SCHEMA = """\
entities:
  household:
    fields:
      lb: bool
      ls: {type: enum, values: [a, b, c]}
      lk: {type: int, min: 0, max: 4}
"""
DOMAIN = {"lb": [True, False], "ls": ["a", "b", "c"], "lk": [0, 1, 2, 3, 4]}
KINDS = {"lb": "bool", "ls": "enum", "lk": "int"}


def _table_file(policy: str, inputs: list[str], rows: list[tuple[list[str], int]]) -> str:
    lines = "\n".join(f"        - {{when: [{', '.join(c)}], then: {o}}}" for c, o in rows)
    return textwrap.dedent(f"""\
        id: gen
        version: "1"
        entity: household
        rules:
          - id: gen_table
            table:
              hit_policy: {policy}
              inputs: [{', '.join(inputs)}]
              rows:
        """) + lines + "\n"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=small_tables(KINDS, policies=("unique", "any", "first", "priority",
                                            "rule_order", "collect")))
def test_overlap_gap_and_firing_verdicts_equal_a_brute_force_enumeration(
        tmp_path_factory: pytest.TempPathFactory,
        table: tuple[str, list[str], list[tuple[list[str], int]]]) -> None:
    """Every combination of the inputs' values is evaluated by the engine: the pairs of rows
    that clash (UNIQUE, ANY), whether some combination gets no result (every policy), and,
    under FIRST and PRIORITY (each row then has its own output), which rows ever give the
    result — all equal lint's verdicts."""
    policy, inputs, rows = table
    if policy in ("first", "priority"):
        rows = [(cells, i) for i, (cells, _) in enumerate(rows, start=1)]
    root = tmp_path_factory.mktemp("gen")
    (root / "rules").mkdir()
    (root / "schema.yaml").write_text(SCHEMA, encoding="utf-8")
    (root / "rules" / "gen.yaml").write_text(_table_file(policy, inputs, rows),
                                             encoding="utf-8")
    engine = Engine.load(plugins=[FolderPack(root)], national=False)
    findings = lint(engine, [root])
    lint_pairs = {tuple(int(x) for x in re.search(r"rows (\d+) and (\d+)", f.message).groups())
                  for f in findings if f.code == "table-overlap"}
    lint_gap = any(f.code == "table-gap" for f in findings)
    lint_silent = {int(re.search(r"row (\d+)", f.message).group(1)) for f in findings
                   if f.code in ("table-row-never-fires", "table-row-never-matches")}

    brute_pairs: set[tuple[int, int]] = set()
    brute_gap = False
    brute_fired: set[int] = set()
    outputs = [o for _, o in rows]
    for values in _product(inputs):
        record = {"id": "3375010101240001", "members": [], **values}
        try:
            d = engine.evaluate("household", record, as_of=datetime.date(2024, 1, 1))
        except HitPolicyError as exc:
            hit = exc.rows
            brute_pairs |= {(a, b) for i, a in enumerate(hit) for b in hit[i + 1:]
                            if policy == "unique" or outputs[a - 1] != outputs[b - 1]}
            continue
        value = d.value("gen_table")
        if value is None or value == []:
            brute_gap = True
        elif policy in ("first", "priority"):
            brute_fired.add(value)
    assert brute_pairs == lint_pairs
    assert brute_gap == lint_gap
    if policy in ("first", "priority"):
        assert set(range(1, len(rows) + 1)) - brute_fired == lint_silent


def _product(inputs: list[str]) -> list[dict[str, object]]:
    import itertools

    return [dict(zip(inputs, combo, strict=True))
            for combo in itertools.product(*(DOMAIN[i] for i in inputs))]
