"""A small tree-walking interpreter with the same semantics as the generated code.

Used off the hot path only: the details of a finding (which member, which severity), and the
sub-expression values an explanation shows. Values of rules come from a decision that the
compiled code already produced, so this never re-evaluates rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import EvaluationError
from ..expr import nodes as n
from ..expr.check import AGGREGATES
from ..model import Rule
from . import runtime
from .python import rule_nodes


class Scope:
    """Name resolution for the interpreter: a record, its rule values, and related records."""

    def __init__(self, record: Mapping[str, Any], rule_value: Callable[[str], Any],
                 has_rule: Callable[[str], bool], params: Callable[[str], Any], as_of: Any,
                 functions: Mapping[str, Any],
                 relation: Callable[[str], list[Scope]] | None = None):
        self.record = record
        self.rule_value = rule_value
        self.has_rule = has_rule
        self.params = params
        self.as_of = as_of
        self.functions = functions
        self.relation = relation


def _foldable(node: n.Node) -> bool:
    for sub in n.walk(node):
        if isinstance(sub, n.Name | n.Param):
            return False
        if isinstance(sub, n.Call) and (sub.func in AGGREGATES or sub.func == "rank"
                                        or sub.func == "is_missing"):
            return False
    return True


#: built-in functions that never raise when their arguments do not (no overflow, no date out
#: of range); the member aggregations count/any/all are columns of the parent's query
_SAFE_FUNCTIONS = frozenset({
    "years_between", "months_between", "days_between", "is_valid_date", "year", "month", "day",
    "coalesce", "is_missing", "len", "substr", "startswith", "endswith", "matches", "to_int",
    "least", "greatest", "count_true", "round", "count", "any", "all"})


def can_fail(node: n.Node) -> bool:
    """Whether evaluating ``node`` may raise an :class:`~welfare_rules.errors.EvaluationError`
    for some record (an integer or decimal overflow, a date out of range, a plugin's function).
    Fields, rules, constants, parameters, comparisons and logic of such never do. A compiler
    whose target evaluates eagerly keeps such a sub-expression from being evaluated where the
    Python reference does not reach it (the right of a decided ``and``/``or``, the branch of
    an ``if`` not taken); docs/architecture.md, "Semantics at the edges"."""
    if isinstance(node, n.Name | n.Literal | n.Param):
        return False
    if isinstance(node, n.Unary) and node.op == "not":
        return can_fail(node.operand)
    if isinstance(node, n.Call) and node.func not in _SAFE_FUNCTIONS:
        return True
    if isinstance(node, n.ListLit | n.Compare | n.BoolOp | n.IfExp | n.Call):
        return any(can_fail(c) for c in node.children())
    return True


#: a condition on the way to a sub-expression and what it must be for the Python reference to
#: evaluate that sub-expression: ``"true"`` (an ``if``'s body), ``"false"`` (its ``else``),
#: ``"not false"`` (a part of an ``and`` after it), ``"not true"`` (a part of an ``or``)
Guard = tuple[n.Node, str]


def _guards_to(root: n.Node, target: n.Node) -> list[tuple[Guard, ...]]:
    """The guards on the way from ``root`` to each occurrence of ``target`` in it."""
    out: list[tuple[Guard, ...]] = []

    def walk(node: n.Node, path: tuple[Guard, ...]) -> None:
        if node == target:
            out.append(path)
        elif isinstance(node, n.BoolOp):
            want = "not false" if node.op == "and" else "not true"
            for i, v in enumerate(node.values):
                walk(v, path + tuple((p, want) for p in node.values[:i]))
        elif isinstance(node, n.IfExp):
            walk(node.test, path)
            walk(node.body, (*path, (node.test, "true")))
            walk(node.orelse, (*path, (node.test, "false")))
        else:
            for c in node.children():
                walk(c, path)

    walk(root, ())
    return out


def reach_of(target: n.Node, roots: list[n.Node], usable: Callable[[n.Node], bool]
             ) -> list[tuple[Guard, ...]] | None:
    """Where the Python reference evaluates ``target`` (a member aggregation of a parent's
    rules, whose expression trees are ``roots``): on a record where, for some occurrence of it,
    every guard on its way holds — a disjunction of conjunctions. A guard whose condition is
    not ``usable`` (one the caller cannot compute before the aggregation) is left out, which
    only widens the reach; ``None``: reached everywhere (an occurrence without a guard, or
    none found)."""
    paths = [tuple(g for g in path if usable(g[0]))
             for root in roots for path in _guards_to(root, target)]
    if not paths or any(not p for p in paths):
        return None
    return paths


def check_nodes(rule: Rule) -> list[n.Node]:
    """The severity conditions of a record-level check (they may aggregate over members too)."""
    if rule.check is None or rule.check.for_each:
        return []
    return [c.when for c in rule.check.severity if c.when is not None]


def aggregation_reaches(aggs: Mapping[n.Node, str], rules: Sequence[Rule],
                        fields: Mapping[str, Any]) -> dict[str, n.Node]:
    """For each member aggregation of ``aggs`` (node -> its column) whose ``where`` or value
    may raise, where the Python reference reaches it in the expression trees of ``rules``
    (:func:`reach_of`), as a condition over the record's ``fields`` that is never unknown; an
    aggregation reached everywhere has none, nor one behind a guard that reads a rule or
    another aggregation (its parts are then computed where the rest of the guards hold, more
    than Python evaluates). The SQL and Polars compilers compile each condition as it is."""
    roots = [node for r in rules for node in rule_nodes(r) + check_nodes(r)]
    out: dict[str, n.Node] = {}
    for node, name in aggs.items():
        if not any(can_fail(c) for c in node.children()):
            continue
        paths = reach_of(node, roots, lambda c: on_fields(c, fields))
        if paths is not None:
            out[name] = _any_of([_all_of([_holds(g) for g in path]) for path in paths])
    return out


def _holds(guard: Guard) -> n.Node:
    """A guard as a condition that is never unknown: ``coalesce(c, False)`` is "c is true",
    ``not coalesce(c, True)`` "c is false", and their negations the other two."""
    cond, want = guard
    known = n.Call("coalesce", (cond, n.Literal(want in ("not false", "false"))))
    return known if want in ("true", "not false") else n.Unary("not", known)


def _all_of(parts: Sequence[n.Node]) -> n.Node:
    return parts[0] if len(parts) == 1 else n.BoolOp("and", tuple(parts))


def _any_of(parts: Sequence[n.Node]) -> n.Node:
    return parts[0] if len(parts) == 1 else n.BoolOp("or", tuple(parts))


def on_fields(cond: n.Node, fields: Mapping[str, Any]) -> bool:
    """Whether ``cond`` can be computed from a record's ``fields`` alone and never raises (no
    rule, aggregation or rank read): a guard :func:`reach_of` can use before any rule."""
    if can_fail(cond):
        return False
    for sub in n.walk(cond):
        if isinstance(sub, n.Name) and sub.id != "as_of" and sub.id not in fields:
            return False
        if isinstance(sub, n.Call) and (sub.func in AGGREGATES or sub.func == "rank"):
            return False
    return True


def always_null(node: n.Node, as_of: Any, functions: Mapping[str, Any],
                param: Callable[[str], Any], not_in_force: Callable[[str], bool]) -> bool:
    """Whether ``node`` is unknown for every record, as a compiler can see before it runs:
    ``None``, a rule ``not_in_force``, a parameter whose ``param`` value is None, a division
    by a constant zero, constants that fold to None, and
    a null-propagating operation of one of these. An optimizer folds an operation of such a
    part to NULL and drops its other operands (DuckDB: ``y * y + x // 0``), and Polars' null
    guards skip literals: the SQL compiler then evaluates the other operands first, Polars
    writes the call's null (found by ``tests/core/test_generated_rules.py``)."""
    def null(e: n.Node) -> bool:
        return always_null(e, as_of, functions, param, not_in_force)

    if isinstance(node, n.Literal):
        return node.value is None
    if isinstance(node, n.Name):
        return not_in_force(node.id)
    if isinstance(node, n.Param):
        return param(node.path) is None
    if isinstance(node, n.Unary):
        return node.op == "-" and null(node.operand)
    if isinstance(node, n.BinOp):
        if node.op in ("/", "//", "%"):
            divisor = node.right
            folded, value = (True, divisor.value) if isinstance(divisor, n.Literal) else \
                fold(divisor, as_of, functions)
            if folded and value is not None and value == 0:
                return True
        return null(node.left) or null(node.right)
    if isinstance(node, n.Compare):
        return node.op not in ("in", "notin") and (null(node.left) or null(node.right))
    if isinstance(node, n.Call) and node.func in functions and \
            node.func not in AGGREGATES and node.func != "rank":
        if functions[node.func].null_propagating and any(null(a) for a in node.args):
            return True
        folded, value = fold(node, as_of, functions)
        return folded and value is None
    return False


def fold(node: n.Node, as_of: Any, functions: Mapping[str, Any]) -> tuple[bool, Any]:
    """Constant folding, the same for every compiler: ``(True, value)`` for an expression
    that reads no field, rule or parameter; ``(False, None)`` when it does, when it is a bare
    literal or list, when its value is a list or mapping, or when evaluating it raises (a
    constant out of range is then compiled, so the error is the run's and only where a row
    takes that branch, as in the Python backend); ``(False, error)`` when that failure is an
    :class:`~welfare_rules.errors.EvaluationError`, for a compiler that must raise it only
    where a row takes the branch."""
    if isinstance(node, n.Literal | n.ListLit) or not _foldable(node):
        return False, None
    scope = Scope({}, lambda _: None, lambda _: False, lambda _: None, as_of, functions)
    try:
        value = evaluate(node, scope)
    except EvaluationError as exc:
        return False, exc
    except Exception:  # any other failure: not folded, compiled as it is
        return False, None
    if isinstance(value, list | dict):
        return False, None
    return True, value


def evaluate(node: n.Node, s: Scope) -> Any:
    if isinstance(node, n.Literal):
        return node.value
    if isinstance(node, n.Name):
        if node.id == "as_of":
            return s.as_of
        if s.has_rule(node.id):
            return s.rule_value(node.id)
        return s.record.get(node.id)
    if isinstance(node, n.Param):
        return s.params(node.path)
    if isinstance(node, n.ListLit):
        return [evaluate(i, s) for i in node.items]
    if isinstance(node, n.Unary):
        v = evaluate(node.operand, s)
        if v is None:
            return None
        return (not v) if node.op == "not" else runtime.bounded(-v)
    if isinstance(node, n.BinOp):
        a, b = evaluate(node.left, s), evaluate(node.right, s)
        if a is None or b is None:
            return None
        if node.op in ("/", "//", "%") and b == 0:
            return None
        return runtime.bounded({
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "/": lambda: float(a) / b, "//": lambda: runtime.floordiv(a, b),
            "%": lambda: runtime.floormod(a, b)}[node.op]())
    if isinstance(node, n.Compare):
        a, b = evaluate(node.left, s), evaluate(node.right, s)
        if a is None or b is None:
            return None
        if node.op in ("in", "notin"):
            found = runtime.member(a, b)
            return found if node.op == "in" or found is None else not found
        return {"==": a == b, "!=": a != b}.get(node.op) if node.op in ("==", "!=") else \
            {"<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b,
             ">=": lambda: a >= b}[node.op]()
    if isinstance(node, n.BoolOp):
        vals = []
        for v in node.values:
            x = evaluate(v, s)
            if node.op == "and" and x is False:
                return False
            if node.op == "or" and x is True:
                return True
            vals.append(x)
        return runtime.kleene_and(vals) if node.op == "and" else runtime.kleene_or(vals)
    if isinstance(node, n.IfExp):
        c = evaluate(node.test, s)
        if c is None:
            return None
        return evaluate(node.body if c else node.orelse, s)
    if isinstance(node, n.Call):
        return _call(node, s)
    raise TypeError(f"cannot evaluate {node!r}")


def _call(node: n.Call, s: Scope) -> Any:
    name = node.func
    if s.relation is not None and node.args and isinstance(node.args[0], n.Name) and \
            name in ("count", "any", "all", "sum", "min", "max"):
        try:
            members = s.relation(node.args[0].id)
        except KeyError:
            members = None
        if members is not None:
            return _aggregate(node, members)
    if name in ("min", "max"):
        name = "least" if name == "min" else "greatest"
    fn = s.functions[name]
    args = [evaluate(a, s) for a in node.args]
    if fn.null_propagating and any(a is None for a in args):
        return None
    return fn.python(*args)


def _aggregate(node: n.Call, members: list[Scope]) -> Any:
    name = node.func
    where = node.kwarg("where")
    args = node.args[1:]
    picked = []
    for m in members:
        if where is not None:
            w = evaluate(where, m)
            if w is None:
                return None
            if not w:
                continue
        picked.append(m)
    if name == "count" and not args:
        return len(picked)
    vals = [evaluate(args[0], m) for m in picked]
    if name == "count":
        return None if any(v is None for v in vals) else sum(1 for v in vals if v)
    if name == "any":
        return runtime.kleene_or(vals)
    if name == "all":
        return runtime.kleene_and(vals)
    if any(v is None for v in vals):
        return None
    if name == "sum":
        return sum(vals)
    if not vals:
        return None
    return min(vals) if name == "min" else max(vals)
