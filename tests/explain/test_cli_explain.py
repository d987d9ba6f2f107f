"""The CLI's explain: a summary by default, --full the trace, --what-would-change the
verified counterfactuals (issue 15, items 1 and 6)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from welfare_rules.cli import main

NATIONAL = Path(__file__).parents[2] / "src" / "welfare_rules" / "national" / "examples"


def _first_id() -> str:
    return (NATIONAL / "households.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["explain", str(NATIONAL / "households.csv"), "--members",
                                    str(NATIONAL / "persons.csv"), "--id", _first_id(),
                                    "--rule", "pkh_eligible", "--as-of", "2024-07-01", *args])
    return res.exit_code, res.stdout


def test_the_summary_is_the_default_and_has_no_rule_ids_or_parameter_paths() -> None:
    code, out = _run("--lang", "en")
    assert code == 0
    assert "(pkh_eligible)" not in out
    assert "param" not in out.lower().replace("parameter", "")
    assert "pkh.max_desil" not in out


def test_full_gives_the_trace_with_rule_ids_and_parameters() -> None:
    code, out = _run("--lang", "en", "--full")
    assert code == 0
    assert "(pkh_eligible)" in out
    assert "pkh.max_desil" in out


def test_what_would_change_lists_verified_changes_as_json() -> None:
    code, out = _run("--lang", "id", "--what-would-change", "--json")
    assert code == 0
    doc = json.loads(out)
    entry = doc["decisions"][0]
    assert "what_would_change" in entry
    for c in entry["what_would_change"]:
        assert c["sentence"].startswith("Jika ")


def test_full_shows_each_criterion_s_expression_for_officers() -> None:
    code, out = _run("--lang", "en", "--full")
    assert code == 0
    assert "Expression: `desil <= param.pkh.max_desil`" in out
    code, out = _run("--lang", "id", "--full")
    assert "Rumus: `desil <= param.pkh.max_desil`" in out
    code, out = _run("--lang", "en")
    assert "Expression:" not in out  # the summary has no expressions


def test_decisions_come_first_and_rules_not_in_force_are_one_line_at_the_end() -> None:
    res = CliRunner().invoke(main, ["explain", str(NATIONAL / "households.csv"), "--members",
                                    str(NATIONAL / "persons.csv"), "--id", _first_id(),
                                    "--as-of", "2024-07-01", "--lang", "en"])
    assert res.exit_code == 0
    lines = [x for x in res.stdout.splitlines() if x.strip()]
    idle = [i for i, x in enumerate(lines) if x.startswith("Not in force on 1 July 2024: ")]
    assert idle == [len(lines) - 1], lines[-3:]
    assert "BLT" in lines[-1]
    assert not any("not in force" in x.lower() for x in lines[:-1]), lines[:5]
