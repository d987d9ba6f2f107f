"""Rules compiled to Polars lazy expressions, for the Polars batch backend (:mod:`.polars`).

The semantics are those of the Python reference backend (:mod:`.python`, :mod:`.runtime`), which
the differential tests hold every backend to, and the constructs mirror the SQL compiler
(:mod:`.sql`):

* Kleene logic is Polars' own ``&``/``|``/``~`` on booleans with nulls; an unknown operand makes
  arithmetic and comparisons unknown; division by zero is unknown; ``//`` floors and ``%`` takes
  the sign of the divisor (Polars' integer and float operators already do both);
* integer ``+ - * //`` and negation are computed in 128 bits and cast back strictly, so a result
  beyond 64 bits raises the shared "arithmetic out of range" :class:`EvaluationError` (Polars'
  own ``Int64`` arithmetic wraps around silently); a decimal result that is infinite or NaN
  raises it too, as :func:`~welfare_rules.backends.runtime.bounded` does in Python;
* aggregations over members are ``group_by`` aggregations of the member frame, joined back to
  the parent (a parent without members gets count 0, sum 0, min/max unknown, any false, all
  true); a rule unknown whenever any value (or ``where``) that matters is unknown;
* ``rank`` is ``row_number`` as a window (``over``) partitioned by the parent key (and the
  ``where``/``within`` groups), missing keys last, ties in member input order;
* ``matches`` runs Rust's regex crate (linear time, like RE2) on the pattern rewritten to RE2's
  ASCII meaning of ``\\d``, ``\\w``, ``\\s`` and ``\\b`` (:func:`rust_pattern`);
* every status is a small integer code (the index in
  :data:`~welfare_rules.backends.base.STATUS_VALUES`), turned into the shared Arrow dictionary
  when the results are handed back.

A function contributed by a plugin has no Polars version; it runs through its Python
implementation on each row (``map_batches``), with the same null handling as in Python.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import polars as pl
import pyarrow as pa

from .. import types as t
from ..errors import EvaluationError, beyond_dates, out_of_range
from ..expr import functions as F
from ..expr import nodes as n
from ..expr.check import AGGREGATES, Checker, Env, Refs
from ..model import Rule, Table, UnaryTest
from ..plan import Plan
from .base import ROW, STATUS_SUFFIX, STATUS_VALUES, arrow_type, needed_rules, selected_columns
from .interp import aggregation_reaches, always_null, can_fail, check_nodes, fold
from .python import rule_nodes

__all__ = ["PARENT", "AggregateParts", "EntityFrames", "Placeholder", "PolarsCompileError",
           "PolarsCompiler", "RuleFinding", "dataset_findings", "polars_type", "rust_pattern"]

PARENT = "__parent"  # a child record's parent key
HAS = "__has"  # set on the aggregation side of the parent join
_GUARD_KEY = "__gkey"  # the parent key beside the guards of its aggregations
BUILTIN_PLUGIN = "welfare-rules"

#: status codes: the position in STATUS_VALUES
CODE = {v: i for i, v in enumerate(STATUS_VALUES)}
_INT64 = pl.Int64
_WIDE = pl.Int128
#: the date range as days since the epoch (types.DATE_MIN … DATE_MAX)
_EPOCH = datetime.date(1970, 1, 1)
_DAY_MIN, _DAY_MAX = (t.DATE_MIN - _EPOCH).days, (t.DATE_MAX - _EPOCH).days


class PolarsCompileError(EvaluationError):
    """A rule cannot be compiled to Polars expressions (the message names the construct)."""


def polars_type(ty: t.Type) -> Any:
    """The Polars type of a rule-language type (``None``: leave it to Polars): Polars' own
    reading of the Arrow type the result tables declare (:func:`~.base.arrow_type`)."""
    arrow = arrow_type(ty)
    return None if arrow is None else _from_arrow(arrow)


@functools.cache
def _from_arrow(arrow: pa.DataType) -> Any:
    return pl.from_arrow(pa.array([], arrow)).dtype  # type: ignore[union-attr]


def rust_pattern(pattern: str) -> str:
    """An RE2 pattern rewritten for Rust's regex crate with RE2's meaning, anchored to the
    whole text: ``\\d``, ``\\w``, ``\\s`` (and their negations) as RE2's ASCII classes, ``\\b``
    and ``\\B`` as ASCII word boundaries (Rust's are Unicode by default)."""
    classes = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
    out: list[str] = []
    depth = 0  # inside a character class
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            low = nxt.lower()
            if low in classes:
                body = classes[low]
                neg = nxt.isupper()
                if depth:
                    out.append(f"[^{body}]" if neg else body)
                else:
                    out.append(f"[^{body}]" if neg else f"[{body}]")
            elif nxt in "bB" and not depth:
                out.append(f"(?-u:\\{nxt})")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[":
            depth += 1
            out.append(ch)
            # a ']' (or '^]') right after the opening bracket is a literal
            j = i + 1
            if pattern[j:j + 1] == "^":
                out.append("^")
                j += 1
            if pattern[j:j + 1] == "]":
                out.append("\\]")
                j += 1
            i = j
            continue
        if ch == "]" and depth:
            depth -= 1
        out.append(ch)
        i += 1
    return "^(?:" + "".join(out) + ")$"


def _lit(v: Any) -> pl.Expr:
    if v is None:
        return pl.lit(None)
    if isinstance(v, bool):
        return pl.lit(v, dtype=pl.Boolean)
    if isinstance(v, int):
        if not t.INT64_MIN <= v <= t.INT64_MAX:
            from .runtime import out_of_range

            raise out_of_range(f"an integer of {len(str(abs(v)))} digits")
        return pl.lit(v, dtype=_INT64)
    if isinstance(v, float):
        return pl.lit(v, dtype=pl.Float64)
    if isinstance(v, str):
        return pl.lit(v, dtype=pl.String)
    if isinstance(v, datetime.date):
        return pl.lit(v, dtype=pl.Date)
    if isinstance(v, list | tuple):
        return pl.concat_list([_lit(x) for x in v]) if v else pl.lit([])
    raise PolarsCompileError(f"cannot write {v!r} as a Polars literal")


def _raise_where(error: EvaluationError, reach: pl.Expr, dtype: Any = None) -> pl.Expr:
    """Null (of ``dtype``, when given), raising ``error`` when some row reaches it (a constant
    out of range)."""
    def check(s: pl.Series) -> pl.Series:
        if s.fill_null(False).any():
            raise error
        return s

    null = pl.lit(None) if dtype is None else pl.lit(None, dtype=dtype)
    # not elementwise: Polars evaluated an elementwise function in a branch of a when/then
    # on the rows of that branch, and with none gave it one row, reached ([True]): a constant
    # error in the branch not taken was raised (found by tests/core/test_generated_rules.py)
    return pl.when(reach.map_batches(check, return_dtype=pl.Boolean,
                                     is_elementwise=False)).then(null)


def null_guard(value: pl.Expr, atoms: Sequence[pl.Expr]) -> pl.Expr:
    """``value``, but null when any of the atoms is null (literals are skipped)."""
    conds = [a.is_null() for a in atoms if not a.meta.is_literal()]
    if not conds:
        return value
    return pl.when(pl.any_horizontal(conds)).then(None).otherwise(value)


def _true(e: pl.Expr) -> pl.Expr:
    return e.fill_null(False)


def _false(e: pl.Expr) -> pl.Expr:
    return (~e).fill_null(False)


def _flag(e: pl.Expr) -> pl.Expr:
    return _true(e).cast(_INT64)


#: the size (expression nodes) from which a part read more than once is a column of its own
_SHARED_SIZE = 8


def _any_in_partition(flag: pl.Expr, partition: Sequence[pl.Expr]) -> pl.Expr:
    """Whether ``flag`` (never null) holds for some record of each record's partition (its
    columns; none: every record), as ``flag.any().over(partition)`` (a null a value like
    any other). The partition values where it holds are listed (few, as a rule) and looked
    up: a window groups every record, which cost as much as the rank it served, and as an
    aggregation inside the rank's own window still a third of it (docs/performance.md)."""
    if not partition:
        return flag.any()
    key = partition[0] if len(partition) == 1 else pl.struct(partition)
    return key.is_in(key.filter(flag).implode(), nulls_equal=True)


def _and_all(parts: Sequence[pl.Expr]) -> pl.Expr:
    if not parts:
        return pl.lit(True)
    out = parts[0]
    for p in parts[1:]:
        out = out & p
    return out


def has_unknown_item(lst: pl.Expr) -> pl.Expr:
    """Whether a list has an unknown (null) item; null for an unknown list. A list with an
    unknown item is unknown as a whole (``backends/record.status_of``), and ``x in`` it is
    unknown unless ``x`` is found (``runtime.member``)."""
    return lst.list.eval(pl.element().is_null()).list.any()


def _or_all(parts: Sequence[pl.Expr]) -> pl.Expr:
    if not parts:
        return pl.lit(False)
    out = parts[0]
    for p in parts[1:]:
        out = out | p
    return out


def _add_all(parts: Sequence[pl.Expr]) -> pl.Expr:
    if not parts:
        return pl.lit(0, dtype=_INT64)
    return pl.sum_horizontal(parts) if len(parts) > 1 else parts[0]


def _check_finite(s: pl.Series) -> pl.Series:
    bad = s.is_infinite() | s.is_nan()
    if bad.any():
        from .runtime import out_of_range

        raise out_of_range("a decimal beyond the 64-bit range")
    return s


def finite(e: pl.Expr) -> pl.Expr:
    """A decimal result that must stay finite (else the shared error)."""
    return e.map_batches(_check_finite, return_dtype=pl.Float64, is_elementwise=True)


def in_dates(value: pl.Expr, inside: pl.Expr, function: str) -> pl.Expr:
    """``value`` where ``inside`` holds (null where it is null); where it is false, the shared
    out-of-range error: a date past 0001-01-01 … 9999-12-31 (docs/security.md)."""
    def check(s: pl.Series) -> pl.Series:
        if (~s.fill_null(True)).any():
            raise out_of_range(beyond_dates(function))
        return s

    flag = inside.map_batches(check, return_dtype=pl.Boolean, is_elementwise=True)
    return pl.when(flag).then(value).otherwise(None)


def wide_int(a: pl.Expr, b: pl.Expr, op: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> pl.Expr:
    """Integer arithmetic in 128 bits, cast back strictly to 64 (raising beyond them)."""
    return op(a.cast(_WIDE), b.cast(_WIDE)).cast(_INT64, strict=True)


@attrs.define
class Ctx:
    """How names resolve while compiling one expression."""

    entity: str
    rules: frozenset[str] = frozenset()  # rule columns present (in force, this entity)
    aggs: Mapping[n.Node, str] | None = None  # aggregation node -> column (parent scope)
    rank_partition: Sequence[str] = ()  # sibling partition (child scope)
    #: the rows where the Python reference evaluates this expression (None: every row); Polars
    #: computes every branch for every row, so a field read outside it is null there and an
    #: error it would raise is not reached (PolarsCompiler._reached)
    reach: pl.Expr | None = None


@attrs.define
class AggregateParts:
    """A member aggregation compiled: per-member columns, their aggregations by parent, the
    value from those (on the parent's row) and the value for a parent without members."""

    rows: dict[str, pl.Expr]
    groups: list[pl.Expr]
    value: pl.Expr
    empty: pl.Expr


@attrs.define
class Placeholder:
    """A ``{name}`` of a message and the column that holds its value."""

    name: str
    column: str | None  # None: no source has it (left as written)
    kind: str = "field"  # "field" (masked if an identifier), "rule", "count", "upper"
    entity: str = ""
    value: str = ""  # for "upper": the text


@attrs.define
class RuleFinding:
    """The frame of one check's findings before its messages are written: columns
    ``__rec_row``, ``__mem_row``, ``record_id``, ``member_id``, ``severity`` and the
    placeholders' columns."""

    check: str
    entity: str
    template: str
    placeholders: list[Placeholder]
    frame: pl.LazyFrame


@attrs.define
class EntityFrames:
    """The compiled evaluation of one entity: lazy frames of its records and its members."""

    entity: str
    key: str
    records: pl.LazyFrame  # every layer: fields, rules and helper columns, __row
    base: pl.LazyFrame  # the records' fields in their types, __row
    member_base: pl.LazyFrame | None  # the child records' fields, __row, __parent
    members: pl.LazyFrame | None  # the child records' last layer (with __parent), if any
    outputs: list[pl.Expr]  # the result columns after key (and carried columns)
    member_outputs: list[pl.Expr]
    rule_ids: list[str]
    member_rule_ids: list[str]
    error_rules: list[str]
    findings: list[RuleFinding]


class PolarsCompiler:
    """Compiles the rules in force of a :class:`~welfare_rules.plan.Plan` to Polars lazy
    expressions and frames."""

    def __init__(self, plan: Plan, lang: str = "id"):
        model = plan.model
        self.plan = plan
        self.model = model
        self.as_of = plan.as_of
        self.lang = lang
        self.in_force = plan.rules
        self.not_in_force = plan.not_in_force
        rule_entity = {rid: vs[0].entity for rid, vs in model.rules.items()}
        self.env = Env(model.schema, rule_entity, dict(model.rule_types),
                       {k: p.type for k, p in model.parameters.items()}, model.functions)
        self._checkers: dict[str, Checker] = {}
        self._rule: Rule | None = None
        #: the parts of the layer being compiled that are computed as columns before it
        #: (depth, name, expression; see _shared_part), and the entity of that layer
        self._shared: list[tuple[int, str, pl.Expr]] | None = None
        self._layer_entity: str | None = None
        self._names = itertools.count()
        self.builtins: dict[str, Callable[..., pl.Expr]] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("fn_")}

    # -- helpers ------------------------------------------------------------------------------

    def type_of(self, node: n.Node, entity: str) -> t.Type:
        checker = self._checkers.get(entity)
        if checker is None:
            checker = self._checkers[entity] = Checker(self.env, entity)
        try:
            return checker.check(node, Refs())
        except Exception:
            return t.ANY

    def _rid(self) -> str:
        return self._rule.id if self._rule else "?"

    def param(self, path: str) -> Any:
        return self.plan.param_value(path, self._rid())

    def name_col(self, name: str, ctx: Ctx) -> pl.Expr:
        if name in self.not_in_force and self.env.rule_entity.get(name) == ctx.entity:
            ty = polars_type(self.model.rule_types.get(name, t.ANY))
            return pl.lit(None, dtype=ty) if ty is not None else pl.lit(None)
        return pl.col(name)

    # -- expressions --------------------------------------------------------------------------

    def expr(self, node: n.Node, ctx: Ctx) -> pl.Expr:
        """Compile an expression evaluated for one record of ``ctx.entity``."""
        folded, value = fold(node, self.as_of, self.model.functions)
        if folded:
            return self._typed_null(node, ctx) if value is None else _lit(value)
        if isinstance(value, EvaluationError):
            # raised where a row reaches it: not for a table without rows, as on Python and
            # DuckDB (a literal is evaluated once whatever the rows; review 4, F9)
            return _raise_where(value, ctx.reach if ctx.reach is not None
                                else pl.int_range(pl.len()) >= 0,
                                polars_type(self.type_of(node, ctx.entity)))
        method = getattr(self, f"{type(node).__name__.lower()}_expr")
        result: pl.Expr = method(node, ctx)
        if ctx.reach is None or isinstance(node, n.Literal | n.Param | n.Name):
            return result  # a name is read null outside the reach (name_expr)
        # every part's value is null outside the reach, not only the fields: a part that
        # makes a value of a null (coalesce, is_missing, a Kleene `or`) would otherwise feed
        # the operator above it a value on a row that does not reach it, and overflow there
        return pl.when(ctx.reach).then(result)

    def _shared_part(self, node: n.Node, ctx: Ctx) -> pl.Expr:
        """``node`` compiled, for a caller that reads it more than once (the test of an
        ``if``, the first part of an ``and``/``or`` whose rest is reached through it): a large
        part is computed as a column before the layer and read from there. Polars expressions
        are trees: a part written twice at every level of nesting was 2**depth copies (an
        and/or alternating to a depth of 8 took 111 s to evaluate three records). The column
        is the same expression, evaluated on every row as Polars does anyway (the fields it
        reads are masked outside its reach, ``expr``). A part that calls a plugin's function
        is a column whatever its size: the call runs row by row in Python, and the reach it
        carries holds the earlier tests of an ``if`` chain, each with its own call (Kota
        Pekalongan's four-branch ``kelurahan_kecamatan`` was 2,506 calls a row, 2.7 ms a
        household)."""
        if self._shared is None or ctx.entity != self._layer_entity or (
                sum(1 for _ in n.walk(node)) < _SHARED_SIZE and not self._calls_plugin(node)):
            return self.expr(node, ctx)  # (not in a layer's frame: a member aggregation's)
        value = self.expr(node, ctx)
        # after every shared part it reads: its own parts, and those the reach it carries
        # reads (the earlier tests of an if chain)
        reads = set(value.meta.root_names())
        depth = 1 + max((d for d, name, _ in self._shared if name in reads), default=0)
        name = f"__wr_s{next(self._names)}"
        self._shared.append((depth, name, value))
        return pl.col(name)

    def _calls_plugin(self, node: n.Node) -> bool:
        """Whether ``node`` calls a function that runs through its Python implementation
        (:meth:`python_call`: a plugin's, with no Polars form)."""
        for x in n.walk(node):
            if isinstance(x, n.Call) and x.func not in self.builtins:
                fn = self.model.functions.get(x.func)
                if fn is not None and not _is_builtin(fn):
                    return True
        return False

    def _reached(self, node: n.Node, where: pl.Expr, ctx: Ctx) -> pl.Expr:
        """``node`` as the Python reference evaluates it: only on the rows where ``where`` (a
        boolean without nulls) holds — the right of an undecided ``and``/``or``, the branch of
        an ``if`` taken. Where it may raise (``interp.can_fail``), its fields read null
        elsewhere, so an overflow on a row that does not reach it is not raised; a constant out
        of range raises only where a row reaches it."""
        if not can_fail(node):
            return self.expr(node, ctx)
        reach = where if ctx.reach is None else ctx.reach & where
        return self.expr(node, attrs.evolve(ctx, reach=reach))

    def _none(self, node: n.Node, ctx: Ctx) -> bool:
        """Whether ``node`` is null for every record (:func:`~.interp.always_null`)."""
        return always_null(node, self.as_of, self.model.functions, self.param,
                           lambda r: r in self.not_in_force
                           and self.env.rule_entity.get(r) == ctx.entity)

    def _typed_null(self, node: n.Node, ctx: Ctx) -> pl.Expr:
        """A null of ``node``'s type: a null literal is of Polars' type Null, which a function
        of the type declared refuses (``add_months(add_days(d, to_int("")), x)``: "`year`
        operation not supported for dtype `null`"; found by
        ``tests/core/test_generated_rules.py``)."""
        dtype = polars_type(self.type_of(node, ctx.entity))
        return pl.lit(None) if dtype is None else pl.lit(None, dtype=dtype)

    def literal_expr(self, node: n.Literal, ctx: Ctx) -> pl.Expr:
        return self._typed_null(node, ctx) if node.value is None else _lit(node.value)

    def name_expr(self, node: n.Name, ctx: Ctx) -> pl.Expr:
        if node.id == "as_of":
            return _lit(self.as_of)
        value = self.name_col(node.id, ctx)
        return value if ctx.reach is None else pl.when(ctx.reach).then(value)

    def param_expr(self, node: n.Param, ctx: Ctx) -> pl.Expr:
        value = self.param(node.path)
        return self._typed_null(node, ctx) if value is None else _lit(value)

    def listlit_expr(self, node: n.ListLit, ctx: Ctx) -> pl.Expr:
        if not node.items:
            return pl.lit([])
        return pl.concat_list([self.expr(i, ctx) for i in node.items])

    def unary_expr(self, node: n.Unary, ctx: Ctx) -> pl.Expr:
        a = self.expr(node.operand, ctx)
        if node.op == "not":
            return ~a
        if self.type_of(node.operand, ctx.entity).kind == "int":
            return (pl.lit(0, dtype=_WIDE) - a.cast(_WIDE)).cast(_INT64, strict=True)
        return -a

    def binop_expr(self, node: n.BinOp, ctx: Ctx) -> pl.Expr:
        a, b = self.expr(node.left, ctx), self.expr(node.right, ctx)
        lt, rt = self.type_of(node.left, ctx.entity), self.type_of(node.right, ctx.entity)
        if node.op == "+" and lt.is_textual and rt.is_textual:
            return pl.concat_str([a, b])
        ints = lt.kind == "int" and rt.kind == "int"
        op = node.op
        if op in ("+", "-", "*"):
            fn: Callable[[pl.Expr, pl.Expr], pl.Expr] = {
                "+": lambda x, y: x + y, "-": lambda x, y: x - y,
                "*": lambda x, y: x * y}[op]
            return wide_int(a, b, fn) if ints else finite(fn(a.cast(pl.Float64), b))
        # a zero divisor is unknown before dividing: the quotient's inf is never computed (a
        # when/then evaluates both branches, and finite() would raise on the unselected one)
        b = pl.when(b == 0).then(None).otherwise(b)
        if not ints and not any(isinstance(x, n.Name) for x in n.walk(node.right)):
            # Polars divides a column by a scalar as a product with its reciprocal (222.7 / 0.1
            # gives 2227.0, not Python's and SQL's 2226.9999999999995): a constant divisor is
            # made a column (a * 0 is zero, or NaN where a is, which the quotient is anyway)
            b = b + a.cast(pl.Float64) * 0
        if op == "/":
            value = finite(a.cast(pl.Float64) / b)
        elif ints:  # exact; Polars' remainder takes the sign of the divisor, as Python's does
            value = wide_int(a, b, lambda x, y: x // y) if op == "//" else a % b
        else:  # decimals, as runtime.floordiv/floormod: q = floor(a / b), r = a - b * q
            q = finite(a.cast(pl.Float64) / b).floor()
            value = q if op == "//" else finite(a.cast(pl.Float64) - b * q)
        return value

    def compare_expr(self, node: n.Compare, ctx: Ctx) -> pl.Expr:
        a = self.expr(node.left, ctx)
        if node.op in ("in", "notin"):
            found = self.contains(a, node.right, ctx)
            return ~found if node.op == "notin" else found
        b = self.expr(node.right, ctx)
        ops: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
            "==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}
        out = ops[node.op](a, b)
        if node.op in ("==", "!=") and "list" in (self.type_of(node.left, ctx.entity).kind,
                                                   self.type_of(node.right, ctx.entity).kind):
            # a list with an unknown item is unknown as a whole (status_of)
            unknown = _or_all([has_unknown_item(x).fill_null(False) for x in (a, b)])
            out = pl.when(unknown).then(None).otherwise(out)
        return out

    def contains(self, a: pl.Expr, right: n.Node, ctx: Ctx) -> pl.Expr:
        """Kleene ``a in right``, as every backend computes it (``runtime.member``): true if
        some item equals ``a``; else unknown if ``a``, the list or some item is unknown (that
        item might be ``a``); else false."""
        if isinstance(right, n.Param):
            value = self.param(right.path)
            if value is None:
                return pl.lit(None, dtype=pl.Boolean)
            right = n.ListLit(tuple(n.Literal(v) for v in value))
        if isinstance(right, n.ListLit):
            if all(isinstance(i, n.Literal) and i.value is not None
                   for i in right.items):
                items = [i.value for i in right.items]  # type: ignore[attr-defined]
                if not items:
                    return null_guard(pl.lit(False), [a])
                found = pl.lit(False)
                for v in items:
                    found = found | (a == _lit(v)).fill_null(False)
                if len(items) > 3:
                    found = a.is_in(pl.Series(items).implode()).fill_null(False)
            else:  # Polars' | is Kleene: an unknown item leaves it unknown
                found = _or_all([a == self.expr(i, ctx) for i in right.items])
            return null_guard(found, [a])
        lst = self.expr(right, ctx)
        found = pl.when(lst.list.contains(a)).then(True).when(has_unknown_item(lst)) \
            .then(None).otherwise(False)
        return null_guard(found, [a, lst])

    def boolop_expr(self, node: n.BoolOp, ctx: Ctx) -> pl.Expr:
        # lazy as on Python: the parts after one that is false (for "or": true) are not
        # reached (_reached); nested to the right, p1 & (p2 & …), each reach reads one part
        if len(node.values) == 1:
            return self.expr(node.values[0], ctx)
        rest = n.BoolOp(node.op, node.values[1:], loc=node.loc) if len(node.values) > 2 \
            else node.values[1]
        first = self._shared_part(node.values[0], ctx) if can_fail(rest) \
            else self.expr(node.values[0], ctx)
        if node.op == "and":
            return first & self._reached(rest, first.fill_null(True), ctx)
        return first | self._reached(rest, (~first).fill_null(True), ctx)

    def ifexp_expr(self, node: n.IfExp, ctx: Ctx) -> pl.Expr:
        c = self._shared_part(node.test, ctx)
        return (pl.when(c).then(self._reached(node.body, c.fill_null(False), ctx))
                .when(~c).then(self._reached(node.orelse, (~c).fill_null(False), ctx))
                .otherwise(None))

    def call_expr(self, node: n.Call, ctx: Ctx) -> pl.Expr:
        name = node.func
        if ctx.aggs is not None and node in ctx.aggs:
            value = pl.col(ctx.aggs[node])
            value = value if ctx.reach is None else pl.when(ctx.reach).then(value)
            # an integer sum is carried in 128 bits (aggregate): narrowed here, so a total
            # beyond 64 bits raises only on the rows that reach it, as in Python
            return value.cast(_INT64, strict=True) if self._wide_sum(node, ctx.entity) \
                else value
        if name == "rank":  # a window over every sibling, on every backend
            return self.rank(node, attrs.evolve(ctx, reach=None))
        if name in AGGREGATES and name not in ("min", "max"):
            raise PolarsCompileError(
                f"rule '{self._rid()}': {name}() over '{_first_name(node)}' is not an "
                f"aggregation over the members of a {ctx.entity} the Polars backend can "
                "compute; use backend='python'", self._rid())
        if name in ("min", "max"):
            name = "least" if name == "min" else "greatest"
        args = [self.expr(a, ctx) for a in node.args]
        fn = self.model.functions.get(name)
        builtin = self.builtins.get(name)
        if builtin is not None and fn is not None and _is_builtin(fn):
            if fn.null_propagating and name not in _NULL_SAFE_BUILTINS and any(
                    self._none(a, ctx) for a in node.args):
                # an argument always null: the call is (null_guard skips literals, and
                # least(x, to_int("")) was x; found by tests/core/test_generated_rules.py)
                return null_guard(self._typed_null(node, ctx),
                                  [x for a, x in zip(node.args, args, strict=True)
                                   if not self._none(a, ctx)])
            value = builtin(args, node, ctx)
            if fn.null_propagating and name not in _NULL_SAFE_BUILTINS:
                value = null_guard(value, args)
            return value
        if fn is None:
            raise PolarsCompileError(f"rule '{self._rid()}': unknown function '{name}'",
                                     self._rid())
        return self.python_call(fn, args, node, ctx)

    def python_call(self, fn: Any, args: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        """A plugin's function through its Python implementation, row by row."""
        ty = polars_type(self.type_of(node, ctx.entity))
        impl = fn.python
        nullp = fn.null_propagating

        def run(s: pl.Series) -> pl.Series:
            out: list[Any] = []
            for row in s.to_list():
                vals = list(row.values())
                if reached is not None and not vals.pop():
                    out.append(None)  # a row that does not reach the call: not called
                    continue
                out.append(None if nullp and any(v is None for v in vals) else impl(*vals))
            return pl.Series(out, dtype=ty) if ty is not None else pl.Series(out)

        if not args:
            return _lit(impl())
        reached = None if ctx.reach is None else ctx.reach.fill_null(False).alias("reached")
        st = pl.struct([a.alias(f"a{i}") for i, a in enumerate(args)]
                       + ([] if reached is None else [reached]))
        return st.map_batches(run, return_dtype=ty, is_elementwise=True)

    # -- built-in functions (fn_<name>(args, node, ctx)) ---------------------------------------

    @staticmethod
    def _md(d: pl.Expr) -> pl.Expr:
        return d.dt.month().cast(_INT64) * 100 + d.dt.day().cast(_INT64)

    @staticmethod
    def _year(d: pl.Expr) -> pl.Expr:
        return d.dt.year().cast(_INT64)

    def fn_years_between(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        x, y = a

        def fwd(p: pl.Expr, q: pl.Expr) -> pl.Expr:
            return self._year(q) - self._year(p) - (self._md(q) < self._md(p)).cast(_INT64)

        return pl.when(y < x).then(-fwd(y, x)).otherwise(fwd(x, y))

    def fn_months_between(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        x, y = a

        def ym(d: pl.Expr) -> pl.Expr:
            return self._year(d) * 12 + d.dt.month().cast(_INT64)

        def fwd(p: pl.Expr, q: pl.Expr) -> pl.Expr:
            late = (q.dt.day() < p.dt.day()).cast(_INT64)
            return ym(q) - ym(p) - late

        return pl.when(y < x).then(-fwd(y, x)).otherwise(fwd(x, y))

    def fn_days_between(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[1].cast(pl.Int32).cast(_INT64) - a[0].cast(pl.Int32).cast(_INT64)

    @staticmethod
    def _days_in_month(y: pl.Expr, m: pl.Expr) -> pl.Expr:
        """Days of month ``m`` of year ``y`` (both clipped to the calendar first)."""
        first = pl.date(y.clip(1, 9999), m.clip(1, 12), pl.lit(1))
        return first.dt.month_end().dt.day().cast(_INT64)

    def _add_months(self, d: pl.Expr, months: pl.Expr, function: str = "add_months"
                    ) -> pl.Expr:
        total = self._year(d) * 12 + (d.dt.month().cast(_INT64) - 1) \
            + months.cast(_INT64).clip(-10**6, 10**6)
        year = total // 12
        month = total % 12 + 1
        ok = (year >= 1) & (year <= 9999)
        day = pl.min_horizontal(d.dt.day().cast(_INT64), self._days_in_month(year, month))
        made = pl.date(year.clip(1, 9999), month, day)
        return in_dates(made, ok, function)

    def fn_add_months(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return self._add_months(a[0], a[1])

    def fn_add_years(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return self._add_months(a[0], a[1].cast(_INT64).clip(-10**5, 10**5) * 12, "add_years")

    def fn_add_days(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        days = a[0].cast(pl.Int32).cast(_INT64) + a[1].cast(_INT64).clip(-10**8, 10**8)
        ok = (days >= _DAY_MIN) & (days <= _DAY_MAX)
        return in_dates(days.clip(_DAY_MIN, _DAY_MAX).cast(pl.Int32).cast(pl.Date), ok,
                        "add_days")

    def _valid_ymd(self, y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
        return ((y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1)
                & (d <= self._days_in_month(y, m)))

    def fn_date(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        if len(a) == 1:  # exactly YYYY-MM-DD (F.ISO_DATE); year 0000 is out of range
            s = a[0].cast(pl.String)
            iso = s.str.contains(f"^{F.ISO_DATE}$")
            parsed = pl.when(iso).then(s.str.to_date("%Y-%m-%d", strict=False)).otherwise(None)
            return in_dates(parsed, ~(iso & (s.str.slice(0, 4) == "0000")), "date")
        y, m, d = (x.cast(_INT64) for x in a)
        ok = self._valid_ymd(y, m, d)
        made = pl.date(y.clip(1, 9999), m.clip(1, 12),
                       pl.min_horizontal(d.clip(1, 31), self._days_in_month(y, m)))
        return in_dates(pl.when(ok).then(made).otherwise(None), (y >= 1) & (y <= 9999), "date")

    def fn_is_valid_date(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        y, m, d = (x.cast(_INT64) for x in a)
        return self._valid_ymd(y, m, d).fill_null(False)

    def fn_year(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return self._year(a[0])

    def fn_month(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0].dt.month().cast(_INT64)

    def fn_day(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0].dt.day().cast(_INT64)

    def fn_coalesce(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0] if len(a) == 1 else pl.coalesce(a)

    def fn_is_missing(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0].is_null()

    def fn_len(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0].str.len_chars().cast(_INT64)

    def fn_substr(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        start = a[1].cast(_INT64).clip(0, None)
        if len(a) == 2:
            return a[0].str.slice(start)
        return a[0].str.slice(start, a[2].cast(_INT64).clip(0, None))

    def fn_startswith(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0].str.starts_with(a[1])

    def fn_endswith(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0].str.ends_with(a[1])

    def fn_matches(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        pattern = node.args[1]
        if not isinstance(pattern, n.Literal) or not isinstance(pattern.value, str):
            raise PolarsCompileError(f"rule '{self._rid()}': matches() needs a literal "
                                     "pattern", self._rid())
        return a[0].str.contains(rust_pattern(pattern.value))

    def fn_to_int(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        kind = self.type_of(node.args[0], ctx.entity).kind
        x = a[0]
        if kind == "int":
            return x
        if kind == "bool":
            return x.cast(_INT64)
        if kind == "decimal":
            return pl.when(x == x.floor()).then(x.cast(_INT64, strict=True)).otherwise(None)
        if kind == "date":
            return pl.lit(None, dtype=_INT64)
        s = x.cast(pl.String).str.strip_chars(F.WHITESPACE)
        ok = s.str.contains(r"^[+-]?[0-9]{1,18}$")
        return pl.when(ok).then(s.cast(_INT64, strict=False)).otherwise(None)

    def fn_abs(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        if self.type_of(node.args[0], ctx.entity).kind == "int":  # abs(-2**63) is out of range
            return a[0].cast(_WIDE).abs().cast(_INT64, strict=True)
        return a[0].abs()

    def fn_round(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        # the same formula as the Python backend, so the float edge cases agree too
        x = a[0].cast(pl.Float64)
        f = pl.lit(1.0) if len(a) == 1 else \
            pl.lit(10.0).pow(a[1].cast(_INT64).clip(-F.ROUND_DIGITS, F.ROUND_DIGITS))
        if len(a) == 2:
            # a constant f is made a column, as a constant divisor in binary_expr: Polars
            # divides a column of two or more rows by a scalar as a product with its
            # reciprocal (round(0.625, 1) gave 0.6000000000000001 in a batch, 0.6 alone)
            f = f + (x * 0).fill_nan(0.0)
        v = (x.abs() * f + 0.5).floor() / f
        # from 2**52 up a double has no digit left to round (and x * f may be infinite)
        signed = pl.when(x.abs() * f >= 2.0**52).then(x).when(x < 0).then(-v).otherwise(v)
        if len(a) == 1:  # an integer, as declared (past 64 bits the cast fails)
            return signed.cast(_INT64, strict=True)
        return signed

    def fn_floor(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        if self.type_of(node.args[0], ctx.entity).kind == "int":
            return a[0]
        return a[0].cast(pl.Float64).floor().cast(_INT64, strict=True)

    def fn_ceil(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        if self.type_of(node.args[0], ctx.entity).kind == "int":
            return a[0]
        return a[0].cast(pl.Float64).ceil().cast(_INT64, strict=True)

    def _numeric(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> list[pl.Expr]:
        kinds = {self.type_of(x, ctx.entity).kind for x in node.args}
        return [x.cast(pl.Float64) for x in a] if "decimal" in kinds else a

    def fn_least(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0] if len(a) == 1 else pl.min_horizontal(self._numeric(a, node, ctx))

    def fn_greatest(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return a[0] if len(a) == 1 else pl.max_horizontal(self._numeric(a, node, ctx))

    def fn_count_true(self, a: list[pl.Expr], node: n.Call, ctx: Ctx) -> pl.Expr:
        return _add_all([_flag(x == True) for x in a])  # noqa: E712 - a Polars expression

    # -- members: aggregations and ranks ------------------------------------------------------

    def aggregate(self, node: n.Call, mctx: Ctx, name: str,
                  reach: pl.Expr | None = None) -> AggregateParts:
        """An aggregation over a group of child rows, in three parts: small columns computed
        on each child row (``<name>__<part>``: a flag, a code, the value), one plain
        aggregation of each over the group, and the value computed from those on the
        parent's row. Elementwise work stays out of the group-by, where Polars would
        evaluate it group by group.

        A part that may raise is evaluated, as on Python, only on the rows that reach it
        (:meth:`_reached`): ``reach`` (a column of the child row, true where the parent's
        rules reach the aggregation; None: everywhere) for the ``where`` and the value, and
        the value only where the ``where`` holds."""
        func = node.func
        where = node.kwarg("where")
        args = node.args[1:]
        for sub in n.walk(node):
            if isinstance(sub, n.Call) and sub.func == "rank":
                raise PolarsCompileError(
                    f"rule '{self._rid()}': rank() inside {func}() over members is not "
                    "supported by the Polars backend; give the rank a rule of its own",
                    self._rid())
        zero = pl.lit(0, dtype=_INT64)
        rows: dict[str, pl.Expr] = {}
        groups: list[pl.Expr] = []

        def part(suffix: str, row: pl.Expr, agg: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
            col = f"{name}__{suffix}"
            rows[col] = row
            groups.append(agg(pl.col(col)).alias(col))
            return pl.col(col)

        w = None
        if where is not None:
            w = self._reached(where, reach, mctx) if reach is not None else \
                self.expr(where, mctx)
        sel = _true(w) if w is not None else pl.lit(True)
        unknown = [w.is_null()] if w is not None else []

        def unless(value: pl.Expr) -> pl.Expr:
            if not unknown:
                return value
            u = part("u", _or_all(unknown), lambda c: c.any())
            return pl.when(u).then(None).otherwise(value)

        if func == "count" and not args:
            if w is None:
                groups.append(pl.len().cast(_INT64).alias(f"{name}__n"))
                return AggregateParts(rows, groups, pl.col(f"{name}__n"), zero)
            n_ = part("n", sel.cast(_INT64), lambda c: c.sum())
            return AggregateParts(rows, groups, unless(n_), zero)
        lets = [c for c in ((reach, sel) if w is not None else (reach,)) if c is not None]
        x = self._reached(args[0], _and_all(lets), mctx) if lets else self.expr(args[0], mctx)

        def and_sel(c: pl.Expr) -> pl.Expr:
            return sel & c if w is not None else c

        if func == "count":
            unknown.append(and_sel(x.is_null()))
            counted = part("n", and_sel(_true(x)).cast(_INT64), lambda c: c.sum())
            return AggregateParts(rows, groups, unless(counted), zero)
        if func in ("any", "all"):
            # 3: a `where` unknown, 2: a member decides (true for any, false for all),
            # 1: a member's value unknown, 0: none of these
            stop = _true(x) if func == "any" else _false(x)
            code: Any = pl
            if w is not None:
                code = code.when(w.is_null()).then(pl.lit(3, dtype=pl.Int8))
            code = code.when(and_sel(stop)).then(pl.lit(2, dtype=pl.Int8)) \
                .when(and_sel(x.is_null())).then(pl.lit(1, dtype=pl.Int8)) \
                .otherwise(pl.lit(0, dtype=pl.Int8))
            c = part("c", code, lambda c: c.max())
            empty = pl.lit(func != "any")
            value = (pl.when(c == 3).then(None).when(c == 2).then(pl.lit(func == "any"))
                     .when(c == 1).then(None).otherwise(empty))
            return AggregateParts(rows, groups, value, empty)
        unknown.append(and_sel(x.is_null()))
        picked = pl.when(sel).then(x).otherwise(None) if w is not None else x
        ty = polars_type(self.type_of(node, self._parent_entity(mctx)))
        if func == "sum":
            if self._wide_sum(node, self._parent_entity(mctx)):
                # kept in 128 bits: narrowed (and out of range raised) where a rule reads it
                total = part("v", picked.cast(_WIDE), lambda c: c.sum())
            else:
                v = part("v", picked.cast(pl.Float64), lambda c: c.sum())
                total = finite(v)
                if ty is not None:
                    total = total.cast(ty)
            return AggregateParts(rows, groups, unless(total), zero)
        v = part("v", picked, (lambda c: c.min()) if func == "min" else (lambda c: c.max()))
        return AggregateParts(rows, groups, unless(v), pl.lit(None, dtype=ty))

    def _reaches(self, entity: str, rules: Sequence[Rule], aggs: Mapping[n.Node, str]
                 ) -> dict[str, pl.Expr]:
        """Where each aggregation whose parts may raise is reached
        (:func:`.interp.aggregation_reaches`), compiled on ``entity``'s record."""
        fields = self.model.schema.entity(entity).fields
        hctx = Ctx(entity)
        return {name: self.expr(cond, hctx)
                for name, cond in aggregation_reaches(aggs, rules, fields).items()}

    def _wide_sum(self, node: n.Call, entity: str) -> bool:
        """Whether ``node`` (an aggregation read on ``entity``) is an integer ``sum``, whose
        column holds the 128-bit total (see :meth:`call_expr`)."""
        return node.func == "sum" and self.type_of(node, entity).kind == "int"

    def _parent_entity(self, mctx: Ctx) -> str:
        parent = self.model.schema.parent_of(mctx.entity)
        return parent[0].name if parent else mctx.entity

    def rank(self, node: n.Call, ctx: Ctx) -> pl.Expr:
        where = node.kwarg("where")
        within = node.kwarg("within")
        by = node.kwarg("by")
        assert by is not None
        base: list[pl.Expr] = [pl.col(c) for c in ctx.rank_partition]
        partition = list(base)
        w = self.expr(where, ctx) if where is not None else None
        passes = _true(w) if w is not None else None
        if passes is not None:
            partition.append(passes)
        group = self.expr(within, ctx) if within is not None else None
        if group is not None:
            partition.append(group)
        order: list[pl.Expr] = []
        keys: list[pl.Expr] = []
        for key in by.items if isinstance(by, n.ListLit) else (by,):
            k, desc = key, False
            if isinstance(key, n.Call) and key.func in ("desc", "asc"):
                k, desc = key.args[0], key.func == "desc"
            e = self.expr(k, ctx)
            keys.append(e)
            if desc:
                e = self._descending(e, self.type_of(k, ctx.entity).kind)
            order.append(e)
        order.append(pl.col(ROW))
        number = pl.int_range(1, pl.len() + 1, dtype=_INT64)
        # a member that may or may not count (where unknown) or may sort anywhere (a key or
        # its group unknown) makes the ranks of its group unknown, of every group when its
        # group is unknown (as runtime.rank_members does)
        own = [x.is_null() for x in ([w] if w is not None else []) + keys]
        if group is not None:
            own.append(group.is_null())
        if not own:  # nothing can be unknown: the plain row number
            win = number.over(partition or pl.lit(0), order_by=order, nulls_last=True)
            return win if passes is None else pl.when(passes).then(win).otherwise(None)
        # Partitioned by "where is not false": the members whose where is unknown sit with the
        # ones it holds for, and a partition that holds any doubt numbers nobody. The doubt
        # is looked up, not a window of its own (Polars computes the groups of every window
        # anew; _any_in_partition).
        counts = [~_false(w)] if w is not None else []
        groups = [*base, *counts, *([group] if group is not None else [])]
        win = number.over(groups or pl.lit(0), order_by=order, nulls_last=True)
        unknown = _any_in_partition(_or_all(own), groups)
        if group is not None:  # a member of an unknown group: every group's ranks unknown
            unknown = unknown | _any_in_partition(_and_all([*counts, group.is_null()]), base)
        win = pl.when(unknown).then(None).otherwise(win)
        return win if passes is None else pl.when(passes).then(win).otherwise(None)

    @staticmethod
    def _descending(e: pl.Expr, kind: str) -> pl.Expr:
        """A key that sorts ascending as ``e`` sorts descending, nulls kept null (so they stay
        last): an integer, date or condition bit-flipped (exact, no overflow), a decimal
        negated, anything else its dense rank from the largest."""
        if kind in ("int", "bool"):
            return ~e
        if kind == "date":
            return ~e.cast(pl.Int32)
        if kind == "decimal":
            return -e
        return e.rank("dense", descending=True)

    # -- rule kinds ---------------------------------------------------------------------------

    def rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        """A rule's value and its helper columns."""
        self._rule = rule
        try:
            out: tuple[pl.Expr, dict[str, pl.Expr]] = getattr(self, f"{rule.kind}_rule")(rule,
                                                                                          ctx)
            return out
        finally:
            self._rule = None

    def condition_rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        if rule.mode == "when":
            assert rule.expr is not None
            return self.expr(rule.expr, ctx), {}
        kids = [self.name_col(c, ctx) for c in rule.children]
        if rule.mode == "not":
            return ~kids[0], {}
        if rule.mode == "all":
            return _and_all(kids), {}
        if rule.mode == "any":
            return _or_all(kids), {}
        assert rule.at_least is not None
        k = self.expr(rule.at_least, ctx)
        if not kids:
            return null_guard(k <= 0, [k]), {}
        true_n = _add_all([_flag(c) for c in kids])
        unk_n = _add_all([c.is_null().cast(_INT64) for c in kids])
        value = (pl.when(k.is_null()).then(None).when(true_n >= k).then(True)
                 .when(true_n + unk_n < k).then(False).otherwise(None))
        return value, {}

    def check_rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        base, _ = self.condition_rule(rule, ctx)
        chk = rule.check
        if chk is not None and chk.for_each:
            agg = n.Call("any", (n.Name(chk.for_each), chk.where or n.Literal(True)))
            return base & self.expr(agg, ctx), {}
        return base, {}

    def value_rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        assert rule.expr is not None
        v = self.expr(rule.expr, ctx)
        if rule.declared_type is not None and rule.declared_type.kind == "decimal":
            v = v.cast(pl.Float64)
        return v, {}

    def ladder_rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        holds = [pl.lit(True) if lv.rule is None else self.name_col(lv.rule, ctx)
                 for lv in rule.levels]
        value: Any = pl
        blocked: Any = pl
        for i, h in enumerate(holds):
            below = _lit(rule.levels[i - 1].name) if i else pl.lit(None, dtype=pl.String)
            value = value.when(~_true(h)).then(below)
            blocked = blocked.when(h.is_null()).then(True).when(_false(h)).then(False)
        value = value.otherwise(_lit(rule.levels[-1].name))
        blocked = blocked.otherwise(False)
        return value, {rule.id + "__blocked": blocked}

    def score_rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        terms, atoms = [], []
        for ind in rule.indicators:
            w = self.expr(ind.weight, ctx)
            x = self.name_col(ind.rule, ctx)
            if self.model.rule_types.get(ind.rule, t.ANY).kind == "bool":
                x = x.cast(_INT64)
            terms.append(w * x)
            atoms += [w, x]
        if not terms:
            return pl.lit(0, dtype=_INT64), {}
        return null_guard(_add_all(terms), atoms), {}

    # -- decision tables ----------------------------------------------------------------------

    def _unary_test(self, x: pl.Expr, test: UnaryTest, ctx: Ctx) -> pl.Expr | None:
        if test.op == "any":
            return None
        if test.op == "range":
            assert test.value is not None
            assert test.high is not None
            lo, hi = self.expr(test.value, ctx), self.expr(test.high, ctx)
            low = (lo <= x) if test.low_closed else (lo < x)
            high = (x <= hi) if test.high_closed else (x < hi)
            r = null_guard(low & high, [x, lo, hi])
        elif test.op == "in":
            assert test.value is not None
            r = self.contains(x, test.value, ctx)
        else:
            assert test.value is not None
            v = self.expr(test.value, ctx)
            r = _COMPARE[test.op](x, v)
        return ~r if test.negate else r

    def table_rule(self, rule: Rule, ctx: Ctx) -> tuple[pl.Expr, dict[str, pl.Expr]]:
        table = rule.table
        assert table is not None
        ins = [self.expr(e, ctx) for e in table.inputs]
        matches: list[pl.Expr] = []
        for row in table.rows:
            parts = [p for p in (self._unary_test(x, test, ctx)
                                 for x, test in zip(ins, row.tests, strict=True)) if p is not None]
            matches.append(_and_all(parts))
        # a row's outputs are evaluated only where it matches, as on Python and DuckDB (DMN;
        # review 4, F12: an unmatched COLLECT row's overflow was raised)
        outs = [[self._reached(o, _true(m), ctx) for o in row.outputs]
                for row, m in zip(table.rows, matches, strict=True)]
        default = [self.expr(o, ctx) for o in table.default] if table.default is not None else None
        names = [o.name for o in table.outputs]
        rtype = polars_type(self.plan.rule_type(rule.id))

        def shape(vals: Sequence[pl.Expr]) -> pl.Expr:
            if len(names) > 1:
                return pl.struct([v.alias(k) for k, v in zip(names, vals, strict=True)])
            return vals[0]

        dflt = shape(default) if default is not None else pl.lit(None)
        unknown = _or_all([m.is_null() for m in matches]) if matches else pl.lit(False)
        nhits = _add_all([_flag(m) for m in matches])
        policy = table.hit_policy
        extra: dict[str, pl.Expr] = {}
        if policy == "first":
            chain: Any = pl
            for m, o in zip(matches, outs, strict=True):
                chain = chain.when(m.is_null()).then(None).when(m).then(shape(o))
            return (chain.otherwise(dflt) if matches else dflt), extra
        if policy in ("unique", "any"):
            open_pairs: list[pl.Expr] = []
            if policy == "unique":
                error = nhits > 1
            else:
                pairs = []
                for i in range(len(matches)):
                    for j in range(i + 1, len(matches)):
                        if _same_outputs(table, i, j):
                            continue
                        both = _true(matches[i]) & _true(matches[j])
                        # differ for sure: an output both rows know, with two values
                        differ = _or_all([a.ne(b).fill_null(False)
                                          for a, b in zip(outs[i], outs[j], strict=True)])
                        pairs.append(both & differ)
                        # may differ: an output one of them does not know
                        open_pairs.append(both & _or_all([
                            a.ne_missing(b) for a, b in zip(outs[i], outs[j], strict=True)]))
                error = _or_all(pairs)
            error = ~unknown & error
            chain = pl.when(unknown).then(None).when(error).then(None)
            if open_pairs:
                chain = chain.when(_or_all(open_pairs)).then(None)
            for m, o in zip(matches, outs, strict=True):
                chain = chain.when(_true(m)).then(shape(o))
            extra[rule.id + "__error"] = error.fill_null(False)
            return chain.otherwise(dflt), extra
        if policy in ("priority", "output_order"):
            if policy == "priority":
                # a matched row whose ranked output is unknown may outrank every other one
                opened = [_true(m) & _or_all([o[k].is_null() for k in ks])
                          for m, o, ks in zip(matches, outs, (table.open_outputs(
                              i, ranked=True) for i in range(len(matches))), strict=True)
                          if ks]
                if opened:
                    unknown = _or_all([unknown, *opened])
            # a matched row's expression output known and outside the declared values: error
            undeclared = [_true(matches[i]) & _or_all([
                outs[i][k].is_not_null() & ~_or_all([outs[i][k].eq_missing(_lit(v))
                                                     for v in table.outputs[k].values])
                for k in table.open_outputs(i, ranked=True)])
                for i in range(len(matches)) if table.open_outputs(i, ranked=True)]
            if undeclared:
                error = (~unknown & _or_all(undeclared)).fill_null(False)
                extra[rule.id + "__error"] = error
                unknown = unknown | error
            keys = [_priority_key(table, row.outputs) for row in table.rows]
            if any(k is None for k in keys):
                return self._ordered_hits(table, matches, outs, shape, dflt, unknown, nhits,
                                          rtype), extra
            order = sorted(range(len(matches)), key=lambda i: (keys[i], i))
            if policy == "priority":
                chain = pl.when(unknown).then(None)
                for i in order:
                    chain = chain.when(_true(matches[i])).then(shape(outs[i]))
                return chain.otherwise(dflt), extra
            hits = self._hits_list([matches[i] for i in order], [shape(outs[i]) for i in order],
                                   rtype)
            return pl.when(unknown).then(None).otherwise(hits), extra
        if policy == "rule_order" or (policy == "collect" and table.aggregation is None):
            hits = self._hits_list(matches, [shape(o) for o in outs], rtype)
            return pl.when(unknown).then(None).otherwise(hits), extra
        agg = table.aggregation
        if agg == "count":
            return pl.when(unknown).then(None).otherwise(nhits), extra
        first = [o[0] for o in outs]
        null_hit = _or_all([_true(m) & v.is_null() for m, v in zip(matches, first, strict=True)])
        bad = unknown | (nhits == 0) | null_hit
        if agg == "sum":
            total = _add_all([pl.when(_true(m)).then(v).otherwise(0)
                              for m, v in zip(matches, first, strict=True)])
            return pl.when(bad).then(None).otherwise(total), extra
        picked = [pl.when(_true(m)).then(v).otherwise(None)
                  for m, v in zip(matches, first, strict=True)]
        folded = pl.min_horizontal(picked) if agg == "min" else pl.max_horizontal(picked)
        return pl.when(bad).then(None).otherwise(folded), extra

    def _ordered_hits(self, table: Table, matches: Sequence[pl.Expr],
                      outs: Sequence[Sequence[pl.Expr]], shape: Callable[..., pl.Expr],
                      dflt: pl.Expr, unknown: pl.Expr, nhits: pl.Expr, rtype: Any) -> pl.Expr:
        """PRIORITY / OUTPUT ORDER when an output is an expression: each hit's rank in the
        declared output values computed per record (lexicographic over outputs, then row
        order), as one integer."""
        count = len(matches)
        sortkeys: list[pl.Expr] = []
        for i, row_outs in enumerate(outs):
            key: pl.Expr = pl.lit(0, dtype=_INT64)
            for decl, e in zip(table.outputs, row_outs, strict=True):
                idx: Any = pl
                for j, v in enumerate(decl.values):
                    idx = idx.when(e.eq_missing(_lit(v))).then(pl.lit(j, dtype=_INT64))
                pos = idx.otherwise(pl.lit(len(decl.values), dtype=_INT64)) if decl.values \
                    else pl.lit(0, dtype=_INT64)
                key = key * (len(decl.values) + 1) + pos
            sortkeys.append(pl.when(_true(matches[i])).then(key * count + i).otherwise(None))
        if table.hit_policy == "priority":
            best = pl.min_horizontal(sortkeys)
            chain: Any = pl.when(unknown).then(None).when(nhits == 0).then(dflt)
            for k, o in zip(sortkeys, outs, strict=True):
                chain = chain.when(k == best).then(shape(o))
            out: pl.Expr = chain.otherwise(None)
            return out
        items = [pl.struct(k.alias("s"), shape(o).alias("v"))
                 for k, o in zip(sortkeys, outs, strict=True)]
        lst = pl.concat_list(items).list.eval(
            pl.element().filter(pl.element().struct.field("s").is_not_null())
            .sort_by(pl.element().struct.field("s").filter(
                pl.element().struct.field("s").is_not_null())).struct.field("v"))
        lst = lst.cast(rtype) if rtype is not None else lst
        return pl.when(unknown).then(None).otherwise(lst)

    def _hits_list(self, matches: Sequence[pl.Expr], values: Sequence[pl.Expr],
                   rtype: Any) -> pl.Expr:
        """The values of the rows that hit, in order (unknown values kept)."""
        if not matches:
            return pl.lit([], dtype=rtype) if rtype is not None else pl.lit([])
        items = [pl.struct(_true(m).alias("h"), v.alias("v"))
                 for m, v in zip(matches, values, strict=True)]
        lst = pl.concat_list(items).list.eval(
            pl.element().filter(pl.element().struct.field("h")).struct.field("v"))
        return lst.cast(rtype) if rtype is not None else lst

    # -- status -------------------------------------------------------------------------------

    def status(self, rule: Rule) -> pl.Expr:
        """The status code of a rule's column (see :data:`CODE`)."""
        v = pl.col(rule.id)

        def code(name: str) -> pl.Expr:
            return pl.lit(CODE[name], dtype=pl.Int8)

        if rule.kind in ("condition", "check"):
            return pl.when(v.is_null()).then(code("unknown")).when(v).then(code("true")) \
                .otherwise(code("false"))
        chain: Any = pl
        if rule.kind == "table" and rule.table is not None and \
                rule.table.may_error:
            chain = chain.when(pl.col(rule.id + "__error")).then(code("error"))
        chain = chain.when(v.is_null()).then(code("unknown"))
        if rule.kind == "ladder":
            chain = chain.when(pl.col(rule.id + "__blocked")).then(code("unknown"))
        if self.model.rule_types.get(rule.id, t.ANY).kind == "list":
            # a list with an unknown element is unknown as a whole (backends/record.status_of)
            chain = chain.when(has_unknown_item(v)).then(code("unknown"))
        out: pl.Expr = chain.otherwise(code("value"))
        return out

    # -- entities -----------------------------------------------------------------------------

    def base(self, entity: str, frame: pl.LazyFrame, columns: Sequence[str],
             parent_key: tuple[str, Any] | None, keep: Sequence[str] = ()) -> pl.LazyFrame:
        """The records with every declared field in its type (absent ones null), ``__row``,
        ``keep`` (carried input columns that are no field) and, for child records, the parent
        key (``parent_key``: its column and the parent's key type)."""
        ent = self.model.schema.entity(entity)
        present = set(columns)
        sel: list[pl.Expr] = []
        for name, fld in ent.fields.items():
            ty = polars_type(fld.type)
            if name in present:
                c = pl.col(name).cast(ty, strict=True) if ty is not None else pl.col(name)
                # NaN in an input is missing, as evaluate_batch makes it in Arrow inputs (a
                # Polars frame comes here as it is)
                sel.append(c.fill_nan(None).alias(name) if ty == pl.Float64 else c)
            else:
                sel.append((pl.lit(None, dtype=ty) if ty is not None else pl.lit(None))
                           .alias(name))
        sel.append(pl.col(ROW))
        sel += [pl.col(c) for c in keep if c not in ent.fields and c in present]
        if parent_key is not None:
            pk, pty = parent_key
            src = pl.col(pk) if pk in present else pl.lit(None)
            sel.append(src.cast(pty).alias(PARENT))
        return frame.select(sel)

    def layers(self, frame: pl.LazyFrame, rules: Sequence[Rule], ctx: Ctx,
               extra: Sequence[tuple[int, str, pl.Expr]] = ()) -> pl.LazyFrame:
        """One ``with_columns`` per dependency depth of ``rules``."""
        for layer in self.plan.layers(rules):
            cols: list[pl.Expr] = []
            shared: list[tuple[int, str, pl.Expr]] = []
            self._shared, self._layer_entity = shared, ctx.entity
            try:
                for r in layer:
                    value, helpers = self.rule(r, ctx)
                    cols.append(value.alias(r.id))
                    cols += [h.alias(k) for k, h in helpers.items()]
            finally:
                self._shared = self._layer_entity = None
            for depth in sorted({d for d, _, _ in shared}):  # a part before those that read it
                frame = frame.with_columns([e.alias(name) for d, name, e in shared if d == depth])
            frame = frame.with_columns(cols)
        return frame

    def outputs(self, entity: str, rules: Sequence[Rule], wanted: Sequence[str] | None = None
                ) -> tuple[list[pl.Expr], list[str], list[str]]:
        """The result columns of ``entity``'s visible rules (value, status code), their ids
        and the UNIQUE/ANY tables among them; with ``wanted`` (see :attr:`.base.Job.outputs`)
        only the rules and columns it names."""
        by_id = {r.id: r for r in rules}
        out: list[pl.Expr] = []
        ids = self.plan.visible_rule_ids(entity)
        columns = set(selected_columns(ids, wanted))
        if wanted is not None:
            ids = [rid for rid in ids if rid in columns or rid + STATUS_SUFFIX in columns]
        for rid in ids:
            r = by_id.get(rid)
            ty = polars_type(self.plan.rule_type(rid))
            if rid in columns:
                if r is None:
                    value = pl.lit(None, dtype=ty) if ty is not None else pl.lit(None)
                else:
                    value = pl.col(rid)
                    if ty is not None and self.plan.rule_type(rid).kind in ("int", "decimal"):
                        value = value.cast(ty)
                out.append(value.alias(rid))
            if rid + STATUS_SUFFIX in columns:
                status = pl.lit(None, dtype=pl.Int8) if r is None else self.status(r)
                out.append(status.alias(rid + STATUS_SUFFIX))
        errs = [r.id for r in rules if r.kind == "table" and r.table is not None
                and r.table.may_error and r.id in ids]
        return out, ids, errs

    def compile_entity(self, entity: str, source: pl.LazyFrame, columns: Sequence[str],
                       members: pl.LazyFrame | None = None,
                       member_columns: Sequence[str] = (), carry: Sequence[str] = (),
                       outputs: Sequence[str] | None = None) -> EntityFrames:
        """Compile the evaluation of ``entity`` over its records (and its children's).

        Args:
            entity: the entity evaluated.
            source: its records, with a ``__row`` column.
            columns: the columns of ``source`` (absent fields read as unknown).
            members: the child records (with ``__row``), if the entity has a relation.
            member_columns: the columns of ``members``.
            carry: input columns copied into the results.
            outputs: the result columns wanted (see :attr:`.base.Job.outputs`), or ``None``
                for every visible rule. With a selection only the rules those need are
                compiled (:func:`.base.needed_rules`), and the frames have no member or
                findings part (compile again without ``outputs`` for those).
        """
        eng = self.model
        ent = eng.schema.entity(entity)
        plan = self.plan.entity_plan(entity)
        rules, crules = list(plan.rules), list(plan.child.rules) if plan.child else []
        if outputs is not None:
            keep = needed_rules(self.plan, entity, outputs)
            rules = [r for r in rules if r.id in keep]
            crules = [r for r in crules if r.id in keep]
        key = ent.key
        parent = eng.schema.parent_of(entity)
        h0 = self.base(entity, source, columns, None, carry)
        if plan.child is None or members is None:
            rank_part = [ROW] if parent is not None else []
            ctx = Ctx(entity, frozenset(r.id for r in rules), rank_partition=rank_part)
            last = self.layers(h0, rules, ctx)
            outs, ids, errs = self.outputs(entity, rules, outputs)
            # every check's frame reads the same evaluated records (and members), cached:
            # Polars' own subplan elimination does not find them once each frame's filter
            # and projection are pushed down into it
            findings = self._findings_single(entity, rules, last.cache(), ctx) \
                if outputs is None else []
            return EntityFrames(entity, key, last, h0, None, None, outs, [], ids, [], errs,
                                findings)

        child = plan.child
        rel = ent.relations[plan.relation or ""]
        key_type = polars_type(ent.fields[key].type) if key in ent.fields else pl.String
        p0 = self.base(child.entity, members, member_columns, (rel.key, key_type))
        mctx = Ctx(child.entity, frozenset(r.id for r in crules), rank_partition=[PARENT])
        plast = self.layers(p0, crules, mctx)
        aggs: dict[n.Node, str] = {}
        for r in rules:
            nodes = rule_nodes(r) + check_nodes(r)
            if r.check is not None and r.check.for_each and r.check.where is None:
                nodes.append(n.Call("any", (n.Name(r.check.for_each), n.Literal(True))))
            for node in nodes:
                for sub in n.walk(node):
                    if isinstance(sub, n.Call) and sub.func in AGGREGATES and sub.args and \
                            isinstance(sub.args[0], n.Name) and sub.args[0].id in ent.relations \
                            and sub not in aggs:
                        aggs[sub] = f"__agg{len(aggs)}"
        member_rows = plast
        reaches = self._reaches(entity, rules, aggs)
        if reaches:
            # the parent's guards of each aggregation whose parts may raise, joined to its
            # children: the parts are evaluated only where the parent's rules reach them
            guards = h0.select(pl.col(key).alias(_GUARD_KEY),
                               *[e.alias(f"{name}__reach") for name, e in reaches.items()])
            member_rows = member_rows.join(guards, left_on=PARENT, right_on=_GUARD_KEY,
                                           how="left", maintain_order="left").with_columns(
                [pl.col(f"{name}__reach").fill_null(False) for name in reaches])
        rows: dict[str, pl.Expr] = {}
        groups: list[pl.Expr] = [pl.lit(True).alias(HAS)]
        finals: list[pl.Expr] = []
        empties: dict[str, pl.Expr] = {}
        for node, name in aggs.items():
            self._rule = None
            parts = self.aggregate(node, mctx, name,  # type: ignore[arg-type]
                                   pl.col(f"{name}__reach") if name in reaches else None)
            rows.update(parts.rows)
            groups += parts.groups
            finals.append(parts.value.alias(name))
            empties[name] = parts.empty
        member_rows = member_rows.with_columns(**rows) if rows else member_rows
        agg = member_rows.group_by(PARENT).agg(groups).select(
            PARENT, HAS, *finals)
        hj = h0.join(agg, left_on=key, right_on=PARENT, how="left", coalesce=True,
                     maintain_order="left")
        if empties:
            hj = hj.with_columns([pl.when(pl.col(HAS).is_null()).then(empty)
                                  .otherwise(pl.col(name)).alias(name)
                                  for name, empty in empties.items()])
        ctx = Ctx(entity, frozenset(r.id for r in rules), aggs=aggs)
        hlast = self.layers(hj, rules, ctx)
        outs, ids, errs = self.outputs(entity, rules, outputs)
        if outputs is not None:
            return EntityFrames(entity, key, hlast, h0, p0, None, outs, [], ids, [], errs, [])
        mouts, mids, _ = self.outputs(child.entity, crules)
        findings = self._findings_family(entity, rules, child.entity, crules,
                                         hlast.cache(), plast.cache(), ctx, mctx)
        return EntityFrames(entity, key, hlast, h0, p0, plast, outs, mouts, ids, mids, errs,
                            findings)

    # -- findings -----------------------------------------------------------------------------

    def _severity(self, rule: Rule, ctx: Ctx) -> pl.Expr:
        assert rule.check is not None
        chain: Any = pl
        opened = False
        for c in rule.check.severity:
            if c.when is None:
                return chain.otherwise(pl.lit(c.level)) if opened else pl.lit(c.level)
            chain = chain.when(_true(self.expr(c.when, ctx))).then(pl.lit(c.level))
            opened = True
        last = pl.lit(rule.check.severity[-1].level)
        return chain.otherwise(last) if opened else last

    def placeholders(self, template: str, sources: Sequence[tuple[Ctx, str]]
                     ) -> tuple[list[Placeholder], list[tuple[str, str]]]:
        """The placeholders of a message, and the columns they read: ``(source prefix,
        column)`` pairs (sources: a context and the prefix its columns get)."""
        out: list[Placeholder] = []
        cols: list[tuple[str, str]] = []
        for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template):
            name = m.group(1)
            ph = Placeholder(name, None)
            for ctx, prefix in sources:
                ent = self.model.schema.entity(ctx.entity)
                if name in ctx.rules:
                    ph = Placeholder(name, prefix + name, "rule", ctx.entity)
                elif name in ent.fields:
                    ph = Placeholder(name, prefix + name, "field", ctx.entity)
                else:
                    continue
                cols.append((prefix, name))
                break
            out.append(ph)
        return out, cols

    def _findings_single(self, entity: str, rules: Sequence[Rule], last: pl.LazyFrame,
                         ctx: Ctx) -> list[RuleFinding]:
        key = self.model.schema.entity(entity).key
        out = []
        for r in rules:
            if r.kind != "check" or r.check is None or r.check.for_each:
                continue
            self._rule = r
            template = r.check.message.get(self.lang)
            phs, cols = self.placeholders(template, [(ctx, "h:")])
            frame = last.filter(_true(pl.col(r.id))).select(
                pl.col(ROW).alias("__rec_row"), pl.lit(None, dtype=_INT64).alias("__mem_row"),
                pl.col(key).cast(pl.String).alias("record_id"),
                pl.lit(None, dtype=pl.String).alias("member_id"),
                self._severity(r, ctx).alias("severity"),
                *[pl.col(c).alias(p + c) for p, c in dict.fromkeys(cols)])
            out.append(RuleFinding(r.id, entity, template, phs, frame))
        self._rule = None
        return out

    def _findings_family(self, entity: str, rules: Sequence[Rule], child: str,
                         child_rules: Sequence[Rule], hlast: pl.LazyFrame,
                         plast: pl.LazyFrame, hctx: Ctx, mctx: Ctx) -> list[RuleFinding]:
        eng = self.model
        key = eng.schema.entity(entity).key
        ckey = eng.schema.entity(child).key
        out = self._findings_single(entity, rules, hlast, hctx)

        def joined(h_filter: pl.Expr, p_filter: pl.Expr, p_sev: pl.Expr,
                   cols: list[tuple[str, str]]) -> pl.LazyFrame:
            hcols = [c for p, c in dict.fromkeys(cols) if p == "h:"]
            pcols = [c for p, c in dict.fromkeys(cols) if p == "p:"]
            h = hlast.filter(h_filter).select(
                pl.col(key).alias("__hkey"), pl.col(ROW).alias("__rec_row"),
                pl.col(key).cast(pl.String).alias("record_id"),
                *[pl.col(c).alias("h:" + c) for c in hcols])
            p = plast.filter(p_filter).select(
                pl.col(PARENT), pl.col(ROW).alias("__mem_row"),
                pl.col(ckey).cast(pl.String).alias("member_id"), p_sev.alias("severity"),
                *[pl.col(c).alias("p:" + c) for c in pcols])
            return h.join(p, left_on="__hkey", right_on=PARENT, how="inner")

        for r in rules:
            if r.kind != "check" or r.check is None or not r.check.for_each:
                continue
            self._rule = r
            template = r.check.message.get(self.lang)
            phs, cols = self.placeholders(template, [(mctx, "p:"), (hctx, "h:")])
            where = _true(self.expr(r.check.where, mctx)) if r.check.where is not None \
                else pl.lit(True)
            frame = joined(_true(pl.col(r.id)), where, self._severity(r, mctx), cols)
            out.append(RuleFinding(r.id, entity, template, phs, frame))
        for r in child_rules:
            if r.kind != "check" or r.check is None:
                continue
            self._rule = r
            template = r.check.message.get(self.lang)
            phs, cols = self.placeholders(template, [(mctx, "p:"), (hctx, "h:")])
            frame = joined(pl.lit(True), _true(pl.col(r.id)), self._severity(r, mctx), cols)
            out.append(RuleFinding(r.id, child, template, phs, frame))
        self._rule = None
        return out


_COMPARE: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}

_NULL_SAFE_BUILTINS = {"coalesce", "is_missing", "count_true"}
_BUILTIN_MODULES = ("welfare_rules.expr.functions", "builtins", "math")


def _is_builtin(fn: Any) -> bool:
    return bool(fn.plugin == BUILTIN_PLUGIN
                or getattr(fn.python, "__module__", None) in _BUILTIN_MODULES)


def _first_name(node: n.Call) -> str:
    first = node.args[0] if node.args else None
    return first.id if isinstance(first, n.Name) else "?"


def _same_outputs(table: Table, i: int, j: int) -> bool:
    a, b = table.rows[i].outputs, table.rows[j].outputs
    return all(isinstance(x, n.Literal) and isinstance(y, n.Literal) and x.value == y.value
               and type(x.value) is type(y.value) for x, y in zip(a, b, strict=True))


def _priority_key(table: Table, nodes: Sequence[n.Node]) -> int | None:
    """The rank of a row's literal outputs in the declared output values (lexicographic over
    outputs), as one integer; ``None`` when an output is not a literal."""
    if not all(isinstance(x, n.Literal) for x in nodes):
        return None
    key = 0
    for decl, node in zip(table.outputs, nodes, strict=True):
        value = node.value  # type: ignore[attr-defined]
        pos = list(decl.values).index(value) if value in decl.values else len(decl.values)
        key = key * (len(decl.values) + 1) + pos
    return key


# ---------------------------------------------------------------------------------------------
# dataset-level checks (dataset_checks.yaml): duplicate keys and forbidden combinations


def dataset_findings(comp: PolarsCompiler, checks: Mapping[str, Mapping[str, Any]],
                     entity: str, h0: pl.LazyFrame, p0: pl.LazyFrame | None
                     ) -> list[RuleFinding]:
    """The frames of the dataset checks' findings over the base records (and members, only
    those of a record in the input), with ``__rec_row``/``__mem_row`` for their order."""
    from ..schema import Text

    schema = comp.model.schema
    ent = schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    out: list[RuleFinding] = []
    for cid, spec in checks.items():
        kind = spec.get("kind")
        message = Text.of(spec.get("message")).get(comp.lang)
        severity = pl.lit(str(spec.get("severity", "warning")))
        if kind == "duplicate_key":
            target = str(spec.get("entity", "person"))
            if target == entity:
                base, on_child = h0, False
            elif rel is not None and p0 is not None and target == rel.entity:
                base = p0.join(h0.select(pl.col(ent.key).alias("__hkey"),
                                         pl.col(ROW).alias("__hrow")),
                               left_on=PARENT, right_on="__hkey", how="inner")
                on_child = True
            else:
                continue
            tent = schema.entity(target)
            keys = [str(k) for k in spec.get("key", ())]
            across = str(spec.get("across"))
            norm = set(spec.get("normalise", ()) or ())
            is_rel_key = rel is not None and rel.entity == target and across == rel.key
            if not keys or any(k not in tent.fields for k in keys) or (
                    across not in tent.fields and not is_rel_key):
                continue
            kcols = [f"__k{i}" for i in range(len(keys))]
            keyed = [(pl.col(k).cast(pl.String).str.strip_chars(" ").str.to_lowercase()
                      if k in norm else pl.col(k)).alias(c) for k, c in zip(keys, kcols,
                                                                              strict=True)]
            across_col = PARENT if on_child and is_rel_key else across
            rows = base.with_columns(keyed).filter(
                pl.all_horizontal([pl.col(c).is_not_null() for c in kcols]))
            groups = rows.group_by(kcols).agg(
                pl.col(across_col).drop_nulls().n_unique().alias("__n")).filter(
                pl.col("__n") > 1)
            phs: list[Placeholder] = []
            cols: list[str] = []
            for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", message):
                name = m.group(1)
                if name == "count":
                    phs.append(Placeholder(name, "__n", "count"))
                elif name in tent.fields:
                    phs.append(Placeholder(name, "f:" + name, "dfield", target))
                    cols.append(name)
                else:
                    phs.append(Placeholder(name, None))
            found = rows.join(groups, on=kcols, how="inner").select(
                pl.col("__hrow" if on_child else ROW).alias("__rec_row"),
                (pl.col(ROW) if on_child else pl.lit(None, dtype=_INT64)).alias("__mem_row"),
                (pl.col(PARENT) if on_child else pl.col(ent.key)).cast(pl.String)
                .alias("record_id"),
                (pl.col(tent.key).cast(pl.String) if on_child
                 else pl.lit(None, dtype=pl.String)).alias("member_id"),
                severity.alias("severity"), pl.col("__n"),
                *[pl.col(c).alias("f:" + c) for c in dict.fromkeys(cols)])
            out.append(RuleFinding(cid, target, message, phs, found))
        elif kind == "forbidden_combination":
            if spec.get("entity", entity) != entity:
                continue
            progs = {str(k): str(v) for k, v in (spec.get("programmes") or {}).items()}
            for pair_no, pair in enumerate(spec.get("forbidden", ()) or ()):
                a, b = (str(x) for x in pair)
                fa, fb = progs.get(a, ""), progs.get(b, "")
                if fa not in ent.fields or fb not in ent.fields:
                    continue
                phs = []
                cols = []
                for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", message):
                    name = m.group(1)
                    if name in ("a", "b"):
                        phs.append(Placeholder(name, None, "upper",
                                               value=(a if name == "a" else b).upper()))
                    elif name in ent.fields:
                        phs.append(Placeholder(name, "f:" + name, "dfield", entity))
                        cols.append(name)
                    else:
                        phs.append(Placeholder(name, None))
                found = h0.filter(_true(pl.col(fa)) & _true(pl.col(fb))).select(
                    pl.col(ROW).alias("__rec_row"),
                    pl.lit(pair_no, dtype=_INT64).alias("__mem_row"),
                    pl.col(ent.key).cast(pl.String).alias("record_id"),
                    pl.lit(None, dtype=pl.String).alias("member_id"),
                    severity.alias("severity"),
                    *[pl.col(c).alias("f:" + c) for c in dict.fromkeys(cols)])
                out.append(RuleFinding(cid, entity, message, phs, found))
    return out
