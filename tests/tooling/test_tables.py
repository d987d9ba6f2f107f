"""The spreadsheet round-trip: every national decision table and parameter exported to XLSX and
imported back gives an equal model; edits come back as a diff; bad cells are located."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from welfare_rules.cli import main
from welfare_rules.engine import Engine
from welfare_rules.errors import ErrorGroup
from welfare_rules.loading import load_parameter_files, load_ruleset_file
from welfare_rules.model import Parameter, Rule, Table
from welfare_rules.schema import Origin
from welfare_rules.tables import export_xlsx, import_xlsx, tables_and_parameters

ENGINE = Engine.load()
NAMES = sorted(tables_and_parameters(ENGINE))


def _normal(table: Table) -> Table:
    """A table without the cells' source text (the same test may be written two ways)."""
    rows = tuple(attrs.evolve(r, tests=tuple(attrs.evolve(x, text="") for x in r.tests))
                 for r in table.rows)
    return attrs.evolve(table, rows=rows)


def _reload(obj: Rule | Parameter, file: Path) -> Rule | Parameter:
    if isinstance(obj, Rule):
        rs, errors = load_ruleset_file(file, Origin())
        assert [] == errors
        assert rs is not None
        return next(r for r in rs.rules if r.id == obj.id and r.kind == "table")
    params, errors = load_parameter_files(file, Origin())
    assert [] == errors
    return next(p for p in params if obj.name == p.name or obj.name.endswith("." + p.name))


def test_every_national_table_and_parameter_is_exported() -> None:
    tables = [n for n in NAMES if n in ENGINE.rules]
    assert {"pkh_component", "pkh_component_amount"} <= set(tables)
    assert len(NAMES) == len(tables) + len(ENGINE.parameters)


@pytest.mark.parametrize("name", NAMES)
def test_export_then_import_gives_back_an_equal_model(name: str, tmp_path: Path) -> None:
    obj = tables_and_parameters(ENGINE)[name]
    book = export_xlsx(ENGINE, name, tmp_path / "book.xlsx")
    assert not import_xlsx(ENGINE, book, write=False).changed  # nothing edited: nothing changes
    copy = tmp_path / Path(obj.location.file or "").name
    shutil.copy(obj.location.file or "", copy)
    # every row / dated value written again from the workbook alone
    import_xlsx(ENGINE, book, copy, rewrite_all=True)
    again = _reload(obj, copy)
    if isinstance(obj, Rule):
        assert isinstance(again, Rule)
        assert obj.table is not None
        assert again.table is not None
        assert _normal(obj.table) == _normal(again.table)
    else:
        assert isinstance(again, Parameter)
        assert (obj.values, obj.type) == (again.values, again.type)


def _copy_of(rule_or_param: Rule | Parameter, tmp_path: Path) -> Path:
    copy = tmp_path / Path(rule_or_param.location.file or "").name
    shutil.copy(rule_or_param.location.file or "", copy)
    return copy


def test_an_edited_cell_comes_back_as_a_diff_and_only_that_line_changes(tmp_path: Path) -> None:
    rule = ENGINE.rule("pkh_component")
    book = export_xlsx(ENGINE, "pkh_component", tmp_path / "pkh.xlsx")
    wb = load_workbook(book)
    ws = wb["table"]
    assert "when: disability" == ws["D6"].value
    assert "severe" == ws["D9"].value  # row 3 of the table, input 3
    ws["D9"] = '"severe", "moderate"'
    wb.save(book)
    copy = _copy_of(rule, tmp_path)
    res = import_xlsx(ENGINE, book, copy)
    removed = [line for line in res.diff.splitlines() if line.startswith("-") and
               not line.startswith("---")]
    added = [line for line in res.diff.splitlines() if line.startswith("+") and
             not line.startswith("+++")]
    assert ['-        - {when: ["-", "-", severe, "-"], then: severe_disability}'] == removed
    assert ['+        - {when: ["-", "-", \'"severe", "moderate"\', "-"], '
            'then: severe_disability}'] == added
    again = _reload(rule, copy)
    assert isinstance(again, Rule)
    assert again.table is not None
    assert ("severe", "moderate") == tuple(
        i.value for i in again.table.rows[2].tests[2].value.items)  # type: ignore[union-attr]


def test_an_added_row_and_a_changed_parameter_value_are_written(tmp_path: Path) -> None:
    book = export_xlsx(ENGINE, "pkh.elderly_age", tmp_path / "p.xlsx")
    wb = load_workbook(book)
    ws = wb["parameter"]
    ws["C6"], ws["C7"] = "2026-01-01", 65
    wb.save(book)
    p = ENGINE.parameter("pkh.elderly_age")
    copy = _copy_of(p, tmp_path)
    res = import_xlsx(ENGINE, book, copy)
    assert "+    2026-01-01: 65" in res.diff
    params, _ = load_parameter_files(copy, Origin())
    again = next(x for x in params if x.name == "elderly_age")
    assert ((datetime.date(2016, 1, 1), 60), (datetime.date(2026, 1, 1), 65)) == again.values


def test_cells_that_do_not_parse_are_located_sheet_and_cell(tmp_path: Path) -> None:
    book = export_xlsx(ENGINE, "pkh_component", tmp_path / "pkh.xlsx")
    wb = load_workbook(book)
    wb["table"]["B7"] = "< < 3"
    wb["table"]["F8"] = "= param."
    wb.save(book)
    with pytest.raises(ErrorGroup) as info:
        import_xlsx(ENGINE, book, write=False)
    where = [str(e.location) for e in info.value.errors]
    assert ["pkh.xlsx: table!B7", "pkh.xlsx: table!F8"] == where


def test_a_parameter_value_of_the_wrong_type_is_located(tmp_path: Path) -> None:
    book = export_xlsx(ENGINE, "pkh.max_desil", tmp_path / "d.xlsx")
    wb = load_workbook(book)
    wb["parameter"]["B7"] = "four"
    wb.save(book)
    with pytest.raises(ErrorGroup) as info:
        import_xlsx(ENGINE, book, write=False)
    assert "d.xlsx: table!B7" != str(info.value.errors[0].location)
    assert "d.xlsx: parameter!B7" == str(info.value.errors[0].location)
    assert "is int" in info.value.errors[0].message


def test_output_expressions_are_stored_as_text_not_as_formulas(tmp_path: Path) -> None:
    book = export_xlsx(ENGINE, "pkh_component_amount", tmp_path / "a.xlsx")
    cell = load_workbook(book)["table"]["C7"]
    assert ("= param.pkh.amount.pregnant", "s") == (cell.value, cell.data_type)


def test_the_table_commands_export_and_show_the_diff(tmp_path: Path) -> None:
    runner = CliRunner()
    book = tmp_path / "b.xlsx"
    res = runner.invoke(main, ["table", "export", "pkh_component_amount", "--xlsx", str(book)])
    assert 0 == res.exit_code, res.output
    wb = load_workbook(book)
    wb["table"]["C14"] = 1
    wb.save(book)
    copy = _copy_of(ENGINE.rule("pkh_component_amount"), tmp_path)
    res = runner.invoke(main, ["table", "import", str(book), "--into", str(copy), "--dry-run"])
    assert 0 == res.exit_code, res.output
    assert "+        - {when: [none], then: 1}" in res.output
    assert "{when: [none], then: 0}" in copy.read_text(encoding="utf-8")  # dry run
    res = runner.invoke(main, ["table", "export", "pkh_benefit_year", "--xlsx", str(book)])
    assert 2 == res.exit_code
    assert "not a decision table" in res.output
