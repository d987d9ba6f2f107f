"""Static analysis of rule files with DMN semantics over the declared input domains.

``lint(engine)`` looks at a loaded, type-checked engine and reports what the type checker
cannot see, each finding located ``file:line:column`` with a severity:

* decision tables — rows that overlap under UNIQUE (or ANY with different outputs), with the
  input region where they do; gaps (known inputs no row covers and no default) under every hit
  policy; rows that can never match, or never fire because earlier rows (FIRST) or rows of higher
  priority (PRIORITY) always win; declared output values no row produces;
* ladders — levels no record can reach (contradictory or impossible criteria);
* conditions — criteria that are always true or always false over the declared domains;
  ``at_least N`` with fewer than N criteria;
* parameters — holes in the dated values during the effective range of a rule that reads them,
  values outside their unit (money below zero, a decile outside 1–10, ...) or outside the
  declared range of the field they are compared with, parameters nothing reads, overrides that
  change nothing;
* titles and messages that hard-code a number equal to a parameter the rule reads.

The input domains come from the schema: enums list their values, booleans are true/false,
numbers are bounded by the fields' ``min``/``max``. A table input that is an expression gets the
domain of its type; a rule's output gets the declared values of that rule (a table's outputs, a
ladder's levels). Cells compared with anything but constants and parameters are not analysed
(an ``info`` finding says so). Every analysis runs once per period in which the parameters a rule
reads keep their values, so a finding names the date from which it holds when it does not hold
throughout. Missing values are not part of the domains: a missing input makes a decision
unknown, which is the engine's business, not a gap of the table.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from . import types as t
from ._yaml import Positions, load_yaml_file
from .errors import LocatedError, Location
from .expr import nodes as n
from .expr.check import Checker, Env
from .formatting import number
from .loading import load_parameter_files
from .model import Parameter, Rule, Table, UnaryTest
from .schema import Origin

if TYPE_CHECKING:
    from .engine import Engine

SEVERITIES = ("error", "warning", "info")
#: Tables whose input domain has more combinations than this are not enumerated.
MAX_COMBINATIONS = 200_000
_MAX_REGIONS_SHOWN = 3


@attrs.frozen
class LintFinding:
    """One thing lint found: what (``code``), how bad (``severity``), where and about what."""

    code: str
    severity: str
    message: str
    location: Location
    rule: str | None = None
    parameter: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data (``file``, ``line``, ``column`` separate)."""
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "file": self.location.file, "line": self.location.line,
                "column": self.location.column, "rule": self.rule,
                "parameter": self.parameter}


# ---------------------------------------------------------------------------------------------
# Domains: each dimension is cut into atoms on which every unary test is constant.


class _Other:
    """A text value none of the table's cells mentions."""

    def __repr__(self) -> str:
        return "<other>"


OTHER = _Other()


@attrs.frozen
class Atom:
    """A piece of an input domain: one value, or an open interval ``(lo, hi)`` of numbers."""

    kind: str  # "value" | "interval"
    rep: Any  # a representative value (what tests are evaluated on)
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    label: str = ""


@attrs.frozen
class Dimension:
    """The domain of one table input (or one field), cut into atoms."""

    name: str
    atoms: tuple[Atom, ...]
    numeric: bool = False
    to_num: Callable[[Any], Any] = attrs.field(default=lambda v: v, eq=False)

    def describe(self, picked: Iterable[int]) -> str:
        """The atoms ``picked`` as a short text: ``age in [6..21]``, ``toilet = none``."""
        idx = sorted(set(picked))
        if len(idx) == len(self.atoms):
            return f"{self.name} any"
        if not self.numeric:
            vals = [self.atoms[i].label for i in idx]
            return (f"{self.name} = {vals[0]}" if len(vals) == 1
                    else f"{self.name} in {{{', '.join(vals)}}}")
        if len(idx) == 1 and self.atoms[idx[0]].kind == "value":
            return f"{self.name} = {self.atoms[idx[0]].label}"
        parts = []
        for run in _runs(idx):
            first, last = self.atoms[run[0]], self.atoms[run[-1]]
            parts.append(_interval_text(first, last))
        return f"{self.name} in " + " or ".join(parts)


