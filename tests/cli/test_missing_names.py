"""Every command given a rule, a file or a parameter that does not exist ends with one line on
stderr and exit 2 — never a traceback (``explain --rule nosuchrule`` was a KeyError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from welfare_rules.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "welfare_rules" / "national" / "examples"
HOUSEHOLDS = str(EXAMPLES / "households.csv")
PERSONS = str(EXAMPLES / "persons.csv")
KK = "3375010101230001"  # a household of the examples
NOWHERE = "no/such/file.csv"

CASES = {
    # a rule that does not exist
    "explain --rule": ["explain", HOUSEHOLDS, "--members", PERSONS, "--id", KK,
                       "--rule", "nosuchrule"],
    "diff --rule": ["diff", HOUSEHOLDS, "--members", PERSONS, "--rule", "nosuchrule"],
    "table export": ["table", "export", "nosuchtable", "--xlsx", "{tmp}/t.xlsx"],
    "allocate --programme": ["allocate", HOUSEHOLDS, "--members", PERSONS, "--programme",
                             "nosuchprogramme", "--quota", "3"],
    # a record that does not exist
    "explain --id": ["explain", HOUSEHOLDS, "--members", PERSONS, "--id", "3375019999999999"],
    # a parameter that does not exist
    "diff --set": ["diff", HOUSEHOLDS, "--members", PERSONS, "--rule", "pkh_eligible",
                   "--set", "pkh.nosuchparameter=3"],
    "impact --set": ["impact", HOUSEHOLDS, "--members", PERSONS, "--set",
                     "pkh.nosuchparameter=3"],
    # a file that does not exist
    "evaluate": ["evaluate", NOWHERE, "--out", "{tmp}/out"],
    "evaluate --members": ["evaluate", HOUSEHOLDS, "--members", NOWHERE, "--out", "{tmp}/o"],
    "explain": ["explain", NOWHERE, "--id", KK],
    "diff": ["diff", NOWHERE, "--rule", "pkh_eligible"],
    "diff --rules": ["diff", HOUSEHOLDS, "--members", PERSONS, "--rule", "pkh_eligible",
                     "--rules", NOWHERE],
    "impact": ["impact", NOWHERE, "--set", "pkh.max_desil=5"],
    "impact --reform": ["impact", HOUSEHOLDS, "--members", PERSONS, "--reform", NOWHERE],
    "allocate": ["allocate", NOWHERE, "--programme", "pkh", "--quota", "3"],
    "reconcile": ["reconcile", NOWHERE, "--register", f"death={NOWHERE}", "--out",
                  "{tmp}/r"],
    "reconcile --register": ["reconcile", HOUSEHOLDS, "--members", PERSONS, "--register",
                             f"death={NOWHERE}", "--out", "{tmp}/r"],
    "report": ["report", NOWHERE, "--out", "{tmp}/rep"],
    "check": ["check", NOWHERE],
    "lint": ["lint", NOWHERE],
    "test": ["test", NOWHERE],
    "table import": ["table", "import", NOWHERE],
    "--reform": ["--reform", NOWHERE, "check"],
    # a plugin that does not exist
    "check -p": ["check", "-p", "nosuchplugin"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_missing_name_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in CASES[case]]
    r = CliRunner().invoke(main, ["-q", *args])  # no messages: the error is all of stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert 2 == r.exit_code, (r.exit_code, r.stderr)
    lines = r.stderr.splitlines()
    assert 1 == len(lines), r.stderr
    assert "Traceback" not in r.stderr
    assert lines[0].startswith("welfare-rules: "), lines[0]


def test_explain_of_an_unknown_rule_names_it_and_suggests(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["explain", HOUSEHOLDS, "--members", PERSONS, "--id", KK,
                                  "--rule", "pkh_eligble"])
    assert 2 == r.exit_code
    assert "pkh_eligble" in r.stderr
    assert "pkh_eligible" in r.stderr  # did you mean
    assert r.stderr.rstrip().endswith("?") or r.stderr.rstrip().endswith("'")  # not cut


def test_a_usage_error_is_one_line_naming_the_option() -> None:
    r = CliRunner().invoke(main, ["evaluate", NOWHERE])
    assert 2 == r.exit_code
    assert [f"welfare-rules: Invalid value for 'DATA': Path '{NOWHERE}' does not exist. "
            "(see main evaluate --help)"] == r.stderr.splitlines()


def test_the_bare_command_still_shows_the_help() -> None:
    r = CliRunner().invoke(main, [])
    assert "Commands:" in r.output
