"""The Python reference backend: rules compiled to Python source, once per engine.

For each entity the engine evaluates, the rules in force are turned into one generated module:
straight-line code with a local variable per intermediate value, Kleene logic inlined with
short-circuits, and related records (a household's members) evaluated in phases so that
``rank()`` sees every sibling's earlier values. Only code we generate is compiled, from trees the
whitelisting parser built: literals are emitted with ``repr`` and names are our own slot numbers,
so no text from a rule file ever becomes code.

The result of one evaluation is a list of rule values by slot (and one list per member); the
engine's :class:`~welfare_rules.engine.Decision` turns them into values, statuses and
explanations lazily, which is why tracing costs little.
"""

from __future__ import annotations

import datetime
import itertools
import math
import operator
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from .. import types as t
from ..errors import EvaluationError, WelfareRulesError
from ..expr import nodes as n
from ..expr.check import Checker, Env, Refs
from ..expr.functions import Function
from ..expr.regex import matcher
from ..model import Rule, Table, UnaryTest
from ..plan import EntityPlan, Missing, Plan
from . import runtime

__all__ = ["Compiled", "EntityPlan", "Fusible", "PythonCompiler", "RecordPlan", "TraceEntry",
           "compile_plan", "exec_generated", "missing_params", "rule_nodes"]


@attrs.frozen
class Fusible:
    """The pieces of a compiled entity's generated code, for :mod:`.fused` to join with the
    record contract's tests into one function (the code of ``run`` without its reads).

    For the compiled entity: ``body`` computes its rules at indentation 1, after its fields
    are in the variables ``reads`` names (its relation in ``members``, the members' values in
    ``MR``) and its parameters taken by ``params``; ``result`` is the list of its slot values.
    For a child entity: ``body`` is the first phase's code for one member at indentation 2
    (ending with ``MR.append(...)``; empty when the first step is a rank), ``result`` the line
    creating ``MR`` before the loop over members, and ``steps`` the functions of the later
    phases and ranks (in ``functions``), each called as ``step(members, MR, P, as_of)``.
    """

    reads: Mapping[str, str]
    params: tuple[str, ...]
    body: tuple[str, ...]
    result: str
    steps: tuple[str, ...] = ()
    functions: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    namespace: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define
class Compiled:
    """A compiled entity: ``run(record, params, as_of)`` returns (rule values, member values)."""

    entity: str
    slots: dict[str, int]
    rules: list[Rule]
    run: Callable[[Mapping[str, Any], Sequence[Any], datetime.date], tuple[list[Any], list[Any]]]
    child: Compiled | None
    relation: str | None
    source: str
    details: dict[str, Callable[..., Any]] = attrs.field(factory=dict)
    run_members: Callable[..., list[list[Any]]] | None = None
    #: the pieces of ``run`` that the fused evaluation reuses (:mod:`.fused`)
    fusible: Fusible | None = None
    #: the fused evaluation of a record of this entity, once built (:func:`.fused.fused_run`)
    fused: Callable[..., Any] | None = None


@attrs.frozen
class TraceEntry:
    """The static part of one rule's trace (see :meth:`RecordPlan.trace_entries`)."""

    rule_id: str
    slot: int
    fields: tuple[str, ...]
    rules: tuple[tuple[str, int], ...]
    params: Mapping[str, tuple[Any, datetime.date | None, str]]


@attrs.define
class RecordPlan:
    """A :class:`~welfare_rules.plan.Plan` with one entity compiled to Python: what a
    decision reads (the compiled code, the parameter values and their dates, the rules in
    force, the functions)."""

    plan: Plan
    compiled: Compiled
    params: list[Any]
    param_since: dict[str, datetime.date | None]
    rules: dict[str, Rule]  # in force, by id (all entities)
    param_index: Mapping[str, int]
    functions: Mapping[str, Function]

    _traces: dict[str, list[TraceEntry]] = attrs.field(factory=dict, init=False, repr=False)

    @classmethod
    def of(cls, plan: Plan, compiled: Compiled) -> RecordPlan:
        return cls(plan, compiled, plan.params, plan.param_since, plan.rules, plan.param_index,
                   plan.model.functions)

    def trace_entries(self, entity: str) -> list[TraceEntry]:
        """What a trace of a record of ``entity`` (the compiled entity or its child) shows that
        does not depend on the record: per rule in force, its slot, the fields it reads, the
        rules it reads with their slots and its parameters with value, date and reference.
        Built once per plan and entity."""
        hit = self._traces.get(entity)
        if hit is None:
            comp = self.compiled
            slots = comp.slots if comp.entity == entity or comp.child is None else \
                comp.child.slots
            hit = []
            model = self.plan.model
            for rid, slot in slots.items():
                rule = self.rules.get(rid)
                if rule is None:
                    continue
                refs = model.rule_refs(rule)
                params = {p: (self.params[self.param_index[p]], self.param_since.get(p),
                              model.parameters[p].reference) for p in refs.params}
                hit.append(TraceEntry(rid, slot, tuple(refs.fields),
                                      tuple((r, slots[r]) for r in refs.rules if r in slots),
                                      params))
            self._traces[entity] = hit
        return hit

    def param(self, name: str) -> Any:
        """The value in force of a parameter (None when it has none)."""
        return self.plan.param(name)


def missing_params(plan: Plan) -> frozenset[str]:
    """The parameters with no value on the plan's date: the only ones whose reading code
    compiled for ``plan`` must guard (a guard of a parameter that has a value never fires, and
    such guards sat in every member loop). Code compiled for one plan serves another with the
    same selection and the same missing parameters."""
    return frozenset(name for name, i in plan.param_index.items()
                     if plan.params[i].__class__ is Missing)