def _runs(idx: Sequence[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in idx:
        if out and out[-1][-1] == i - 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _fmt_num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _interval_text(first: Atom, last: Atom) -> str:
    if first.kind == "value" and first is last:
        return first.label
    if first.kind == "value":
        lo = f"[{first.label}"
    elif first.lo is None:
        lo = "(-inf"
    elif first.integer:
        lo = f"[{_fmt_num(math.floor(first.lo) + 1)}"
    else:
        lo = f"({_fmt_num(first.lo)}"
    if last.kind == "value":
        hi = f"{last.label}]"
    elif last.hi is None:
        hi = "inf)"
    elif last.integer:
        hi = f"{_fmt_num(math.ceil(last.hi) - 1)}]"
    else:
        hi = f"{_fmt_num(last.hi)})"
    return f"{lo}..{hi}"


def numeric_dimension(name: str, boundaries: Iterable[float], *, integer: bool,
                      lo: float | None = None, hi: float | None = None,
                      show: Callable[[Any], str] = _fmt_num,
                      to_num: Callable[[Any], Any] = lambda v: v) -> Dimension:
    """Cut a numeric domain ``[lo, hi]`` (open ends: ``None``) at ``boundaries``."""
    pts = sorted({float(b) for b in boundaries
                  if (lo is None or b >= lo) and (hi is None or b <= hi)})
    if lo is not None and (not pts or pts[0] != lo):
        pts.insert(0, float(lo))
    if hi is not None and (not pts or pts[-1] != hi):
        pts.append(float(hi))
    atoms: list[Atom] = []

    def interval(a: float | None, b: float | None) -> None:
        if integer:
            first = math.floor(a) + 1 if a is not None else None
            if a is None and b is not None:
                first = math.ceil(b) - 1
            if first is None:
                first = 0
            if b is not None and first >= b:
                return
            atoms.append(Atom("interval", first, a, b, True))
            return
        if a is None and b is None:
            rep = 0.0
        elif a is None:
            assert b is not None
            rep = b - 1
        elif b is None:
            rep = a + 1
        else:
            rep = (a + b) / 2
        atoms.append(Atom("interval", rep, a, b, False))

    if not pts:
        interval(None, None)
    else:
        if lo is None:
            interval(None, pts[0])
        for i, p in enumerate(pts):
            if not integer or float(p).is_integer():
                v: Any = int(p) if integer else p
                atoms.append(Atom("value", v, label=show(v)))
            if i + 1 < len(pts):
                interval(p, pts[i + 1])
        if hi is None:
            interval(pts[-1], None)
    return Dimension(name, tuple(atoms), numeric=True, to_num=to_num)


def value_dimension(name: str, values: Iterable[Any], *, open_text: bool = False) -> Dimension:
    """A finite domain (enum values, true/false); ``open_text`` adds "any other text"."""
    atoms = [Atom("value", v, label=str(v).lower() if isinstance(v, bool) else str(v))
             for v in dict.fromkeys(values)]
    if open_text:
        atoms.append(Atom("value", OTHER, label="any other text"))
    return Dimension(name, tuple(atoms))


# ---------------------------------------------------------------------------------------------
# Constants: cells and comparisons are analysed when their values are known for a period.


class _NotConstant(Exception):
    pass


def constant(node: n.Node, param: Callable[[str], Any]) -> Any:
    """The value of ``node`` if it only involves literals and parameters.

    Raises:
        _NotConstant: it reads a field, a rule or a function.
    """
    if isinstance(node, n.Literal):
        return node.value
    if isinstance(node, n.Param):
        return param(node.path)
    if isinstance(node, n.ListLit):
        return [constant(i, param) for i in node.items]
    if isinstance(node, n.Unary) and node.op == "neg":
        v = constant(node.operand, param)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return -v
    if isinstance(node, n.BinOp):
        a, b = constant(node.left, param), constant(node.right, param)
        if isinstance(a, int | float) and isinstance(b, int | float) and not (
                node.op in ("/", "//", "%") and b == 0):
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0,
                    "//": a // b if b else 0, "%": a % b if b else 0}[node.op]
    raise _NotConstant


def _cmp(op: str, a: Any, b: Any) -> bool:
    if a is OTHER:
        if op == "==":
            return False
        if op == "!=":
            return True
        raise _NotConstant  # an unnamed text compared by order
    if isinstance(a, datetime.date) and isinstance(b, datetime.date):
        a, b = a.toordinal(), b.toordinal()
    try:
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except TypeError:
        raise _NotConstant from None


def test_matches(test: UnaryTest, value: Any, consts: Mapping[int, Any]) -> bool:
    """Whether a known input ``value`` passes a unary test whose constants are ``consts``
    (``consts[0]`` the value, ``consts[1]`` the high end)."""
    if test.op == "any":
        return True
    v = consts.get(0)
    if test.op == "in":
        ok = value is not OTHER and value in (v or [])
    elif test.op == "range":
        hi = consts.get(1)
        lo_ok = _cmp(">=" if test.low_closed else ">", value, v)
        ok = lo_ok and _cmp("<=" if test.high_closed else "<", value, hi)
    else:
        ok = _cmp(test.op, value, v)
    return not ok if test.negate else ok


def test_constants(test: UnaryTest, param: Callable[[str], Any]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    if test.value is not None:
        out[0] = constant(test.value, param)
    if test.high is not None:
        out[1] = constant(test.high, param)
    return out


def _boundaries(consts: Mapping[int, Any], to_num: Callable[[Any], Any]) -> list[float]:
    out: list[float] = []
    for v in consts.values():
        for x in (v if isinstance(v, list) else [v]):
            num = to_num(x)
            if isinstance(num, int | float) and not isinstance(num, bool):
                out.append(float(num))
    return out


# ---------------------------------------------------------------------------------------------
# The linter


@attrs.define
class _Period:
    start: datetime.date | None
    until: datetime.date | None
    param: Callable[[str], Any]

    def label(self) -> str:
        return f"from {self.start}" if self.start else "before any dated value"


class Linter:
    """Runs every analysis over one engine. Use :func:`lint`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.findings: list[LintFinding] = []
        self._positions: dict[str, tuple[Positions, dict[tuple[int | None, int | None],
                                                          tuple[str | int, ...]]]] = {}
        self.env = Env(engine.schema, {rid: vs[0].entity for rid, vs in engine.rules.items()},
                       dict(engine.rule_types),
                       {k: p.type for k, p in engine.parameters.items()}, engine.functions)

    # -- locations ------------------------------------------------------------------------------

    def _index(self, file: str) -> tuple[Positions, dict[tuple[int | None, int | None],
                                                         tuple[str | int, ...]]] | None:
        if file not in self._positions:
            try:
                data, pos = load_yaml_file(file, cache=True)
            except (LocatedError, OSError):
                return None
            paths: dict[tuple[int | None, int | None], tuple[str | int, ...]] = {}

            def walk(node: Any, path: tuple[str | int, ...]) -> None:
                loc = pos.get(path)
                paths.setdefault((loc.line, loc.column), path)
                if isinstance(node, Mapping):
                    for k, v in node.items():
                        walk(v, (*path, str(k)))
                elif isinstance(node, list):
                    for i, v in enumerate(node):
                        walk(v, (*path, i))

            walk(data, ())
            self._positions[file] = (pos, paths)
        return self._positions[file]

    def at(self, loc: Location, *sub: str | int) -> Location:
        """The location of a key below the YAML node at ``loc`` (``loc`` when unknown)."""
        if not sub or not loc.file:
            return loc
        idx = self._index(loc.file)
        if idx is None:
            return loc
        pos, paths = idx
        base = paths.get((loc.line, loc.column))
        if base is None:
            return loc
        return pos.get((*base, *sub))

    def add(self, code: str, severity: str, message: str, location: Location,
            rule: str | None = None, parameter: str | None = None) -> None:
        f = LintFinding(code, severity, message, location, rule, parameter)
        if f not in self.findings:
            self.findings.append(f)

    # -- parameters over time ------------------------------------------------------------------

    def periods(self, rule: Rule, params: Iterable[str]) -> list[_Period]:
        """The periods of ``rule``'s life in which the parameters it reads keep their values."""
        start, until = rule.effective_from, rule.effective_until
        cuts: set[datetime.date] = set()
        plist = [self.engine.parameters[p] for p in params if p in self.engine.parameters]
        for p in plist:
            for d, _ in p.values:
                if d != datetime.date.min and (start is None or d > start) and (
                        until is None or d < until):
                    cuts.add(d)
        starts: list[datetime.date | None] = [start, *sorted(cuts)]
        out = []
        for i, s in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else until
            when = s if s is not None else (min(cuts) - datetime.timedelta(days=1)
                                            if cuts else datetime.date.max)

            def param(name: str, when: datetime.date = when) -> Any:
                p = self.engine.parameters[name]
                try:
                    return p.at(when)[0]
                except LookupError:
                    raise _NotConstant from None

            out.append(_Period(s, end, param))
        return out

    def rule_params(self, rule: Rule) -> set[str]:
        return set(self.engine.rule_refs(rule).params)

    # -- domains -------------------------------------------------------------------------------

    def type_of(self, node: n.Node, entity: str) -> t.Type:
        try:
            return Checker(self.env, entity).check(node)
        except LocatedError:
            return t.ANY

    def dimension(self, name: str, node: n.Node, entity: str,
                  consts: Sequence[dict[int, Any]]) -> Dimension | None:
        """The domain of a table input (``None``: not enumerable)."""
        ty = self.type_of(node, entity)
        lo: float | None = None
        hi: float | None = None
        if isinstance(node, n.Name):
            fld = self.engine.schema.entity(entity).fields.get(node.id)
            if fld is not None:  # numeric bounds (a date field's are dates, not used here)
                lo = fld.min if isinstance(fld.min, int | float) else None
                hi = fld.max if isinstance(fld.max, int | float) else None
            elif node.id in self.engine.rules:
                ty = self._rule_domain_type(node.id, ty)
        if ty.kind == "bool":
            return value_dimension(name, (True, False))
        if ty.kind == "enum":
            return value_dimension(name, ty.values)
        if ty.kind in ("int", "decimal"):
            bounds = [b for c in consts for b in _boundaries(c, lambda v: v)]
            return numeric_dimension(name, bounds, integer=ty.kind == "int", lo=lo, hi=hi)
        if ty.kind == "date":
            def to_num(v: Any) -> Any:
                return v.toordinal() if isinstance(v, datetime.date) else v

            bounds = [b for c in consts for b in _boundaries(c, to_num)]
            return numeric_dimension(
                name, bounds, integer=True,
                show=lambda v: datetime.date.fromordinal(int(v)).isoformat(), to_num=to_num)
        if ty.kind == "str":
            mentioned = []
            for c in consts:
                for v in c.values():
                    mentioned.extend(v if isinstance(v, list) else [v])
            return value_dimension(name, [m for m in mentioned if isinstance(m, str)],
                                   open_text=True)
        return None

    def _rule_domain_type(self, rid: str, ty: t.Type) -> t.Type:
        rule = self.engine.rules[rid][-1]
        if rule.kind == "table" and rule.table is not None and len(rule.table.outputs) == 1 \
                and rule.table.outputs[0].values:
            return t.enum(tuple(str(v) for v in rule.table.outputs[0].values))
        return ty

    # -- decision tables -----------------------------------------------------------------------

    def tables(self, rule: Rule) -> None:
        table = rule.table
        assert table is not None
        params = self.rule_params(rule)
        per_period: dict[LintFinding, list[_Period]] = {}
        periods = [p for p in self.periods(rule, params) if self._defined(p, params)]
        for period in periods:
            before = len(self.findings)
            self.table_once(rule, table, period)
            new = self.findings[before:]
            del self.findings[before:]
            for f in new:
                per_period.setdefault(f, []).append(period)
        for f, ps in per_period.items():
            if len(ps) < len(periods):
                f = attrs.evolve(f, message=f"{f.message} (with the parameter values in force "
                                            f"{ps[0].label()})")
            self.add(f.code, f.severity, f.message, f.location, f.rule, f.parameter)

    def table_once(self, rule: Rule, table: Table, period: _Period) -> None:
        rid = rule.id
        try:
            consts = [[test_constants(test, period.param) for test in row.tests]
                      for row in table.rows]
        except _NotConstant:
            self.add("table-not-analysed", "info",
                     f"table '{rid}': a cell compares with a field or a rule, not a constant "
                     f"or a parameter, so overlaps and gaps are not analysed",
                     rule.location, rid)
            return
        dims: list[Dimension] = []
        for j, (name, node) in enumerate(zip(table.input_names, table.inputs, strict=True)):
            d = self.dimension(name, node, rule.entity, [c[j] for c in consts])
            if d is None:
                self.add("table-not-analysed", "info",
                         f"table '{rid}': input '{name}' has no enumerable domain "
                         f"({self.type_of(node, rule.entity)}), so overlaps and gaps are not "
                         f"analysed", rule.location, rid)
                return
            dims.append(d)
        try:
            result = analyse_table(table, dims, consts)
        except _NotConstant:
            self.add("table-not-analysed", "info",
                     f"table '{rid}': a cell compares text by order, so overlaps and gaps are "
                     f"not analysed", rule.location, rid)
            return
        if result is None:
            self.add("table-not-analysed", "info",
                     f"table '{rid}': more than {number(MAX_COMBINATIONS)} input combinations, not "
                     f"enumerated", rule.location, rid)
            return
        self.report_table(rule, table, dims, result)

    def report_table(self, rule: Rule, table: Table, dims: Sequence[Dimension],
                     res: TableAnalysis) -> None:
        rid = rule.id
        policy = table.hit_policy

        def where(regions: Sequence[tuple[frozenset[int], ...]]) -> str:
            shown = ["; ".join(d.describe(r[k]) for k, d in enumerate(dims)
                               if len(r[k]) < len(d.atoms)) or "every input"
                     for r in regions[:_MAX_REGIONS_SHOWN]]
            more = len(regions) - _MAX_REGIONS_SHOWN
            return " | ".join(shown) + (f" (and {more} more region(s))" if more > 0 else "")

        for (i, j), pts in sorted(res.overlaps.items()):
            why = "both match" if policy == "unique" else "both match with different outputs"
            self.add("table-overlap", "error",
                     f"table '{rid}' (hit policy {policy}): rows {i + 1} and {j + 1} {why} "
                     f"where {where(merge_regions(pts, dims))}",
                     table.rows[j].location, rid)
        if res.gaps and table.default is None:
            severity = "info" if table.returns_list or table.aggregation == "count" \
                else "warning"
            self.add("table-gap", severity,
                     f"table '{rid}' (hit policy {policy}): no row matches "
                     f"{where(merge_regions(res.gaps, dims))}, and there is no default",
                     self.at(rule.location, "table", "rows"), rid)
        for i, row in enumerate(table.rows):
            empty = [k for k in range(len(dims)) if not res.row_atoms[i][k]]
            if empty:
                k = empty[0]
                self.add("table-row-never-matches", "warning",
                         f"table '{rid}' row {i + 1}: cell '{row.tests[k].text}' matches no "
                         f"value of {dims[k].name}", self.at(row.location, "when", k), rid)
            elif i not in res.fired:
                by = sorted(res.shadowed_by.get(i, ()))
                who = ", ".join(str(b + 1) for b in by)
                why = ("earlier rows match first" if policy == "first"
                       else "rows of higher priority match too")
                self.add("table-row-never-fires", "warning",
                         f"table '{rid}' row {i + 1} can never fire (hit policy {policy}): "
                         f"{why} wherever it matches (row(s) {who})", row.location, rid)
        if len(table.outputs) == 1 and table.outputs[0].values and res.outputs_known:
            produced = set(res.produced)
            if res.gaps and table.default is not None:
                produced |= {_literal(table.default[0])}
            missing = [v for v in table.outputs[0].values if v not in produced]
            if missing:
                self.add("table-output-never-produced", "warning",
                         f"table '{rid}': declared output value(s) "
                         f"{', '.join(map(str, missing))} are never produced",
                         self.at(rule.location, "table", "outputs"), rid)

    # -- conditions and ladders ----------------------------------------------------------------

    def abstract(self, node: n.Node, entity: str, period: _Period,
                 depth: int = 0) -> frozenset[bool]:
        """The values a boolean expression can take for known inputs (a subset of {T, F})."""
        both = frozenset((True, False))
        if depth > 20:
            return both
        if isinstance(node, n.Literal) and isinstance(node.value, bool):
            return frozenset((node.value,))
        if isinstance(node, n.BoolOp):
            parts = [self.abstract(v, entity, period, depth + 1) for v in node.values]
            if node.op == "and":
                can_t = all(True in p for p in parts)
                can_f = any(False in p for p in parts)
            else:
                can_t = any(True in p for p in parts)
                can_f = all(False in p for p in parts)
            return frozenset(v for v, ok in ((True, can_t), (False, can_f)) if ok)
        if isinstance(node, n.Unary) and node.op == "not":
            return frozenset(not v for v in self.abstract(node.operand, entity, period,
                                                          depth + 1))
        if isinstance(node, n.Name) and node.id in self.engine.rules:
            rule = self.engine.rules[node.id][-1]
            if rule.kind == "condition" and len(self.engine.rules[node.id]) == 1:
                return self.condition_values(rule, period, depth + 1)
            return both
        atom = self.atomic(node, entity, period)
        if atom is None:
            return both
        dim, test, consts = atom
        try:
            vals = {test_matches(test, a.rep, consts) for a in dim.atoms}
        except _NotConstant:
            return both
        return frozenset(vals)

    def atomic(self, node: n.Node, entity: str, period: _Period
               ) -> tuple[Dimension, UnaryTest, dict[int, Any]] | None:
        """``field op constant`` (or a boolean field) as a dimension and a unary test."""
        ops = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
               "in": "in", "notin": "in"}
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
        field: n.Node | None = None
        value: n.Node = n.Literal(True)
        op = "=="
        if isinstance(node, n.Name):
            field, op, value = node, "==", n.Literal(True)
        elif isinstance(node, n.Compare) and node.op in ops:
            if isinstance(node.left, n.Name):
                field, op, value = node.left, ops[node.op], node.right
            elif isinstance(node.right, n.Name) and node.op in flip:
                field, op, value = node.right, flip[node.op], node.left
        if field is None or not isinstance(field, n.Name):
            return None
        fld = self.engine.schema.entity(entity).fields.get(field.id)
        if fld is None:
            return None
        try:
            c = constant(value, period.param)
        except _NotConstant:
            return None
        test = UnaryTest(op, value, negate=isinstance(node, n.Compare) and node.op == "notin")
        consts = {0: c}
        dim = self.dimension(field.id, field, entity, [consts])
        if dim is None:
            return None
        return dim, test, consts

    def condition_values(self, rule: Rule, period: _Period, depth: int = 0
                         ) -> frozenset[bool]:
        both = frozenset((True, False))
        if depth > 20:
            return both
        if rule.mode == "when" and rule.expr is not None:
            return self.abstract(rule.expr, rule.entity, period, depth + 1)
        kids = [self.child_values(c, period, depth + 1) for c in rule.children]
        if rule.mode == "all":
            return self._combine(kids, all_=True)
        if rule.mode == "any":
            return self._combine(kids, all_=False)
        if rule.mode == "not" and kids:
            return frozenset(not v for v in kids[0])
        if rule.mode == "at_least" and rule.at_least is not None:
            try:
                need = constant(rule.at_least, period.param)
            except _NotConstant:
                return both
            if not isinstance(need, int):
                return both
            sure = sum(1 for k in kids if k == {True})
            possible = sum(1 for k in kids if True in k)
            out = set()
            if possible >= need:
                out.add(True)
            if sure < need:
                out.add(False)
            return frozenset(out)
        return both

    @staticmethod
    def _combine(kids: Sequence[frozenset[bool]], *, all_: bool) -> frozenset[bool]:
        if all_:
            can_t = all(True in k for k in kids)
            can_f = any(False in k for k in kids)
        else:
            can_t = any(True in k for k in kids)
            can_f = all(False in k for k in kids) if kids else True
        return frozenset(v for v, ok in ((True, can_t), (False, can_f)) if ok)

    def child_values(self, rid: str, period: _Period, depth: int) -> frozenset[bool]:
        versions = self.engine.rules.get(rid)
        if not versions or len(versions) != 1:
            return frozenset((True, False))
        return self.condition_values(versions[0], period, depth)

    def conjuncts(self, rid: str, depth: int = 0) -> list[tuple[str, n.Node]]:
        """The conditions that must all hold for rule ``rid`` (entity, expression)."""
        versions = self.engine.rules.get(rid)
        if not versions or len(versions) != 1 or depth > 20:
            return []
        rule = versions[0]
        if rule.kind != "condition":
            return []
        if rule.mode == "all":
            return [c for k in rule.children for c in self.conjuncts(k, depth + 1)]
        if rule.mode == "when" and rule.expr is not None:
            out: list[tuple[str, n.Node]] = []
            stack = [rule.expr]
            while stack:
                e = stack.pop()
                if isinstance(e, n.BoolOp) and e.op == "and":
                    stack.extend(e.values)
                elif isinstance(e, n.Name) and e.id in self.engine.rules:
                    inner = self.conjuncts(e.id, depth + 1)
                    out.extend(inner or [(rule.entity, e)])
                else:
                    out.append((rule.entity, e))
            return out
        return []

    def satisfiable(self, conjuncts: Sequence[tuple[str, n.Node]], period: _Period
                    ) -> tuple[bool, str]:
        """Whether the conjunction can hold: each field's remaining values are intersected."""
        atoms_by_field: dict[tuple[str, str], list[tuple[UnaryTest, dict[int, Any], str]]] = {}
        for entity, e in conjuncts:
            if self.abstract(e, entity, period) == {False}:
                return False, f"'{n.to_source(e)}' is always false"
            atom = self.atomic(e, entity, period)
            if atom is None:
                continue
            dim, test, consts = atom
            atoms_by_field.setdefault((entity, dim.name), []).append(
                (test, consts, n.to_source(e)))
        for (entity, name), tests in atoms_by_field.items():
            # one dimension cut at every constant of every comparison on this field
            base = self.dimension(name, n.Name(name), entity,
                                  [{0: v} for _, c, _s in tests for v in c.values()])
            if base is None:
                continue
            ok = set(range(len(base.atoms)))
            for test, consts, _src in tests:
                with contextlib.suppress(_NotConstant):
                    ok &= {i for i, a in enumerate(base.atoms)
                           if test_matches(test, a.rep, consts)}
            if not ok:
                fld = self.engine.schema.entity(entity).fields[name]
                srcs = " and ".join(s for _, _, s in tests)
                rng = f" ({fld.min}..{fld.max})" if fld.min is not None or \
                    fld.max is not None else ""
                return False, f"no value of {name}{rng} satisfies {srcs}"
        return True, ""

    def ladder(self, rule: Rule) -> None:
        so_far: list[tuple[str, n.Node]] = []
        params: set[str] = set()
        for lv in rule.levels:
            if lv.rule:
                params |= self._deep_params(lv.rule)
        blocked: str | None = None
        for i, lv in enumerate(rule.levels):
            if lv.rule:
                so_far.extend(self.conjuncts(lv.rule))
            loc = self.at(rule.location, "ladder", i)
            if blocked is not None:
                self.add("ladder-level-unreachable", "error",
                         f"ladder '{rule.id}': level '{lv.name}' can never be reached: the "
                         f"level '{blocked}' below it cannot", loc, rule.id)
                continue
            for period in self.periods(rule, params):
                ok, why = self.satisfiable(so_far, period)
                if not ok:
                    blocked = lv.name
                    self.add("ladder-level-unreachable", "error",
                             f"ladder '{rule.id}': level '{lv.name}' can never be reached: "
                             f"{why}", loc, rule.id)
                    break

    def _deep_params(self, rid: str, depth: int = 0) -> set[str]:
        out: set[str] = set()
        for r in self.engine.rules.get(rid, ()):
            out |= self.rule_params(r)
            if depth < 20:
                for c in r.children:
                    out |= self._deep_params(c, depth + 1)
        return out

    def condition(self, rule: Rule) -> None:
        if rule.kind != "condition":
            return
        if rule.mode == "at_least" and rule.at_least is not None:
            for period in self.periods(rule, self.rule_params(rule)):
                try:
                    need = constant(rule.at_least, period.param)
                except _NotConstant:
                    continue
                if isinstance(need, int) and need > len(rule.children):
                    self.add("at-least-too-many", "error",
                             f"rule '{rule.id}': at_least {need} of {len(rule.children)} "
                             f"criteria can never hold", self.at(rule.location, "at_least"),
                             rule.id)
                    break
                if isinstance(need, int) and need <= 0:
                    self.add("condition-always-true", "warning",
                             f"rule '{rule.id}': at_least {need} always holds",
                             self.at(rule.location, "at_least"), rule.id)
                    break
            return
        if rule.mode != "when" or rule.expr is None or isinstance(rule.expr, n.Literal):
            return
        params = self.rule_params(rule)
        verdicts = []
        for period in self.periods(rule, params):
            if not self._defined(period, params):
                continue  # before the parameters' first values: evaluating fails anyway
            vals = self.abstract(rule.expr, rule.entity, period)
            verdicts.append((period, next(iter(vals)) if len(vals) == 1 else None))
        for period, value in verdicts:
            if value is None:
                continue
            what = "true" if value else "false"
            when = "" if all(v == value for _, v in verdicts) else \
                f" (with the parameter values in force {period.label()})"
            self.add(f"condition-always-{what}", "warning",
                     f"criterion '{rule.id}' is always {what} for every known input: "
                     f"{n.to_source(rule.expr)}{when}",
                     self.at(rule.location, "when") if not rule.hidden else rule.location,
                     rule.id)
            break

    @staticmethod
    def _defined(period: _Period, params: Iterable[str]) -> bool:
        try:
            for p in params:
                period.param(p)
        except _NotConstant:
            return False
        return True

    # -- parameters ----------------------------------------------------------------------------

    def parameter_holes(self, rule: Rule) -> None:
        for name in sorted(self.rule_params(rule)):
            p = self.engine.parameters.get(name)
            if p is None or p.optional:
                continue
            for lo, hi in holes(p, rule.effective_from, rule.effective_until):
                if lo is None:
                    self.add("parameter-hole", "info",
                             f"rule '{rule.id}' has no effective start, but parameter "
                             f"'{name}' has no value before {hi}: evaluating it earlier "
                             f"fails", rule.location, rule.id, name)
                else:
                    span = f"from {lo} until {hi}" if hi is not None else f"from {lo}"
                    self.add("parameter-hole", "error",
                             f"parameter '{name}' has no value {span}, while rule "
                             f"'{rule.id}' that reads it is in force", rule.location,
                             rule.id, name)

    def parameter_units(self, p: Parameter) -> None:
        rng = unit_range(p.unit)
        if rng is None:
            return
        lo, hi, integer = rng
        for d, v in p.values:
            for x in (v if isinstance(v, list) else [v]):
                if x is None or isinstance(x, bool) or not isinstance(x, int | float):
                    continue
                bad = (lo is not None and x < lo) or (hi is not None and x > hi) or (
                    integer and isinstance(x, float) and not x.is_integer())
                if bad:
                    want = "a whole number" if integer else "a number"
                    limits = (f" from {lo}" if lo is not None else "") + (
                        f" to {hi}" if hi is not None else "")
                    self.add("parameter-out-of-range", "error",
                             f"parameter '{p.name}' ({p.unit}): the value {x} on {d} is not "
                             f"{want}{limits}", self.at(p.location, "values", str(d)),
                             parameter=p.name)

    def parameter_field_ranges(self) -> None:
        """A parameter compared with a field must lie within that field's declared range."""
        seen: set[tuple[str, str]] = set()
        for versions in self.engine.rules.values():
            for rule in versions:
                for node in _nodes_of(rule):
                    for e in n.walk(node):
                        if not isinstance(e, n.Compare):
                            continue
                        pairs = [(e.left, e.right), (e.right, e.left)]
                        for f, pnode in pairs:
                            if not (isinstance(f, n.Name) and isinstance(pnode, n.Param)):
                                continue
                            fld = self.engine.schema.entities[rule.entity].fields.get(f.id) \
                                if rule.entity in self.engine.schema.entities else None
                            p = self.engine.parameters.get(pnode.path)
                            if fld is None or p is None or not (
                                    isinstance(fld.min, int | float)
                                    or isinstance(fld.max, int | float)):
                                continue
                            if (f.id, p.name) in seen:
                                continue
                            seen.add((f.id, p.name))
                            for d, v in p.values:
                                if isinstance(v, int | float) and not isinstance(v, bool) and (
                                        (isinstance(fld.min, int | float) and v < fld.min) or
                                        (isinstance(fld.max, int | float) and v > fld.max)):
                                    self.add("parameter-out-of-range", "warning",
                                             f"parameter '{p.name}': the value {v} on {d} is "
                                             f"outside the range of {f.id} "
                                             f"({fld.min}..{fld.max}) it is compared with",
                                             p.location, rule.id, p.name)

    def unread_parameters(self, names: Iterable[str]) -> None:
        read: set[str] = set()
        for versions in self.engine.rules.values():
            for r in versions:
                read |= self.rule_params(r)
                for text in _texts(r):
                    read |= set(_PARAM_PLACEHOLDER.findall(text))
        code = _python_sources(self.engine)
        for name in names:
            if name not in read and name not in code:
                p = self.engine.parameters[name]
                self.add("parameter-unread", "warning",
                         f"parameter '{name}' is not read by any rule", p.location,
                         parameter=name)

    def overrides(self, layers: Sequence[Parameter]) -> None:
        """Overrides that give the same values as the layer they replace."""
        previous: dict[str, Parameter] = {}
        for p in layers:
            old = previous.get(p.name)
            if old is not None and p.overrides and _same_values(old, p):
                self.add("override-changes-nothing", "warning",
                         f"parameter '{p.name}' overrides {old.origin} with the same values",
                         p.location, parameter=p.name)
            previous[p.name] = p

    # -- texts ---------------------------------------------------------------------------------

    def hard_coded_numbers(self, rule: Rule) -> None:
        values: dict[float, str] = {}
        for name in sorted(self.rule_params(rule)):
            p = self.engine.parameters.get(name)
            if p is None:
                continue
            for _, v in p.values:
                for x in (v if isinstance(v, list) else [v]):
                    if isinstance(x, int | float) and not isinstance(x, bool) and x != 0:
                        values.setdefault(float(x), name)
        if not values:
            return
        texts: list[tuple[str, tuple[str | int, ...]]] = [
            (rule.title.id, ("title",)), (rule.title.en, ("title",))]
        if rule.check is not None:
            texts += [(rule.check.message.id, ("message",)),
                      (rule.check.message.en, ("message",))]
        reported: set[str] = set()
        for text, key in texts:
            quoted = set(_PARAM_PLACEHOLDER.findall(text))
            for num in numbers_in(text):
                pname = values.get(num)
                if pname is not None and pname not in reported and pname not in quoted:
                    reported.add(pname)
                    self.add("hard-coded-number", "warning",
                             f"rule '{rule.id}': the text '{text}' writes {_fmt_num(num)}, the "
                             f"value of parameter '{pname}' the rule reads; quote the "
                             f"parameter instead", self.at(rule.location, *key), rule.id, pname)


# ---------------------------------------------------------------------------------------------
# Pure helpers (tested on their own)


@attrs.define
class TableAnalysis:
    """What enumerating a table over its input atoms found (indices are 0-based)."""

    overlaps: dict[tuple[int, int], list[tuple[int, ...]]]
    gaps: list[tuple[int, ...]]
    fired: set[int]
    shadowed_by: dict[int, set[int]]
    row_atoms: list[list[set[int]]]
    produced: list[Any]
    outputs_known: bool


def _literal(node: n.Node) -> Any:
    if isinstance(node, n.Literal):
        return node.value
    raise _NotConstant


def analyse_table(table: Table, dims: Sequence[Dimension],
                  consts: Sequence[Sequence[Mapping[int, Any]]]) -> TableAnalysis | None:
    """Enumerate ``table`` over the atoms of ``dims``; ``None`` when there are too many.

    Raises:
        _NotConstant: a test cannot be evaluated on an atom (text compared by order).
    """
    row_atoms = [[{a for a, atom in enumerate(d.atoms)
                   if test_matches(row.tests[k], atom.rep, consts[i][k])}
                  for k, d in enumerate(dims)] for i, row in enumerate(table.rows)]
    if math.prod(len(d.atoms) for d in dims) > MAX_COMBINATIONS:
        return None
    try:
        outs = [tuple(_literal(o) for o in row.outputs) for row in table.rows]
        known = True
    except _NotConstant:
        outs = [tuple(n.to_source(o) for o in row.outputs) for row in table.rows]
        known = False
    declared = [list(o.values) for o in table.outputs]

    def rank(i: int) -> tuple[int, ...]:
        return tuple(declared[k].index(v) if v in declared[k] else len(declared[k])
                     for k, v in enumerate(outs[i]))

    res = TableAnalysis({}, [], set(), {}, row_atoms, [], known)
    produced: dict[Any, None] = {}
    policy = table.hit_policy

    def visit(point: tuple[int, ...], rows: list[int]) -> None:
        if policy == "unique" and len(rows) > 1:
            for a, b in itertools.combinations(rows, 2):
                res.overlaps.setdefault((a, b), []).append(point)
        if policy == "any":
            for a, b in itertools.combinations(rows, 2):
                if outs[a] != outs[b]:
                    res.overlaps.setdefault((a, b), []).append(point)
        if policy == "first":
            winners = rows[:1]
        elif policy == "priority" and known:
            winners = [min(rows, key=lambda i: (rank(i), i))]
        elif policy in ("unique", "any"):
            winners = rows[:1] if policy == "any" else rows
        else:
            winners = rows
        for w in winners:
            res.fired.add(w)
            produced.setdefault(outs[w][0] if outs[w] else None)
        for r in rows:
            if r not in winners:
                res.shadowed_by.setdefault(r, set()).update(winners)

    def dfs(k: int, point: tuple[int, ...], rows: list[int]) -> None:
        if not rows:
            rest = [range(len(d.atoms)) for d in dims[k:]]
            res.gaps.extend(point + tail for tail in itertools.product(*rest))
            return
        if k == len(dims):
            visit(point, rows)
            return
        for a in range(len(dims[k].atoms)):
            dfs(k + 1, (*point, a), [r for r in rows if a in row_atoms[r][k]])

    dfs(0, (), list(range(len(table.rows))))
    if policy in ("unique", "any"):
        res.fired = {i for i in range(len(table.rows))
                     if all(row_atoms[i][k] for k in range(len(dims)))}
    res.produced = list(produced)
    return res


def merge_regions(points: Sequence[tuple[int, ...]], dims: Sequence[Dimension]
                  ) -> list[tuple[frozenset[int], ...]]:
    """Group points into boxes: along each dimension, boxes equal elsewhere are merged."""
    regions = {tuple(frozenset((a,)) for a in p) for p in points}
    for k in range(len(dims)):
        grouped: dict[tuple[frozenset[int], ...], set[int]] = {}
        for r in regions:
            key = r[:k] + r[k + 1:]
            grouped.setdefault(key, set()).update(r[k])
        regions = {(*key[:k], frozenset(v), *key[k:]) for key, v in grouped.items()}
    return sorted(regions, key=lambda r: tuple(sorted(x)[0] for x in r))


def holes(p: Parameter, start: datetime.date | None, until: datetime.date | None
          ) -> list[tuple[datetime.date | None, datetime.date | None]]:
    """The spans of ``[start, until)`` in which ``p`` has no value (``None``: an open end)."""
    vals = list(p.values)
    segs = [(d, vals[i + 1][0] if i + 1 < len(vals) else None)
            for i, (d, v) in enumerate(vals) if v is not None]
    out: list[tuple[datetime.date | None, datetime.date | None]] = []
    cur = start
    for lo, hi in segs:
        if until is not None and lo >= until:
            break
        if hi is not None and cur is not None and hi <= cur:
            continue
        if cur is None:
            if lo != datetime.date.min:
                out.append((None, lo))
        elif lo > cur:
            out.append((cur, lo))
        if hi is None:
            return out
        cur = hi if cur is None else max(cur, hi)
    if until is None or cur is None or cur < until:
        out.append((cur, until))
    return out


_UNITS: tuple[tuple[str, float | None, float | None, bool], ...] = (
    (r"^(idr|rp|rupiah)\b", 0, None, True),
    (r"^decile$", 1, 10, True),
    (r"^(percent|%)$", 0, 100, False),
    (r"^(share|ratio|fraction)$", 0, 1, False),
    (r"^(years?|months?|days?|weeks?|persons?|children|pregnancies|criteria|flags|reports?"
     r"|programmes?|sources?|clients?|meals|times|sets|points|meetings)\b", 0, None, False),
    (r"^m2$", 0, None, False),
)


def unit_range(unit: str) -> tuple[float | None, float | None, bool] | None:
    """The values a unit allows: (low, high, whole numbers only), or ``None`` if unknown."""
    u = unit.strip().lower()
    for pattern, lo, hi, integer in _UNITS:
        if re.search(pattern, u):
            return lo, hi, integer
    return None


_PARAM_PLACEHOLDER = re.compile(r"\{param\.([A-Za-z0-9_.]+)(?::[^}]*)?\}")
_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,]\d{3})+(?![\d])|(?<![\d.,])\d+(?:[.,]\d+)?"
                     r"(?![\w])")


