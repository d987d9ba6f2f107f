"""Bad input is refused with one located line (file:line, what was expected, what was found),
exit 2 from the CLI and a :class:`RuleLoadError` from the library — never a raw traceback or a
silent guess (review 2, findings 4, 17, 18, 20 and 30)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from welfare_rules import Engine
from welfare_rules.cli import main
from welfare_rules.errors import ErrorGroup, LocatedError, RuleLoadError

HEAD = 'id: t_bad\nversion: "1"\nentity: household\nrules:\n'


def _one_line(args: list[str]) -> str:
    r = CliRunner().invoke(main, ["-q", *args])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output, r.output
    assert "internal error" not in r.output, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    return lines[0]


def _load_errors(path: Path) -> list[LocatedError]:
    with pytest.raises((ErrorGroup, RuleLoadError)) as info:
        Engine.load(rules=path)
    exc = info.value
    return list(exc.errors) if isinstance(exc, ErrorGroup) else [exc]


BAD_RULES = {
    # finding 4: the commas of an unquoted expression split a flow mapping into keys 1 and "2)"
    "split expression": ("  - {id: x, value: substr(kelurahan, 1, 2)}\n", 5,
                         ["'1'", "'2)'", "quote expressions that contain commas"]),
    # finding 17: a date that does not exist
    "impossible date": ("  - id: a\n    when: desil < 3\n    effective: {from: 2024-02-30}\n", 7,
                        ["not a valid date: 2024-02-30", "YYYY-MM-DD"]),
    "impossible month": ("  - id: a\n    when: desil < 3\n    effective: {from: 2023-13-01}\n",
                         7, ["not a valid date: 2023-13-01"]),
    # finding 18: a title whose values are not text
    "title not text": ("  - id: a\n    when: desil < 3\n    title: {id: 1, en: [2]}\n", 7,
                       ["expected a text for 'id'", "found int 1"]),
    "title list": ("  - id: a\n    when: desil < 3\n    title: {id: teks, en: [2]}\n", 7,
                   ["expected a text for 'en'", "found list [2]"]),
    "message not text": ("  - id: a\n    kind: check\n    severity: warning\n"
                         "    when: desil < 3\n    message: {id: teks, en: 5}\n", 9,
                         ["expected a text for 'en'", "found int 5"]),
}


@pytest.mark.parametrize("case", sorted(BAD_RULES))
def test_bad_rule_file_is_one_located_line_from_check(case: str, tmp_path: Path) -> None:
    body, line, parts = BAD_RULES[case]
    f = tmp_path / "bad.yaml"
    f.write_text(HEAD + body)
    out = _one_line(["check", str(f)])
    assert f"{f}:{line}:" in out, out
    for part in parts:
        assert part in out, out


@pytest.mark.parametrize("case", sorted(BAD_RULES))
def test_bad_rule_file_is_a_located_load_error(case: str, tmp_path: Path) -> None:
    body, line, parts = BAD_RULES[case]
    (tmp_path / "bad.yaml").write_text(HEAD + body)
    errors = _load_errors(tmp_path)
    assert any(e.location.line == line and all(p in str(e) for p in parts) for e in errors), \
        [str(e) for e in errors]


@pytest.mark.parametrize("where", ["entity", "field", "relation", "value"])
def test_a_schema_label_that_is_not_text_is_a_located_error(where: str) -> None:
    from welfare_rules._yaml import load_yaml
    from welfare_rules.schema import Origin, SchemaBuilder

    bad = "{id: teks, en: [2]}"
    labels = {w: ("label: " + bad if w == where else "label: teks") for w in
              ("entity", "field", "relation")}
    value = f"\n        labels: {{a: {bad}}}" if where == "value" else ""
    text = (f"entities:\n  t_box:\n    key: id\n    {labels['entity']}\n    fields:\n"
            f"      id: str\n      kind:\n        type: enum\n        values: [a, b]\n"
            f"        {labels['field']}{value}\n"
            f"    relations:\n      items: {{entity: t_box, key: id, {labels['relation']}}}\n")
    data, pos = load_yaml(text, "s.yaml")
    sb = SchemaBuilder()
    sb.add_data(data, pos, Origin())
    errors = [str(e) for e in sb.errors]
    assert len(errors) == 1, (errors, text)
    assert "expected a text for 'en', found list [2]" in errors[0]
    assert errors[0].startswith("s.yaml:"), errors


# --- rule test cases: as_of required and a real date (finding 20) -----------------------------

CASE = '  input: {id: "3375010101010001", desil: 1, members: []}\n  output: {bpnt_desil: true}\n'
BAD_CASES = {
    "no as_of": ("- name: a household\n" + CASE, 1, ["case 1 ('a household')",
                                                      "'as_of' is required"]),
    "impossible as_of": ('- name: a household\n  as_of: "2024-13-01"\n' + CASE, 2,
                         ["'as_of' is a date YYYY-MM-DD, found '2024-13-01'"]),
    "week date as_of": ('- name: a household\n  as_of: "2024-W01-1"\n' + CASE, 2,
                        ["found '2024-W01-1'"]),
    "defaults as_of": ('defaults: {as_of: "20240101"}\ncases:\n  - name: a household\n'
                       + CASE.replace("  ", "    ", 2).replace("\n  output", "\n    output"),
                       1, ["found '20240101'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_a_rule_test_case_without_a_real_as_of_is_a_located_error(case: str,
                                                                  tmp_path: Path) -> None:
    from welfare_rules.testing.runner import RuleTestFileError, load_cases

    text, line, parts = BAD_CASES[case]
    f = tmp_path / "test_case.yaml"
    f.write_text(text)
    with pytest.raises(RuleTestFileError) as info:
        load_cases(f)
    assert info.value.location is not None
    assert info.value.location.line == line, str(info.value)
    for part in parts:
        assert part in str(info.value)
    r = CliRunner().invoke(main, ["-q", "test", str(f)])
    assert r.exit_code != 0
    assert "Traceback" not in r.output
    assert f"{f}:{line}:" in r.output, r.output
    assert parts[0] in r.output, r.output


def test_a_case_with_as_of_in_defaults_loads(tmp_path: Path) -> None:
    from welfare_rules.testing.runner import load_cases

    f = tmp_path / "test_ok.yaml"
    f.write_text('defaults: {as_of: 2024-07-01}\ncases:\n  - name: a household\n'
                 '    input: {id: "3375010101010001", desil: 1, members: []}\n'
                 '    output: {bpnt_desil: true}\n')
    (c,) = load_cases(f)
    assert str(c.as_of) == "2024-07-01"


# --- dates written as text are exactly YYYY-MM-DD everywhere (finding 30) ---------------------

NOT_ISO = ["20240101", "2024-W01-1", "2024-001", "2024-02-30", " 2024-01-01x"]


@pytest.mark.parametrize("text", NOT_ISO)
def test_parse_iso_date_takes_only_yyyy_mm_dd(text: str) -> None:
    from welfare_rules.types import parse_iso_date

    with pytest.raises(ValueError, match=r"YYYY-MM-DD|range|day"):
        parse_iso_date(text)


@pytest.mark.parametrize("text", NOT_ISO)
def test_as_of_and_date_parameters_refuse_what_is_not_yyyy_mm_dd(text: str) -> None:
    from welfare_rules.errors import EvaluationError
    from welfare_rules.plan import as_of_date
    from welfare_rules.types import DATE, convert

    with pytest.raises(EvaluationError, match="YYYY-MM-DD"):
        as_of_date(text)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        convert(text, DATE)


def test_evaluate_batch_refuses_a_week_date_as_of() -> None:
    from welfare_rules.errors import EvaluationError

    engine = Engine.load()
    with pytest.raises(EvaluationError, match="YYYY-MM-DD, found '2024-W01-1'"):
        engine.evaluate_batch("household", [{"id": "3375010101010001", "desil": 1}],
                              members=[], as_of="2024-W01-1")


@pytest.mark.parametrize("text", ["20240101", "2024-W01-1"])
def test_cli_as_of_refuses_what_is_not_yyyy_mm_dd(text: str, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "src/welfare_rules/national/examples"
    out = _one_line(["evaluate", str(examples / "households.csv"), "--members",
                     str(examples / "persons.csv"), "--out", str(tmp_path / "o"),
                     "--as-of", text])
    assert f"--as-of must be a date YYYY-MM-DD, found {text!r}" in out


def test_a_located_error_keeps_its_file_name_whole(tmp_path: Path) -> None:
    """review 3 F6: a file name with a 16+ digit run was printed masked
    (export_2024*********5123.yaml), so the error named no existing file; the message itself
    is still masked."""
    f = tmp_path / "export_20241201093015123.yaml"
    f.write_text('id: t_path\nversion: "1"\nentity: household\nrules:\n'
                 '  - {id: t_p, when: "desill == 3375012345678901"}\n')
    res = CliRunner().invoke(main, ["check", str(f)])
    assert res.exit_code == 2
    assert f"{f}:5:" in res.stderr
    assert "3375012345678901" not in res.stderr.replace(str(f), "")