def compile_plan(plan: Plan, entity: str, namespace: Mapping[str, Any] | None = None
                 ) -> Compiled:
    """Compile ``entity`` for the rules in force in ``plan`` (guarding the reads of the
    parameters :func:`missing_params` names).

    Args:
        plan: the plan (rules in force, parameters).
        entity: the entity compiled (with its child entity, if it has a relation).
        namespace: replaces names the generated code uses (the batch runner's lenient hit
            policies).
    """
    model = plan.model
    comp = PythonCompiler(model.functions, plan.param_index, plan.not_in_force,
                          guarded=missing_params(plan),
                          lists=frozenset(r for r, ty in model.rule_types.items()
                                          if ty.kind == "list"),
                          env=Env(model.schema, {rid: vs[0].entity
                                                 for rid, vs in model.rules.items()},
                                  dict(model.rule_types),
                                  {k: p.type for k, p in model.parameters.items()},
                                  model.functions))
    comp.namespace.update(namespace or {})
    comp.names = {e: len(ent.fields) + len(ent.relations)
                  for e, ent in model.schema.entities.items()}
    ep = plan.entity_plan(entity)
    relations = {r for e in model.schema.entities.values() for r in e.relations}
    if model.schema.parent_of(entity) is not None and not model.schema.entity(
            entity).relations:
        return comp._compile_child(ep)
    return comp.compile(ep, relations)


_LITERAL = re.compile(r"^(-?[0-9][0-9_.e+-]*|'.*'|\".*\"|True|False|C[0-9]+)$", re.S)


def nullable(*atoms: str) -> str:
    """The condition 'any of these is None', leaving out atoms that are never None."""
    parts = []
    for a in atoms:
        if a == "None":
            return "True"
        if _LITERAL.match(a) or a == "as_of":
            continue
        parts.append(f"{a} is None")
    return " or ".join(parts) if parts else "False"


class _Gen:
    """Emits Python source lines with indentation and fresh temporaries."""

    def __init__(self, indent: int = 1, *, straight: bool = False) -> None:
        self.lines: list[str] = []
        self.indent = indent
        self.counter = itertools.count()
        #: at this indentation a line runs once per call (per member in a phase loop); -1: none
        self.base = indent if straight else -1
        #: counts of true values already computed at the base level, by their operands: the
        #: criteria an ``at_least`` and a ``count_true`` of the same rules share are counted once
        self.true_counts: dict[tuple[str, ...], str] = {}

    def count_true(self, atoms: Sequence[str]) -> str:
        """The variable holding how many of ``atoms`` are True (computed once per level)."""
        key = tuple(atoms)
        hit = self.true_counts.get(key)
        if hit is not None:
            return hit
        t = self.tmp()
        self.emit(f"{t} = " + (" + ".join(f"({a} is True)" for a in atoms) or "0"))
        if self.indent == self.base:  # unconditional here: later rules may reuse it
            self.true_counts[key] = t
        return t

    def tmp(self) -> str:
        return f"t{next(self.counter)}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)


#: the loop of an aggregate over a record's members and their rule values
_MEMBER_LOOP = "zip(members, MR)"

#: the built-in functions whose value is one of their arguments: of a decimal type when one
#: argument is a decimal, whatever the argument it gives (PythonCompiler._as_decimal)
_MERGING = frozenset({"coalesce", "least", "greatest"})


def _as_double(g: _Gen, v: str) -> str:
    """A new variable holding ``v`` as a double where it is an int (other values kept)."""
    out = g.tmp()
    g.emit(f"{out} = float({v}) if ({v}).__class__ is int else {v}")
    return out


@attrs.define
class _Ctx:
    """How names resolve while generating one function."""

    field_var: Callable[[str], str]
    rule_var: Callable[[str], str]
    member_field: Callable[[str], str] | None = None
    member_rule: Callable[[str], str] | None = None
    in_member: bool = False
    rank_slot: Callable[[n.Call], str] | None = None
    relation_loop: str = _MEMBER_LOOP
    #: the entity whose record the names read (a member's inside an aggregation over members)
    entity: str = ""