def numbers_in(text: str) -> list[float]:
    """Numbers written in a title or message (thousands grouped with ``.`` or ``,``), outside
    ``{placeholders}``."""
    plain = re.sub(r"\{[^}]*\}", " ", text or "")
    out = []
    for m in _NUMBER.finditer(plain):
        s = m.group(0)
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", s):
            out.append(float(s.replace(".", "").replace(",", "")))
        else:
            out.append(float(s.replace(",", ".")))
    return out


def _same_values(a: Parameter, b: Parameter) -> bool:
    return a.values == b.values and a.optional == b.optional


def _nodes_of(rule: Rule) -> Iterator[n.Node]:
    for x in (rule.expr, rule.at_least):
        if x is not None:
            yield x
    if rule.table is not None:
        yield from rule.table.inputs
        for row in rule.table.rows:
            for test in row.tests:
                yield from (v for v in (test.value, test.high) if v is not None)
            yield from row.outputs
    if rule.check is not None:
        for case in rule.check.severity:
            if case.when is not None:
                yield case.when
        if rule.check.where is not None:
            yield rule.check.where


def _texts(rule: Rule) -> list[str]:
    out = [rule.title.id, rule.title.en]
    if rule.check is not None:
        out += [rule.check.message.id, rule.check.message.en]
    return out


