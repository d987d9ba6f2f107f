"""testing.runner.load_cases: a rule test case that expects nothing is refused, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.testing.runner import RuleTestFileError, load_cases


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "cases.yaml"
    f.write_text(text, encoding="utf-8")
    return f


@pytest.mark.parametrize("expects", ["", "  output: {}\n", "  status: {}\n",
                                     "  output: {}\n  status: {}\n"])
def test_a_case_without_expectations_is_a_located_error(tmp_path: Path, expects: str) -> None:
    f = _write(tmp_path, "- name: first\n  as_of: 2024-01-01\n  input: {}\n  output: {x: true}\n"
                         f"- name: vacuous\n  input: {{}}\n{expects}")
    with pytest.raises(RuleTestFileError, match=r"cases\.yaml:5:3: case 2 \('vacuous'\) "
                                                r"expects nothing"):
        load_cases(f)


@pytest.mark.parametrize("expects", ["output: {x: true}", "status: {x: unknown}",
                                     "members_output: []", "findings: []", "error: bad"])
def test_any_one_expectation_is_enough(tmp_path: Path, expects: str) -> None:
    f = _write(tmp_path, f"- name: one\n  as_of: 2024-01-01\n  input: {{}}\n  {expects}\n")
    assert [c.name for c in load_cases(f)] == ["one"]


def test_an_expectation_given_in_the_defaults_counts(tmp_path: Path) -> None:
    f = _write(tmp_path, "defaults: {findings: [], as_of: 2024-01-01}\ncases:\n"
                         "  - name: one\n    input: {}\n")
    assert [c.findings for c in load_cases(f)] == [[]]
