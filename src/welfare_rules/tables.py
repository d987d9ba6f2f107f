"""Decision tables and parameters as spreadsheets: export to XLSX, import back into the YAML.

DMN users keep decision tables in spreadsheets. :func:`export_xlsx` writes one decision table
(one worksheet row per table row, every cell a DMN unary test such as ``< 18``, ``[6..21]``,
``"a", "b"``, ``not(none)`` or ``-``; the outputs beside them; the default on a last row) or one
parameter (a column per effective date). :func:`import_xlsx` reads such a workbook back: every
cell is parsed as the rule file would parse it, anything that does not parse is reported with its
place (``book.xlsx: table!C7``), and the YAML file is rewritten in place — only the cells that
changed are touched, so comments and layout of the rest of the file stay as they were — with a
unified diff of what changed.

The workbook carries its target in a small header (kind, name, file); the YAML file to update
is the one the rule or parameter was loaded from, or the one given with ``into``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import yaml

from .errors import (
    ErrorGroup,
    ExpressionSyntaxError,
    LocatedError,
    Location,
    RuleLoadError,
    did_you_mean,
)
from .expr import nodes as n
from .loading import parse_output, parse_unary_test
from .model import Parameter, Rule, Table, UnaryTest
from .types import parse_iso_date

if TYPE_CHECKING:
    from .engine import Engine

SHEET = "table"
PARAM_SHEET = "parameter"
_HEADER_ROWS = 4  # kind / name / file / hit policy, then a blank row, then the column headers


class SpreadsheetError(LocatedError):
    """A workbook cell that cannot be read back (located ``book.xlsx: sheet!cell``)."""


def _cell_ref(sheet: str, row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{sheet}!{get_column_letter(col)}{row}"


# ---------------------------------------------------------------------------------------------
# Rendering: model → the text a spreadsheet cell holds


def _value_text(node: n.Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, n.Literal):
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return v if _bare_ok(v) else '"' + v + '"'
        if isinstance(v, datetime.date):
            return f'date("{v.isoformat()}")'
        return repr(v)
    return n.to_source(node)


def _bare_ok(s: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ /+-]*", s)) and not s.startswith("param.") \
        and s not in ("true", "false", "null", "not")


def unary_test_text(test: UnaryTest) -> str:
    """A unary test as DMN text: ``-``, ``< 18``, ``[6..21]``, ``"a","b"``, ``not(none)``."""
    if test.op == "any":
        return "-"
    if test.op == "range":
        lo = "[" if test.low_closed else "("
        hi = "]" if test.high_closed else ")"
        body = f"{lo}{_value_text(test.value)}..{_value_text(test.high)}{hi}"
    elif test.op == "in":
        assert isinstance(test.value, n.ListLit)
        body = ", ".join(_quoted(i) for i in test.value.items)
    elif test.op == "==":
        body = _value_text(test.value)
        if body.startswith(("<", ">", "=", "!", "[", "(", "]")) or "," in body:
            body = _quoted(test.value)  # a literal text that would read as a test
    else:
        body = f"{test.op} {_value_text(test.value)}"
    return f"not({body})" if test.negate else body


def _quoted(node: n.Node | None) -> str:
    if isinstance(node, n.Literal) and isinstance(node.value, str):
        return '"' + node.value + '"'
    return _value_text(node)


def output_text(node: n.Node) -> Any:
    """An output cell: a number or a text stays one; an expression is ``= expr``."""
    if isinstance(node, n.Literal):
        v = node.value
        if isinstance(v, bool | int | float) or v is None:
            return v
        if isinstance(v, str):
            looks_other = re.fullmatch(r"-?\d+(\.\d+)?", v) or v.startswith(("=", '"'))
            return '"' + v + '"' if looks_other else v
    return "= " + n.to_source(node)


# ---------------------------------------------------------------------------------------------
# Export


def _target(engine: Engine, name: str) -> Rule | Parameter:
    if name in engine.parameters:
        return engine.parameters[name]
    if name in engine.rules:
        rule = engine.rules[name][-1]
        if rule.kind != "table" or rule.table is None:
            raise RuleLoadError(f"'{name}' is a {rule.kind} rule, not a decision table",
                                rule.location)
        return rule
    raise RuleLoadError(f"no decision table or parameter named '{name}'"
                        f"{did_you_mean(name, [*engine.rules, *engine.parameters])}")


def export_xlsx(engine: Engine, name: str, path: str | Path) -> Path:
    """Write decision table or parameter ``name`` to the workbook ``path``.

    Raises:
        RuleLoadError: ``name`` is neither a decision table nor a parameter.
    """
    from openpyxl import Workbook

    target = _target(engine, name)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    if isinstance(target, Parameter):
        ws.title = PARAM_SHEET
        _header(ws, "parameter", target.name, target.location.file or "", target.unit)
        ws.cell(_HEADER_ROWS + 2, 1, "date")
        ws.cell(_HEADER_ROWS + 3, 1, "value")
        for j, (d, v) in enumerate(target.values, start=2):
            ws.cell(_HEADER_ROWS + 2, j, d.isoformat())
            _put(ws, _HEADER_ROWS + 3, j, _param_cell(v))
    else:
        table = target.table
        assert table is not None
        ws.title = SHEET
        policy = table.hit_policy + (f" {table.aggregation}" if table.aggregation else "")
        _header(ws, "table", target.id, target.location.file or "", policy)
        head = _HEADER_ROWS + 2
        ws.cell(head, 1, "row")
        for j, inp in enumerate(table.input_names, start=2):
            _put(ws, head, j, f"when: {inp}")
        first_out = 2 + len(table.input_names)
        for j, out in enumerate(table.outputs, start=first_out):
            _put(ws, head, j, f"then: {out.name}")
        for i, row in enumerate(table.rows, start=1):
            ws.cell(head + i, 1, i)
            for j, test in enumerate(row.tests, start=2):
                _put(ws, head + i, j, unary_test_text(test))
            for j, o in enumerate(row.outputs, start=first_out):
                _put(ws, head + i, j, output_text(o))
        if table.default is not None:
            r = head + len(table.rows) + 1
            ws.cell(r, 1, "default")
            for j, o in enumerate(table.default, start=first_out):
                _put(ws, r, j, output_text(o))
    dest = Path(path)
    wb.save(dest)
    return dest


def _param_cell(v: Any) -> Any:
    if v is None:
        return "null"
    if isinstance(v, list):
        return _scalar_yaml(v)
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v) if isinstance(v, str) else v


def _header(ws: Any, kind: str, name: str, file: str, extra: str) -> None:
    for r, (k, v) in enumerate((("kind", kind), ("name", name), ("file", file),
                                ("hit policy" if kind == "table" else "unit", extra)), start=1):
        ws.cell(r, 1, k)
        _put(ws, r, 2, v)


def _put(ws: Any, row: int, col: int, value: Any) -> None:
    """Write a cell; text is always stored as text, never as a formula (``= expr`` outputs)."""
    cell = ws.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


# ---------------------------------------------------------------------------------------------
# Import


@attrs.frozen
class ImportResult:
    """What :func:`import_xlsx` did: the YAML file, its text before and after, and the diff."""

    file: Path
    before: str
    after: str

    @property
    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"{self.file} (before)", tofile=f"{self.file} (after)"))

    @property
    def changed(self) -> bool:
        return self.before != self.after


def import_xlsx(engine: Engine, workbook: str | Path, into: str | Path | None = None, *,
                write: bool = True, rewrite_all: bool = False) -> ImportResult:
    """Read an exported workbook back into the YAML file of its table or parameter.

    Args:
        engine: the engine the table or parameter is loaded in (to find it and its file).
        workbook: the XLSX written by :func:`export_xlsx` (edited or not).
        into: the YAML file to update (default: the file named in the workbook's header).
        write: write the file (off: only compute the diff).
        rewrite_all: write every row (or dated value) from the workbook, even those that did
            not change (their original YAML text is kept otherwise).

    Raises:
        ErrorGroup: cells that do not parse, each located ``book.xlsx: sheet!cell``.
        RuleLoadError: the workbook's header does not name a table or parameter of ``engine``.
    """
    from openpyxl import load_workbook

    wb = load_workbook(workbook, data_only=False)
    book = Path(workbook).name
    ws = wb[SHEET] if SHEET in wb.sheetnames else (
        wb[PARAM_SHEET] if PARAM_SHEET in wb.sheetnames else None)
    if ws is None:
        raise RuleLoadError(f"{book}: no sheet '{SHEET}' or '{PARAM_SHEET}' (was it written by "
                            f"welfare-rules table export?)", Location(str(workbook)))
    kind, name = _text(ws.cell(1, 2).value), _text(ws.cell(2, 2).value)
    target = _target(engine, name)
    if (kind == "table") != isinstance(target, Rule):
        raise RuleLoadError(f"{book}: the header says {kind} '{name}', which is a "
                            f"{'rule' if isinstance(target, Rule) else 'parameter'}")
    file = Path(into) if into is not None else Path(target.location.file or "")
    before = file.read_text(encoding="utf-8")
    if isinstance(target, Rule):
        after = _import_table(ws, book, target, before, rewrite_all)
    else:
        after = _import_parameter(ws, book, target, before, rewrite_all)
    result = ImportResult(file, before, after)
    if write and result.changed:
        file.write_text(after, encoding="utf-8")
    return result


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _rows(ws: Any) -> Iterator[tuple[int, list[Any]]]:
    for r in range(_HEADER_ROWS + 3, ws.max_row + 1):
        values = [ws.cell(r, c).value for c in range(1, ws.max_column + 1)]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        yield r, values


def _cell_value(v: Any) -> Any:
    """A workbook cell as the rule file would hold it (openpyxl keeps a formula as ``=...``)."""
    if isinstance(v, datetime.datetime):
        return v.date()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _import_table(ws: Any, book: str, rule: Rule, text: str, rewrite_all: bool) -> str:
    table = rule.table
    assert table is not None
    n_in, n_out = len(table.inputs), len(table.outputs)
    errors: list[LocatedError] = []
    new_rows: list[tuple[list[Any], list[Any], list[UnaryTest], list[n.Node]]] = []
    new_default: list[Any] | None = None
    policy = _text(ws.cell(4, 2).value).split()
    for r, values in _rows(ws):
        label = _text(values[0]) if values else ""
        cells = [_cell_value(v) for v in values[1:1 + n_in]]
        cells += ["-"] * (n_in - len(cells))
        outs = [_cell_value(v) for v in values[1 + n_in:1 + n_in + n_out]]
        parsed_outs: list[n.Node] = []
        for j, v in enumerate(outs):
            where = Location(f"{book}: {_cell_ref(ws.title, r, 2 + n_in + j)}")
            if v is None:
                errors.append(SpreadsheetError("an output cell is empty", where))
                continue
            try:
                parsed_outs.append(parse_output(_as_source(v), where))
            except ExpressionSyntaxError as exc:
                errors.append(SpreadsheetError(f"cannot read {v!r} as an output: "
                                               f"{exc.message}", where))
        if label == "default":
            new_default = outs
            continue
        tests: list[UnaryTest] = []
        for j, v in enumerate(cells):
            where = Location(f"{book}: {_cell_ref(ws.title, r, 2 + j)}")
            try:
                tests.append(parse_unary_test(_as_source("-" if v is None else v), where))
            except ExpressionSyntaxError as exc:
                errors.append(SpreadsheetError(f"cannot read {v!r} as a unary test: "
                                               f"{exc.message}", where))
        new_rows.append((cells, outs, tests, parsed_outs))
    if errors:
        raise ErrorGroup(errors, f"{book}: cells that do not parse")
    return _rewrite_table(text, rule, table, new_rows, new_default, policy, rewrite_all)


def _as_source(v: Any) -> Any:
    """A cell as a YAML scalar would be: text that YAML would read as a list stays text."""
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("=") and not s.startswith("= "):
            s = "= " + s[1:]  # a formula cell typed by hand: =param.x
        return s
    return v


# -- rewriting the YAML text in place -------------------------------------------------------------


@attrs.frozen
class _Span:
    start: int
    end: int


def _offsets(text: str) -> list[int]:
    out = [0]
    for line in text.splitlines(keepends=True):
        out.append(out[-1] + len(line))
    return out


def _span(node: yaml.Node, offs: Sequence[int]) -> _Span:
    return _Span(offs[node.start_mark.line] + node.start_mark.column,
                 offs[node.end_mark.line] + node.end_mark.column)


def _find_mapping(root: yaml.Node | None, line: int | None, col: int | None) -> yaml.MappingNode:
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            if node.start_mark.line + 1 == line and node.start_mark.column + 1 == col:
                return node
            stack.extend(v for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    raise RuleLoadError(f"cannot find the YAML node at line {line}, column {col}")


def _get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            found: yaml.Node = v
            return found
    return None


def _scalar_yaml(v: Any) -> str:
    """A value as YAML flow text (strings quoted only when YAML would misread them)."""
    if isinstance(v, str):
        dumped = yaml.safe_dump(str(v), default_flow_style=True, allow_unicode=True, width=10_000)
        dumped = dumped.removesuffix("\n...\n").strip()
        return dumped
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_scalar_yaml(x) for x in v) + "]"
    if isinstance(v, datetime.date):
        return v.isoformat()
    return repr(v)


def _same_test(a: UnaryTest, b: UnaryTest) -> bool:
    return attrs.evolve(a, text="") == attrs.evolve(b, text="")


def _rewrite_table(text: str, rule: Rule, table: Table,
                   new_rows: Sequence[tuple[list[Any], list[Any], list[UnaryTest],
                                            list[n.Node]]],
                   new_default: list[Any] | None, policy: list[str],
                   rewrite_all: bool = False) -> str:
    root = yaml.compose(text)
    offs = _offsets(text)
    rnode = _find_mapping(root, rule.location.line, rule.location.column)
    tnode = _get(rnode, "table")
    assert isinstance(tnode, yaml.MappingNode)
    rows_node = _get(tnode, "rows")
    assert isinstance(rows_node, yaml.SequenceNode)
    edits: list[tuple[_Span, str]] = []
    # hit policy
    pol_node = _get(tnode, "hit_policy")
    if policy and pol_node is not None and policy[0] != table.hit_policy:
        edits.append((_span(pol_node, offs), policy[0]))
    old_nodes = list(rows_node.value)
    single_line = all(r.start_mark.line == r.end_mark.line or
                      (isinstance(r, yaml.MappingNode) and r.flow_style) for r in old_nodes)
    row_texts: list[str] = []
    changed_rows = len(new_rows) != len(old_nodes)
    for i, (cells, outs, tests, parsed) in enumerate(new_rows):
        old = table.rows[i] if i < len(table.rows) else None
        same = (not rewrite_all and old is not None and len(old.tests) == len(tests)
                and all(_same_test(a, b) for a, b in zip(old.tests, tests, strict=True))
                and tuple(parsed) == old.outputs)
        if same and i < len(old_nodes):
            sp = _span(old_nodes[i], offs)
            row_texts.append(text[sp.start:sp.end])
            continue
        changed_rows = True
        row_texts.append(_row_yaml(cells, outs, table, None if rewrite_all else old, tests,
                                   old_nodes[i] if i < len(old_nodes) else None, text, offs))
    if changed_rows:
        if not old_nodes or not single_line:
            raise RuleLoadError(f"table '{rule.id}': rows written over several lines cannot be "
                                f"rewritten in place; write each row as one line "
                                f"('- {{when: [...], then: ...}}')", rule.location)
        first, last = old_nodes[0], old_nodes[-1]
        indent = " " * first.start_mark.column
        start = offs[first.start_mark.line] + first.start_mark.column
        end = offs[last.end_mark.line] + last.end_mark.column
        sep = "\n" + indent[:-2] + "- "
        edits.append((_Span(start, end), sep.join(row_texts) if row_texts else "[]"))
    # default
    dnode = _get(tnode, "default")
    if new_default is not None:
        parsed_default = tuple(parse_output(_as_source(v), rule.location) for v in new_default)
        if parsed_default != (table.default or ()):
            value = _output_yaml(new_default, table)
            if dnode is not None:
                edits.append((_span(dnode, offs), value))
            else:
                end = _span(rows_node, offs).end
                edits.append((_Span(end, end), "\n" + " " * tnode.start_mark.column
                              + f"default: {value}"))
    elif dnode is not None:
        raise RuleLoadError(f"table '{rule.id}': the workbook has no default row; delete the "
                            f"default in the YAML if that is meant", rule.location)
    return _apply(text, edits)


def _row_yaml(cells: list[Any], outs: list[Any], table: Table, old: Any,
              tests: list[UnaryTest], old_node: yaml.Node | None, text: str,
              offs: Sequence[int]) -> str:
    """A changed row as one flow mapping; cells that did not change keep their text."""
    old_cells: list[str] = []
    if isinstance(old_node, yaml.MappingNode):
        when = _get(old_node, "when")
        if isinstance(when, yaml.SequenceNode):
            for c in when.value:
                sp = _span(c, offs)
                old_cells.append(text[sp.start:sp.end])
    parts = []
    for j, (cell, test) in enumerate(zip(cells, tests, strict=True)):
        if old is not None and j < len(old.tests) and j < len(old_cells) and \
                _same_test(old.tests[j], test):
            parts.append(old_cells[j])
        else:
            parts.append(_scalar_yaml(cell if cell is not None else "-"))
    return f"{{when: [{', '.join(parts)}], then: {_output_yaml(outs, table)}}}"


def _output_yaml(outs: list[Any], table: Table) -> str:
    vals = [_scalar_yaml(o) for o in outs]
    if len(table.outputs) == 1:
        return vals[0]
    return "{" + ", ".join(f"{o.name}: {v}" for o, v in zip(table.outputs, vals,
                                                             strict=True)) + "}"


def _apply(text: str, edits: Sequence[tuple[_Span, str]]) -> str:
    for sp, new in sorted(edits, key=lambda e: e[0].start, reverse=True):
        text = text[:sp.start] + new + text[sp.end:]
    return text


# -- parameters -------------------------------------------------------------------------------


def _import_parameter(ws: Any, book: str, p: Parameter, text: str, rewrite_all: bool) -> str:
    date_row, value_row = _HEADER_ROWS + 2, _HEADER_ROWS + 3
    errors: list[LocatedError] = []
    values: dict[datetime.date, Any] = {}
    for c in range(2, ws.max_column + 1):
        raw_d, raw_v = ws.cell(date_row, c).value, ws.cell(value_row, c).value
        if raw_d is None and raw_v is None:
            continue
        where = Location(f"{book}: {_cell_ref(ws.title, date_row, c)}")
        try:
            d = raw_d.date() if isinstance(raw_d, datetime.datetime) else (
                raw_d if isinstance(raw_d, datetime.date)
                else parse_iso_date(_text(raw_d).strip()))
        except ValueError:
            errors.append(SpreadsheetError(f"cannot read {raw_d!r} as a date YYYY-MM-DD",
                                           where))
            continue
        if d in values:
            errors.append(SpreadsheetError(f"the date {d} appears twice", where))
            continue
        vwhere = Location(f"{book}: {_cell_ref(ws.title, value_row, c)}")
        try:
            values[d] = _param_value(_cell_value(raw_v), p)
        except ValueError as exc:
            errors.append(SpreadsheetError(str(exc), vwhere))
    if errors:
        raise ErrorGroup(errors, f"{book}: cells that do not parse")
    if tuple(sorted(values.items())) == p.values and not rewrite_all:
        return text
    root = yaml.compose(text)
    offs = _offsets(text)
    pnode = _find_mapping(root, p.location.line, p.location.column)
    vnode = _get(pnode, "values")
    assert isinstance(vnode, yaml.MappingNode)
    old = {}
    for k, v in vnode.value:
        sp = _Span(_span(k, offs).start, _span(v, offs).end)
        old[str(k.value)] = (text[sp.start:sp.end], yaml.safe_load(text[_span(v, offs).start:
                                                                          _span(v, offs).end]))
    if vnode.flow_style or not vnode.value:
        body = "{" + ", ".join(f"{d.isoformat()}: {_scalar_yaml(v)}"
                                for d, v in sorted(values.items())) + "}"
        sp = _span(vnode, offs)
        return _apply(text, [(sp, body)])
    indent = " " * vnode.value[0][0].start_mark.column
    lines = []
    for d, v in sorted(values.items()):
        prev = old.get(d.isoformat())
        if not rewrite_all and prev is not None and prev[1] == v and \
                type(prev[1]) is type(v):
            lines.append(prev[0])
        else:
            lines.append(f"{d.isoformat()}: {_scalar_yaml(v)}")
    first_k = vnode.value[0][0]
    last_v = vnode.value[-1][1]
    sp = _Span(_span(first_k, offs).start, _span(last_v, offs).end)
    return _apply(text, [(sp, ("\n" + indent).join(lines))])


def _param_value(v: Any, p: Parameter) -> Any:
    if isinstance(v, str):
        s = v.strip()
        if s in ("null", ""):
            return None
        try:
            v = yaml.safe_load(s)
        except yaml.YAMLError:
            raise ValueError(f"cannot read {s!r} as a value") from None
    from . import types as t

    if v is not None and not t.compatible(p.type, t.type_of_value(v)):
        raise ValueError(f"parameter '{p.name}' is {p.type}; found {v!r}")
    return v


def tables_and_parameters(engine: Engine) -> Mapping[str, Rule | Parameter]:
    """Every decision table and parameter of ``engine`` by name (what ``table export`` takes)."""
    out: dict[str, Rule | Parameter] = {}
    for rid, versions in engine.rules.items():
        if len(versions) == 1 and versions[0].kind == "table" and versions[0].parent is None:
            out[rid] = versions[0]
    out.update(engine.parameters)
    return out