def _python_sources(engine: Engine) -> set[str]:
    """The string constants of the code of welfare-rules and of each loaded plugin's own
    package: a parameter named there is taken as read by code (an allocation, a report), not
    only by rules.

    An approximation, kept sound where it can be: the constants are read from the syntax tree,
    so docstrings and bare strings do not count; the linter itself, the testing helpers and
    ``tests`` folders are not read; a plugin that is a single top-level module is read alone
    (its folder is ``site-packages``, never walked).
    """
    own = Path(__file__).resolve().parent
    files = {py for py in own.rglob("*.py")
             if py.name != "lint.py" and py.relative_to(own).parts[0] != "testing"}
    for info in engine.plugins:
        f = getattr(info.obj, "__file__", None)
        if not f:
            continue
        path = Path(f).resolve()
        if not (path.parent / "__init__.py").is_file():
            files.add(path)  # a top-level module: only itself
            continue
        files |= {py for py in path.parent.rglob("*.py")
                  if "tests" not in py.relative_to(path.parent).parts}
    names: set[str] = set()
    for py in sorted(files):
        try:
            st = py.stat()
        except OSError:
            continue
        names |= _string_constants(str(py), st.st_mtime_ns, st.st_size)
    return names


@functools.lru_cache(maxsize=1024)
def _string_constants(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    """The string constants of one Python file's syntax tree (docstrings and bare strings left
    out); empty when it cannot be read or parsed. Kept per (path, modification time, size), so
    a changed file is read again: parsing every file of the package was nearly all of a lint
    of a small rule folder."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return frozenset()
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return frozenset(node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and id(node) not in bare)


def parameter_layers(engine: Engine) -> list[Parameter]:
    """Every parameter definition of every loaded plugin, in layer order (overridden ones
    included), read again from the files the plugins register."""
    out: list[Parameter] = []
    for info in engine.plugins:
        hook = getattr(info.obj, "register_parameters", None)
        if hook is None:
            continue
        paths: list[Any] = []
        hook(register=paths.append)
        for path in paths:
            ps, _ = load_parameter_files(path, Origin(info.name, info.version))
            out.extend(ps)
    return out


# ---------------------------------------------------------------------------------------------
# Entry points


def _under(file: str | None, roots: Sequence[Path] | None) -> bool:
    if roots is None:
        return True
    if not file:
        return False
    p = Path(file).resolve()
    return any(p == r or r in p.parents for r in roots)


def lint(engine: Engine, paths: Iterable[str | Path] | None = None) -> list[LintFinding]:
    """Lint the rules and parameters of ``engine`` defined under ``paths`` (all: ``None``).

    Returns:
        The findings, sorted by file, line and column.
    """
    roots = None if paths is None else [Path(p).resolve() for p in paths]
    lt = Linter(engine)
    for versions in engine.rules.values():
        for rule in versions:
            if not _under(rule.location.file, roots):
                continue
            if rule.kind == "table" and rule.table is not None:
                lt.tables(rule)
            elif rule.kind == "ladder":
                lt.ladder(rule)
            lt.condition(rule)
            lt.parameter_holes(rule)
            lt.hard_coded_numbers(rule)
    mine = [name for name, p in engine.parameters.items() if _under(p.location.file, roots)]
    for name in mine:
        lt.parameter_units(engine.parameters[name])
    lt.parameter_field_ranges()
    lt.unread_parameters(mine)
    lt.overrides(parameter_layers(engine))
    found = [f for f in lt.findings if _under(f.location.file, roots)]
    return sorted(found, key=lambda f: (f.location.file or "", f.location.line or 0,
                                        f.location.column or 0, f.code))