class PythonCompiler:
    """Compiles entity plans to Python functions."""

    def __init__(self, functions: Mapping[str, Function], param_index: Mapping[str, int],
                 not_in_force: frozenset[str] = frozenset(), *,
                 guarded: frozenset[str] | None = None, lists: frozenset[str] = frozenset(),
                 env: Env | None = None):
        self.functions = functions
        #: the types of expressions (None: not known, every comparison compiled plain)
        self.env = env
        self._checkers: dict[str, Checker] = {}
        #: per table (by id, the table kept by the plan), whether each output is a decimal
        self._decimal_outputs: dict[int, tuple[bool, ...]] = {}
        #: the child entity of the entity compiled (what an aggregation's names read)
        self._child_entity = ""
        #: the rules whose value is a list (compared Kleene-wise: unknown with an unknown item)
        self.lists = lists
        self.param_index = param_index
        #: the parameters whose reads are guarded: before each rule reading one, a test that it
        #: has a value (raising the ParameterError naming the rule); None: every parameter
        self.guarded = guarded
        #: rule ids with no version in force for this compilation: they read as unknown
        self.not_in_force = not_in_force
        self.consts: dict[str, Any] = {}
        #: how many names (fields and relations) each entity declares: a record holding as many
        #: keys after the record contract holds every one of them (see :meth:`_reads`)
        self.names: Mapping[str, int] = {}
        #: how many reads of a member record's field were emitted (a loop over members that
        #: reads none iterates over their rule values alone)
        self._member_reads = 0
        self.namespace: dict[str, Any] = {
            "datetime": datetime, "_rt": runtime, "_Missing": Missing,
            "_pmiss": runtime.param_missing, "EvaluationError": EvaluationError,
        }
        for name, fn in functions.items():
            self.namespace[f"F_{name}"] = fn.python

    def _may_be_list(self, node: n.Node) -> bool:
        """Whether a compared operand may be a list: a list literal or a rule whose type is a
        list (the Python compiler reads no other types)."""
        return isinstance(node, n.ListLit) or (isinstance(node, n.Name)
                                               and node.id in self.lists)

    def _kind(self, node: n.Node, entity: str) -> str:
        """The kind of ``node``'s type ("" when not known)."""
        if self.env is None or not entity:
            return ""
        checker = self._checkers.get(entity)
        if checker is None:
            checker = self._checkers[entity] = Checker(self.env, entity)
        try:
            return checker.check(node, Refs()).kind
        except WelfareRulesError:  # a type the checker cannot tell: compiled plain
            return ""

    def _mixed_numbers(self, node: n.Compare, ctx: _Ctx) -> bool:
        """Whether a comparison compares an integer with a decimal: compared as doubles on
        every backend (the integer converted, as SQL and Polars do), so past 2**53 an integer
        equals the double it rounds to (docs/architecture.md, "Semantics at the edges")."""
        kinds = {self._kind(node.left, ctx.entity), self._kind(node.right, ctx.entity)}
        return kinds == {t.INT.kind, t.DECIMAL.kind}

    # -- constants ----------------------------------------------------------------------------

    def const(self, value: Any) -> str:
        name = f"C{len(self.consts)}"
        self.consts[name] = value
        self.namespace[name] = value
        return name

    def literal(self, v: Any) -> str:
        if isinstance(v, float) and not math.isfinite(v):
            return self.const(v)  # repr() gives 'inf'/'nan', which are not Python literals
        if v is None or isinstance(v, bool | int | float | str):
            return repr(v)
        return self.const(v)

    # -- expressions --------------------------------------------------------------------------

    def expr(self, g: _Gen, node: n.Node, ctx: _Ctx, params_used: set[str]) -> str:
        """Emit statements computing ``node``; return the variable (or literal) holding it."""
        if isinstance(node, n.Literal):
            return self.literal(node.value)
        if isinstance(node, n.Name):
            if node.id in self.not_in_force:
                return "None"
            if node.id == "as_of":
                return "as_of"
            if ctx.in_member:
                assert ctx.member_field is not None
                assert ctx.member_rule is not None
                try:
                    return ctx.member_rule(node.id)
                except KeyError:
                    return ctx.member_field(node.id)
            try:
                return ctx.rule_var(node.id)
            except KeyError:
                return ctx.field_var(node.id)
        if isinstance(node, n.Param):
            params_used.add(node.path)
            return f"p{self.param_index[node.path]}"
        if isinstance(node, n.ListLit):
            # a list value (a rule's, or an operand of == and !=) keeps its order and
            # duplicates, as on the columnar backends; ``in`` has its own set (member())
            items = [self.expr(g, i, ctx, params_used) for i in node.items]
            t = g.tmp()
            g.emit(f"{t} = [{', '.join(items)}]")
            return t
        if isinstance(node, n.Unary):
            a = self.expr(g, node.operand, ctx, params_used)
            t = g.tmp()
            if node.op == "not":
                g.emit(f"{t} = None if {nullable(a)} else not {a}")
            else:
                g.emit(f"{t} = None if {nullable(a)} else _rt.bounded(-{a})")
            return t
        if isinstance(node, n.BinOp):
            a = self.expr(g, node.left, ctx, params_used)
            b = self.expr(g, node.right, ctx, params_used)
            t = g.tmp()
            guard = nullable(a, b)
            if node.op in ("/", "//", "%"):
                guard += f" or {b} == 0"
            # the bounds every backend shares (docs/security.md); "/" divides as doubles, as
            # the columnar backends do (an int beyond 2**53 is rounded before dividing)
            if node.op in ("//", "%"):  # decimals: q = floor(a / b), r = a - b * q
                fn = "floordiv" if node.op == "//" else "floormod"
                g.emit(f"{t} = None if {guard} else _rt.{fn}({a}, {b})")
                return t
            left = f"float({a})" if node.op == "/" else a
            g.emit(f"{t} = None if {guard} else _rt.bounded({left} {node.op} {b})")
            return t
        if isinstance(node, n.Compare):
            a = self.expr(g, node.left, ctx, params_used)
            if node.op in ("in", "notin"):
                m = self.member(g, a, node.right, ctx, params_used)
                if node.op == "in":
                    return m
                t = g.tmp()
                g.emit(f"{t} = None if {m} is None else not {m}")
                return t
            b = self.expr(g, node.right, ctx, params_used)
            t = g.tmp()
            guard = nullable(a, b)
            if node.op in ("==", "!=") and any(self._may_be_list(x) for x in (node.left,
                                                                             node.right)):
                # a list with an unknown item is unknown as a whole (record.status_of)
                guard = f"{guard} or _rt.has_unknown({a}) or _rt.has_unknown({b})"
            if self._mixed_numbers(node, ctx):
                g.emit(f"{t} = None if {guard} else float({a}) {node.op} float({b})")
            else:
                g.emit(f"{t} = None if {guard} else {a} {node.op} {b}")
            return t
        if isinstance(node, n.BoolOp):
            return self.boolop(g, node, ctx, params_used)
        if isinstance(node, n.IfExp):
            c = self.expr(g, node.test, ctx, params_used)
            t = g.tmp()
            g.emit(f"if {c} is None:")
            g.indent += 1
            g.emit(f"{t} = None")
            g.indent -= 1
            g.emit(f"elif {c}:")
            g.indent += 1
            b = self.expr(g, node.body, ctx, params_used)
            g.emit(f"{t} = {b}")
            g.indent -= 1
            g.emit("else:")
            g.indent += 1
            o = self.expr(g, node.orelse, ctx, params_used)
            g.emit(f"{t} = {o}")
            g.indent -= 1
            return self._as_decimal(g, node, t, ctx)
        if isinstance(node, n.Call):
            v = self.call(g, node, ctx, params_used)
            return self._as_decimal(g, node, v, ctx) if node.func in _MERGING else v
        raise TypeError(f"cannot compile {node!r}")

    def _as_decimal(self, g: _Gen, node: n.Node, v: str, ctx: _Ctx) -> str:
        """``v``, the value of an ``if`` or of a function giving one of its arguments
        (:data:`_MERGING`), converted to a double where ``node`` is a decimal and the value an
        integer: ``x if c else amount`` is a decimal, as on SQL and Polars (which convert the
        integer), not the integer ``x`` (whose Arrow column would not hold a decimal's values,
        and whose arithmetic above would be exact where theirs is not)."""
        if self._kind(node, ctx.entity) != t.DECIMAL.kind:
            return v
        return _as_double(g, v)

    def boolop(self, g: _Gen, node: n.BoolOp, ctx: _Ctx, params_used: set[str]) -> str:
        stop = "False" if node.op == "and" else "True"
        other = "True" if node.op == "and" else "False"
        acc = g.tmp()
        first = self.expr(g, node.values[0], ctx, params_used)
        g.emit(f"{acc} = {first}")
        opened = 0
        for v in node.values[1:]:
            g.emit(f"if {acc} is not {stop}:")
            g.indent += 1
            opened += 1
            x = self.expr(g, v, ctx, params_used)
            g.emit(f"{acc} = {stop} if {x} is {stop} else "
                   f"(None if {nullable(acc, x)} else {other})")
        g.indent -= opened
        return acc

    def call(self, g: _Gen, node: n.Call, ctx: _Ctx, params_used: set[str]) -> str:
        name = node.func
        is_rel = bool(node.args) and isinstance(node.args[0], n.Name) and not ctx.in_member \
            and ctx.member_field is not None and name in ("count", "any", "all", "sum",
                                                          "min", "max") \
            and self._is_relation(node.args[0].id)
        if is_rel:
            return self.aggregate(g, node, ctx, params_used)
        if name == "rank":
            assert ctx.rank_slot is not None
            return ctx.rank_slot(node)
        if name in ("min", "max"):
            name = "least" if name == "min" else "greatest"
        fn = self.functions[name]
        args = [self.expr(g, a, ctx, params_used) for a in node.args]
        t = g.tmp()
        inline = self._inline_call(g, name, fn, args, t)
        if inline:
            return t
        call = f"F_{name}({', '.join(args)})"
        if all(isinstance(a, n.Literal) for a in node.args) and name != "is_missing":
            try:
                value = fn.python(*[a.value for a in node.args])  # type: ignore[attr-defined]
            except EvaluationError:
                pass  # out of range: raised where a record computes it, as on every backend
            except Exception:
                return self.literal(None)
            else:
                return self.literal(value)
        if fn.null_propagating and args and nullable(*args) != "False":
            g.emit(f"{t} = None if {nullable(*args)} else {call}")
        else:
            g.emit(f"{t} = {call}")
        return t

    _relations: frozenset[str] = frozenset()

    def _inline_call(self, g: _Gen, name: str, fn: Function, args: list[str], t: str) -> bool:
        """Inline the hottest built-ins (a Python call costs more than their body)."""
        from ..expr import functions as F

        if name == "is_missing" and fn.python is not F.builtin_python("is_missing"):
            return False
        if name == "is_missing" and len(args) == 1:
            g.emit(f"{t} = {args[0]} is None")
            return True
        if name == "count_true" and fn.python is F.count_true:
            g.emit(f"{t} = {g.count_true(args)}")
            return True
        if name == "coalesce" and len(args) == 2 and fn.python is F.coalesce:
            a, b = args
            g.emit(f"{t} = {a} if {a} is not None else {b}")
            return True
        if name == "matches" and fn.python is F.matches and len(args) == 2 and \
                args[1].startswith(("'", '"')):
            import ast as _ast

            rx = self.const(matcher(_ast.literal_eval(args[1])))
            g.emit(f"{t} = None if {nullable(args[0])} else {rx}({args[0]})")
            return True
        if name == "substr" and fn.python is F.substr and len(args) == 3 and \
                args[1].isdigit() and args[2].isdigit():
            start, length = int(args[1]), int(args[2])
            g.emit(f"{t} = None if {nullable(args[0])} else "
                   f"{args[0]}[{start}:{start + length}]")
            return True
        if name == "years_between" and fn.python is F.years_between and len(args) == 2:
            a, b = args
            g.emit(f"if {nullable(a, b)}:")
            g.emit(f"    {t} = None")
            g.emit(f"elif {b} >= {a}:")
            g.emit(f"    {t} = {b}.year - {a}.year - (({b}.month, {b}.day) < "
                   f"({a}.month, {a}.day))")
            g.emit("else:")
            g.emit(f"    {t} = F_years_between({a}, {b})")
            return True
        return False

    def _is_relation(self, name: str) -> bool:
        return name in self._relations

    def aggregate(self, g: _Gen, node: n.Call, ctx: _Ctx, params_used: set[str]) -> str:
        name = node.func
        mctx = attrs.evolve(ctx, in_member=True, entity=self._child_entity)
        where = node.kwarg("where")
        args = node.args[1:]
        t = g.tmp()
        unk = g.tmp()
        if name == "count" and not args and where is None:
            g.emit(f"{t} = len(members)")
            return t
        init = {"count": "0", "sum": "0", "any": "False", "all": "True",
                "min": "None", "max": "None"}[name]
        g.emit(f"{t} = {init}")
        g.emit(f"{unk} = False")
        # Every member is evaluated, as on every other backend: a member that decides the
        # result (any true, all false) or makes it unknown does not stop the loop, so an error
        # in a later member is raised whatever the members' order (the loop stopped there,
        # and Python's answer depended on the order). any/all with where=: a known stop value
        # must not hide an unknown where of another member (the result is unknown).
        kleene_where = where is not None and name in ("any", "all")
        wunk = g.tmp() if kleene_where else unk
        found = g.tmp() if kleene_where else ""
        if kleene_where:
            g.emit(f"{wunk} = False")
            g.emit(f"{found} = False")
        header = len(g.lines)
        reads = self._member_reads
        g.emit(f"for m, mr in {ctx.relation_loop}:")
        g.indent += 1
        if where is not None:
            w = self.expr(g, where, mctx, params_used)
            g.emit(f"if {w} is None:")
            g.indent += 1
            g.emit(f"{wunk} = True")
            g.emit("continue")
            g.indent -= 1
            g.emit(f"if not {w}:")
            g.indent += 1
            g.emit("continue")
            g.indent -= 1
        if name == "count" and not args:
            g.emit(f"{t} += 1")
        else:
            x = self.expr(g, args[0], mctx, params_used)
            if name == "count":
                g.emit(f"if {x} is None:")
                g.indent += 1
                g.emit(f"{unk} = True")
                g.indent -= 1
                g.emit(f"elif {x}:")
                g.indent += 1
                g.emit(f"{t} += 1")
                g.indent -= 1
            elif name in ("any", "all"):
                stop = "True" if name == "any" else "False"
                g.emit(f"if {x} is {stop}:")
                g.indent += 1
                if kleene_where:
                    g.emit(f"{found} = True")
                    g.emit("continue")
                else:
                    g.emit(f"{t} = {stop}")
                    g.emit("continue")
                g.indent -= 1
                g.emit(f"if {x} is None:")
                g.indent += 1
                g.emit(f"{unk} = True")
                g.indent -= 1
            else:
                g.emit(f"if {x} is None:")
                g.indent += 1
                g.emit(f"{unk} = True")
                g.emit("continue")
                g.indent -= 1
                if name == "sum":
                    g.emit(f"{t} += {x}")
                else:
                    cmp = "<" if name == "min" else ">"
                    g.emit(f"if {t} is None or {x} {cmp} {t}:")
                    g.indent += 1
                    g.emit(f"{t} = {x}")
                    g.indent -= 1
        g.indent -= 1
        if self._member_reads == reads and ctx.relation_loop == _MEMBER_LOOP:
            # the loop reads no field of the member record, only its rule values
            g.lines[header] = g.lines[header].replace(f"m, mr in {ctx.relation_loop}",
                                                      "mr in MR")
        if kleene_where:
            stop = "True" if name == "any" else "False"
            g.emit(f"{t} = None if {wunk} else ({stop} if {found} else "
                   f"(None if {unk} else {t}))")
            return t
        decided = f" and {t} is not {'True' if name == 'any' else 'False'}" \
            if name in ("any", "all") else ""
        g.emit(f"if {unk}{decided}:")
        g.indent += 1
        g.emit(f"{t} = None")
        g.indent -= 1
        if name == "sum":  # the total within 64 bits, as every backend checks where reached
            g.emit("else:")
            g.indent += 1
            g.emit(f"_rt.bounded({t})")
            g.indent -= 1
        return t

    # -- rule kinds ---------------------------------------------------------------------------

    def rule(self, g: _Gen, rule: Rule, ctx: _Ctx, params_used: set[str],
             blocked_var: str | None) -> str:
        """Emit the computation of one rule; return the variable holding its value."""
        rv = ctx.rule_var
        if rule.kind in ("condition", "check") and rule.mode is not None:
            base = self._condition(g, rule, ctx, params_used)
            if rule.kind == "check" and rule.check is not None and rule.check.for_each:
                agg = n.Call("any", (n.Name(rule.check.for_each),
                                     rule.check.where or n.Literal(True)))
                a = self.expr(g, agg, ctx, params_used)
                t = g.tmp()
                g.emit(f"{t} = False if {base} is False or {a} is False else "
                       f"(None if {base} is None or {a} is None else True)")
                return t
            return base
        if rule.kind == "value":
            assert rule.expr is not None
            v = self.expr(g, rule.expr, ctx, params_used)
            if rule.declared_type is not None and rule.declared_type.kind == "decimal":
                t = g.tmp()
                g.emit(f"{t} = None if {v} is None else float({v})")
                return t
            return v
        if rule.kind == "table":
            assert rule.table is not None
            return self._table(g, rule, rule.table, ctx, params_used)
        if rule.kind == "ladder":
            holds = ", ".join("True" if lv.rule is None else rv(lv.rule) for lv in rule.levels)
            names = self.const(tuple(lv.name for lv in rule.levels))
            t = g.tmp()
            b = blocked_var or g.tmp()
            g.emit(f"{t}, {b} = _rt.ladder({names}, ({holds},))")
            return t
        if rule.kind == "score":
            t = g.tmp()
            terms = []
            guards = []
            for ind in rule.indicators:
                w = self.expr(g, ind.weight, ctx, params_used)
                x = rv(ind.rule)
                guards.append(nullable(x, w))
                terms.append(f"{w} * {x}")
            if not terms:
                g.emit(f"{t} = 0")
            else:
                g.emit(f"{t} = None if {' or '.join(guards)} else {' + '.join(terms)}")
            return t
        raise EvaluationError(f"rule '{rule.id}': cannot compile kind {rule.kind}", rule.id)

    def _condition(self, g: _Gen, rule: Rule, ctx: _Ctx, params_used: set[str]) -> str:
        rv = ctx.rule_var
        if rule.mode == "when":
            assert rule.expr is not None
            return self.expr(g, rule.expr, ctx, params_used)
        kids = [rv(c) for c in rule.children]
        t = g.tmp()
        if rule.mode == "not":
            g.emit(f"{t} = None if {kids[0]} is None else not {kids[0]}")
        elif rule.mode == "all":
            g.emit(f"{t} = _rt.kleene_and(({', '.join(kids)},))" if kids else f"{t} = True")
        elif rule.mode == "any":
            g.emit(f"{t} = _rt.kleene_or(({', '.join(kids)},))" if kids else f"{t} = False")
        else:
            assert rule.at_least is not None
            k = self.expr(g, rule.at_least, ctx, params_used)
            if not kids:
                g.emit(f"{t} = None if {k} is None else {k} <= 0")
            else:  # as _rt.at_least: true once k are true, false once k is out of reach
                n_true = g.count_true(kids)
                n_unknown = " + ".join(f"({c} is None)" for c in kids)
                decide = (f"True if {n_true} >= {k} else "
                          f"(False if {n_true} + {n_unknown} < {k} else None)")
                guard = nullable(k)
                g.emit(f"{t} = {decide}" if guard == "False" else
                       f"{t} = None if {guard} else ({decide})")
        return t

    def member(self, g: _Gen, a: str, right: n.Node, ctx: _Ctx, params_used: set[str]) -> str:
        """Kleene ``a in right`` (``_rt.member``): a list of known constants is a frozenset
        (the only place one is built), anything else is searched item by item."""
        t = g.tmp()
        if isinstance(right, n.ListLit) and all(isinstance(i, n.Literal) and i.value is not None
                                                for i in right.items):
            found = self.const(frozenset(i.value for i in right.items))  # type: ignore[attr-defined]
            g.emit(f"{t} = None if {nullable(a)} else {a} in {found}")
            return t
        if isinstance(right, n.ListLit):
            items = [self.expr(g, i, ctx, params_used) for i in right.items]
            g.emit(f"{t} = None if {nullable(a)} else _rt.member({a}, ({', '.join(items)},))")
            return t
        b = self.expr(g, right, ctx, params_used)
        g.emit(f"{t} = None if {nullable(a, b)} else _rt.member({a}, {b})")
        return t

    def _unary_test(self, g: _Gen, x: str, test: UnaryTest, ctx: _Ctx,
                    params_used: set[str]) -> str:
        if test.op == "any":
            return "True"
        t = g.tmp()
        if test.op == "range":
            assert test.value is not None
            assert test.high is not None
            lo = self.expr(g, test.value, ctx, params_used)
            hi = self.expr(g, test.high, ctx, params_used)
            lop = "<=" if test.low_closed else "<"
            hop = "<=" if test.high_closed else "<"
            g.emit(f"{t} = None if {nullable(x, lo, hi)} else "
                   f"({lo} {lop} {x} {hop} {hi})")
        else:
            assert test.value is not None
            if test.op == "in":
                t = self.member(g, x, test.value, ctx, params_used)
            else:
                v = self.expr(g, test.value, ctx, params_used)
                g.emit(f"{t} = None if {nullable(x, v)} else {x} {test.op} {v}")
        if test.negate:
            g.emit(f"{t} = None if {t} is None else not {t}")
        return t

    def _outputs(self, g: _Gen, table: Table, outputs: Sequence[n.Node], ctx: _Ctx,
                 params_used: set[str]) -> list[str]:
        """The values of one row's (or the default's) outputs: an integer converted to a
        double in an output some other row gives a decimal (the output is a decimal, as in
        :meth:`_as_decimal`)."""
        decimal = self._decimal_outputs.get(id(table))
        if decimal is None:  # once a table, not once a row: a table may have many rows
            rows = [row.outputs for row in table.rows] + [table.default or ()]
            decimal = self._decimal_outputs[id(table)] = tuple(
                any(len(r) > i and self._kind(r[i], ctx.entity) == t.DECIMAL.kind
                    for r in rows) for i in range(len(table.outputs)))
        out = []
        for i, node in enumerate(outputs):
            v = self.expr(g, node, ctx, params_used)
            if decimal[i] and self._kind(node, ctx.entity) != t.DECIMAL.kind:
                v = _as_double(g, v)
            out.append(v)
        return out

    def _table(self, g: _Gen, rule: Rule, table: Table, ctx: _Ctx,
               params_used: set[str]) -> str:
        ins = [self.expr(g, e, ctx, params_used) for e in table.inputs]
        if table.hit_policy == "first":
            return self._table_first(g, table, ins, ctx, params_used)
        matches = []
        for row in table.rows:
            parts = [self._unary_test(g, x, test, ctx, params_used)
                     for x, test in zip(ins, row.tests, strict=True)]
            parts = [p for p in parts if p != "True"]
            if not parts:
                matches.append("True")
            elif len(parts) == 1:
                matches.append(parts[0])
            else:
                m = g.tmp()
                g.emit(f"{m} = _rt.kleene_and(({', '.join(parts)},))")
                matches.append(m)
        # a row's outputs are evaluated only where it matches (DMN, and as DuckDB does; review
        # 4, F12: an unmatched COLLECT row's overflow was raised); hit() reads only the hits'
        outs = []
        for row, m in zip(table.rows, matches, strict=True):
            o = g.tmp()
            g.emit(f"{o} = None")
            g.emit(f"if ({m}) is True:")
            g.indent += 1
            vals = self._outputs(g, table, row.outputs, ctx, params_used)
            g.emit(f"{o} = ({', '.join(vals)},)")
            g.indent -= 1
            outs.append(o)
        default = "None"
        if table.default is not None:
            dv = self._outputs(g, table, table.default, ctx, params_used)
            default = f"({', '.join(dv)},)"
        names = self.const(tuple(o.name for o in table.outputs))
        declared = self.const(tuple(tuple(o.values) for o in table.outputs))
        t = g.tmp()
        g.emit(f"{t} = _rt.hit({rule.id!r}, {table.hit_policy!r}, {table.aggregation!r}, "
               f"{names}, {declared}, ({', '.join(matches)},), ({', '.join(outs)},), "
               f"{default})")
        return t

    def _table_first(self, g: _Gen, table: Table, ins: list[str], ctx: _Ctx,
                     params_used: set[str]) -> str:
        """FIRST inline: rows are tried in order and the first known match decides; a row
        whose match is unknown before any match makes the result unknown. Later rows, and
        the outputs of rows that do not match, are never computed."""
        t = g.tmp()
        names = [o.name for o in table.outputs]

        def shape(values: list[str]) -> str:
            if len(names) > 1:
                return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(names, values,
                                                                       strict=True)) + "}"
            return values[0]

        g.emit("while True:")
        g.indent += 1
        for row in table.rows:
            r = g.tmp()
            g.emit(f"{r} = True")
            opened = 0
            for x, test in zip(ins, row.tests, strict=True):
                if test.op == "any":
                    continue
                g.emit(f"if {r} is not False:")
                g.indent += 1
                opened += 1
                v = self._unary_test(g, x, test, ctx, params_used)
                g.emit(f"if {v} is not True:")
                g.emit(f"    {r} = False if {v} is False else None")
            g.indent -= opened
            g.emit(f"if {r} is None:")
            g.emit(f"    {t} = None")
            g.emit("    break")
            g.emit(f"if {r}:")
            g.indent += 1
            outs = self._outputs(g, table, row.outputs, ctx, params_used)
            g.emit(f"{t} = {shape(outs)}")
            g.emit("break")
            g.indent -= 1
        if table.default is not None:
            dv = self._outputs(g, table, table.default, ctx, params_used)
            g.emit(f"{t} = {shape(dv)}")
        else:
            g.emit(f"{t} = None")
        g.emit("break")
        g.indent -= 1
        return t

    # -- entities -----------------------------------------------------------------------------

    def compile(self, plan: EntityPlan, relations: set[str]) -> Compiled:
        """Compile one entity (and its child entity) into a ``run`` function."""
        self._relations = frozenset(relations)
        child = self._compile_child(plan.child) if plan.child is not None else None
        self._child_entity = plan.child.entity if plan.child is not None else ""
        slots = self._slots(plan.rules)
        g = _Gen()
        params_used: set[str] = set()
        body = _Gen(1, straight=True)
        fields: dict[str, str] = {}

        def field_var(name: str) -> str:
            if name not in fields:
                fields[name] = f"f{len(fields)}"
            return fields[name]

        local: dict[str, str] = {}

        def rule_var(rid: str) -> str:
            return local[rid]

        mslots = child.slots if child is not None else {}

        def member_field(name: str) -> str:
            self._member_reads += 1
            t = body.tmp()
            body.emit(f"{t} = m.get({name!r})")
            return t

        def member_rule(rid: str) -> str:
            return f"mr[{mslots[rid]}]"

        ctx = _Ctx(field_var, rule_var, member_field if child else None,
                   member_rule if child else None, entity=plan.entity)
        for rule in plan.rules:
            blocked = f"v{slots[rule.id + '#blocked']}" if rule.kind == "ladder" else None
            start = len(body.lines)
            v = self.rule(body, rule, ctx, params_used, blocked)
            var = f"v{slots[rule.id]}"
            body.emit(f"{var} = {v}")
            self._guard_params(body, start, params_used, rule.id)
            local[rule.id] = var
        # header: fields, params, members
        reads = dict(fields)
        if child is not None:
            assert plan.relation is not None
            reads[plan.relation] = "members"
        g.lines += self._reads(plan.entity, reads, "    ")
        takes = [f"    p{self.param_index[p]} = P[{self.param_index[p]}]"
                 for p in sorted(params_used)]
        g.lines += takes
        if child is not None:
            g.emit("members = members or ()")
            g.emit("MR = _child(members, P, as_of)")
        else:
            g.emit("MR = ()")
        g.lines.extend(body.lines)
        result = "[" + ", ".join(f"v{i}" for i in range(len(slots))) + "]"
        g.emit(f"return {result}, MR")
        source = "def run(r, P, as_of):\n" + "\n".join(g.lines) + "\n"
        ns = dict(self.namespace)
        if child is not None:
            ns["_child"] = child.run_members
        exec_generated(source, plan.entity, ns)
        comp = Compiled(plan.entity, slots, plan.rules, ns["run"], child, plan.relation,
                        source)
        comp.fusible = Fusible(reads, tuple(takes), tuple(body.lines), result, namespace=ns)
        return comp

    def _guard_params(self, g: _Gen, start: int, params_used: set[str], rule_id: str) -> None:
        """Insert, before a rule's code, checks that the parameters it reads are in force."""
        text = "\n".join(g.lines[start:])
        checks = []
        for p in sorted(params_used):
            var = f"p{self.param_index[p]}"
            if var in text and (self.guarded is None or p in self.guarded):
                checks.append("    " * g.indent + f"if {var}.__class__ is _Missing: "
                              f"_pmiss({var}, {rule_id!r})")
        g.lines[start:start] = checks

    @staticmethod
    def _slots(rules: Sequence[Rule]) -> dict[str, int]:
        slots: dict[str, int] = {}
        for r in rules:
            slots[r.id] = len(slots)
            if r.kind == "ladder":
                slots[r.id + "#blocked"] = len(slots)
        return slots

    def _compile_child(self, plan: EntityPlan) -> Compiled:
        """Compile a child entity (persons of a household) phase by phase.

        Returns a Compiled whose ``run`` evaluates one record alone (a family of one) and whose
        ``run_members`` evaluates all the members of a parent record.
        """
        slots = self._slots(plan.rules)
        rank_nodes: list[tuple[n.Call, int]] = []
        by_phase: dict[int, list[Rule]] = {}
        for r in plan.rules:
            by_phase.setdefault(plan.phases.get(r.id, 0), []).append(r)
        for r in plan.rules:
            for node in _rule_nodes(r):
                for sub in n.walk(node):
                    if isinstance(sub, n.Call) and sub.func == "rank":
                        slots[f"{r.id}#rank{len(rank_nodes)}"] = len(slots)
                        rank_nodes.append((sub, len(slots) - 1))
        rank_slot_of = {id(node): slot for node, slot in rank_nodes}
        rank_phase = {id(node): plan.phases.get(r.id, 0) for r in plan.rules
                      for node0 in _rule_nodes(r) for node in n.walk(node0)
                      if isinstance(node, n.Call) and node.func == "rank"}
        funcs: list[str] = []
        steps: list[str] = []
        names: list[str] = []
        first_phase: tuple[dict[str, str], list[str], list[str]] | None = None
        all_params: set[str] = set()
        for phase in sorted(set(by_phase) | {0}):
            # ranks needed by this phase's rules
            for node, slot in rank_nodes:
                if rank_phase[id(node)] == phase:
                    fname = f"rank{slot}"
                    funcs.append(self._rank_function(fname, node, slot, slots, all_params,
                                                      plan.entity))
                    steps.append(f"    {fname}(members, MR, P, as_of)")
                    names.append(fname)
            rules = by_phase.get(phase, [])
            if not rules:
                continue
            fname = f"phase{phase}"
            first = not steps
            src, parts = self._phase_function(fname, rules, slots, rank_slot_of, all_params,
                                              first=first, entity=plan.entity)
            funcs.append(src)
            if first:
                first_phase = parts
            steps.append(f"    {fname}(members, MR, P, as_of)")
            names.append(fname)
        n_slots = len(slots)
        init = ("MR = []" if first_phase is not None else
                f"MR = [[None] * {n_slots} for _ in members]")
        source = "\n".join(funcs) + (
            f"\n\ndef run_members(members, P, as_of):\n    {init}\n"
            + "\n".join(steps) + "\n    return MR\n\n"
            "def run(r, P, as_of):\n"
            "    return run_members((r,), P, as_of)[0], ()\n")
        ns = dict(self.namespace)
        exec_generated(source, plan.entity, ns)
        comp = Compiled(plan.entity, slots, plan.rules, ns["run"], None, None, source)
        comp.run_members = ns["run_members"]
        reads, takes, body = first_phase if first_phase is not None else ({}, [], [])
        later = names[1:] if first_phase is not None else names
        comp.fusible = Fusible(reads, tuple(takes), tuple(body), init, tuple(later),
                               {name: ns[name] for name in later})
        return comp

    def _reads(self, entity: str, reads: Mapping[str, str], pad: str) -> list[str]:
        """The lines reading a record ``r``'s values into variables (``reads``: variable by
        key), at indentation ``pad``. A record holding as many keys as the entity declares
        names holds every one of them once the record contract passed it (its undeclared keys
        are refused or dropped), so its values are taken in one ``operator.itemgetter`` call;
        any other record, or one with an undeclared key in place of a declared one (a caller
        other than ``Engine.evaluate``), one ``get`` per key."""
        gets = [f"{pad}get = r.get", *(f"{pad}{var} = get({name!r})"
                                       for name, var in reads.items())]
        total = self.names.get(entity)
        if total is None or len(reads) < 2:  # a getter of one key gives a bare value
            return gets
        take = self.const(operator.itemgetter(*reads))
        inner = [f"    {line}" for line in gets]
        return [f"{pad}if len(r) == {total}:",
                f"{pad}    try:",
                f"{pad}        {', '.join(reads.values())} = {take}(r)",
                f"{pad}    except KeyError:",
                *(f"    {line}" for line in inner),
                f"{pad}else:",
                *inner]

    def _phase_function(self, fname: str, rules: list[Rule], slots: dict[str, int],
                        rank_slot_of: dict[int, int], all_params: set[str],
                        first: bool, entity: str
                        ) -> tuple[str, tuple[dict[str, str], list[str], list[str]]]:
        """One phase over all members. The first phase builds each member's slot list (cheaper
        than creating it empty and assigning); later phases fill their slots in place.

        Returns:
            The function's source, and its pieces (the variable of each field read, the lines
            taking parameters, the loop's body) for :class:`Fusible`. Member fields are read
            into ``q0``, ``q1``, ... (apart from the parent's ``f`` variables: the fused code
            holds both)."""
        body = _Gen(2, straight=True)
        fields: dict[str, str] = {}
        params_used: set[str] = set()
        here = {r.id for r in rules}

        def field_var(name: str) -> str:
            if name not in fields:
                fields[name] = f"q{len(fields)}"
            return fields[name]

        def rule_var(rid: str) -> str:
            if rid not in slots:
                raise KeyError(rid)
            return f"v{slots[rid]}" if rid in here else f"R[{slots[rid]}]"

        def rank_slot(node: n.Call) -> str:
            return f"R[{rank_slot_of[id(node)]}]"

        ctx = _Ctx(field_var, rule_var, rank_slot=rank_slot, entity=entity)
        assigned: dict[int, str] = {}
        for rule in rules:
            blocked = f"v{slots[rule.id + '#blocked']}" if rule.kind == "ladder" else None
            start = len(body.lines)
            v = self.rule(body, rule, ctx, params_used, blocked)
            body.emit(f"v{slots[rule.id]} = {v}")
            assigned[slots[rule.id]] = f"v{slots[rule.id]}"
            if blocked:
                assigned[slots[rule.id + "#blocked"]] = blocked
            self._guard_params(body, start, params_used, rule.id)
        if first:
            items = ", ".join(assigned.get(i, "None") for i in range(len(slots)))
            body.emit(f"MR.append([{items}])")
        else:
            for i, var in assigned.items():
                body.emit(f"R[{i}] = {var}")
        takes = [f"    p{self.param_index[p]} = P[{self.param_index[p]}]"
                 for p in sorted(params_used)]
        head = [f"def {fname}(members, MR, P, as_of):", *takes]
        head.append("    for r in members:" if first else
                    "    for r, R in zip(members, MR):")
        head += self._reads(entity, fields, "        ")
        all_params |= params_used
        return ("\n".join(head + body.lines + ["    return None"]) + "\n",
                (fields, takes, body.lines))

    def _rank_function(self, fname: str, node: n.Call, slot: int, slots: dict[str, int],
                       all_params: set[str], entity: str) -> str:
        body = _Gen()
        body.indent = 2
        fields: dict[str, str] = {}
        params_used: set[str] = set()

        def field_var(name: str) -> str:
            t = body.tmp()
            body.emit(f"{t} = r.get({name!r})")
            return t

        def rule_var(rid: str) -> str:
            if rid not in slots:
                raise KeyError(rid)
            return f"R[{slots[rid]}]"

        ctx = _Ctx(field_var, rule_var, entity=entity)
        where = node.kwarg("where")
        w = "True"
        if where is not None:
            w = self.expr(body, where, ctx, params_used)
            body.emit(f"if {w} is False:")
            body.emit("    continue")
        within = node.kwarg("within")
        g = self.expr(body, within, ctx, params_used) if within is not None else "None"
        by = node.kwarg("by")
        assert by is not None
        keys = by.items if isinstance(by, n.ListLit) else (by,)
        kvars = []
        desc = []
        for key in keys:
            k = key
            d = False
            if isinstance(key, n.Call) and key.func in ("desc", "asc"):
                k, d = key.args[0], key.func == "desc"
            kvars.append(self.expr(body, k, ctx, params_used))
            desc.append(d)
        # a member that may or may not count, or may sort anywhere, makes the ranks around it
        # unknown (runtime.rank_members)
        unknowns = [f"{v} is None" for v in ([w] if w != "True" else [])
                    + ([g] if within is not None else []) + kvars]
        if unknowns:
            body.emit(f"if {' or '.join(unknowns)}:")
            body.emit(f"    doubtful.append({g})")
            body.emit("    continue")
        body.emit(f"entries.append((i, {g}, ({', '.join(kvars)},)))")
        head = [f"def {fname}(members, MR, P, as_of):"]
        head += [f"    p{self.param_index[p]} = P[{self.param_index[p]}]"
                 for p in sorted(params_used)]
        head += ["    entries = []", "    doubtful = []",
                 "    for i, (r, R) in enumerate(zip(members, MR)):"]
        del fields
        tail = [f"    ranks = _rt.rank_members(entries, {tuple(desc)!r}, len(members), "
                f"doubtful, {within is not None})",
                "    for R, k in zip(MR, ranks):",
                f"        R[{slot}] = k"]
        all_params |= params_used
        return "\n".join(head + body.lines + tail) + "\n"


def exec_generated(source: str, entity: str, ns: dict[str, Any]) -> None:
    """Compile and run generated source (our own code; literal operands may make Python warn
    about ``is`` comparisons with literals, which are correct here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(source, f"<welfare_rules:{entity}>", "exec")
    exec(code, ns)


def _rule_nodes(rule: Rule) -> list[n.Node]:
    """Every expression tree of a rule."""
    out: list[n.Node] = []
    if rule.expr is not None:
        out.append(rule.expr)
    if rule.at_least is not None:
        out.append(rule.at_least)
    if rule.table is not None:
        out.extend(rule.table.inputs)
        for row in rule.table.rows:
            out.extend(row.outputs)
            for test in row.tests:
                out.extend(x for x in (test.value, test.high) if x is not None)
        if rule.table.default:
            out.extend(rule.table.default)
    for ind in rule.indicators:
        out.append(ind.weight)
    if rule.check is not None:
        if rule.check.where is not None:
            out.append(n.Call("any", (n.Name(rule.check.for_each or ""), rule.check.where)))
        out.extend(c.when for c in rule.check.severity if c.when is not None)
    return out


rule_nodes = _rule_nodes
