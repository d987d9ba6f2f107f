"""Name resolution and type checking of expressions against the schema.

The checker infers the type of every expression, resolving names to fields, rules, relations,
``as_of`` and parameters, and records what each expression reads (:class:`Refs`): the engine
uses that for the dependency graph, the explanations ("needs verification: floor_area_m2") and
the batch compilers. Every error is a located :class:`~welfare_rules.errors.RuleTypeError` with a
"did you mean" suggestion where one is close.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .. import types as t
from ..errors import Location, RuleTypeError, did_you_mean
from ..schema import Schema
from . import nodes as n
from .functions import SPECIAL_FORMS, Function
from .regex import PatternError, compile_pattern

AGGREGATES = ("count", "any", "all", "sum", "min", "max")


@attrs.define
class Refs:
    """What an expression reads."""

    fields: set[str] = attrs.field(factory=set)
    rules: set[str] = attrs.field(factory=set)
    params: set[str] = attrs.field(factory=set)
    member_fields: set[str] = attrs.field(factory=set)
    member_rules: set[str] = attrs.field(factory=set)
    relations: set[str] = attrs.field(factory=set)
    uses_as_of: bool = False
    uses_rank: bool = False
    functions: set[str] = attrs.field(factory=set)

    def merge(self, other: Refs) -> None:
        self.fields |= other.fields
        self.rules |= other.rules
        self.params |= other.params
        self.member_fields |= other.member_fields
        self.member_rules |= other.member_rules
        self.relations |= other.relations
        self.uses_as_of |= other.uses_as_of
        self.uses_rank |= other.uses_rank
        self.functions |= other.functions


@attrs.define
class Env:
    """Everything names can refer to."""

    schema: Schema
    rule_entity: Mapping[str, str]
    rule_types: dict[str, t.Type]
    param_types: Mapping[str, t.Type]
    functions: Mapping[str, Function]


@attrs.define
class _Scope:
    entity: str
    member_of: str | None = None  # relation name when inside an aggregation
    parent_entity: str | None = None


def _err(msg: str, node: n.Node) -> RuleTypeError:
    return RuleTypeError(msg, node.loc if isinstance(node.loc, Location) else None)


class Checker:
    """Type-checks expressions of one entity. Use :meth:`check`."""

    def __init__(self, env: Env, entity: str):
        self.env = env
        self.entity = entity

    def check(self, node: n.Node, refs: Refs | None = None) -> t.Type:
        """Infer the type of ``node`` evaluated for one record of the checker's entity."""
        return self._infer(node, _Scope(self.entity), refs if refs is not None else Refs())

    # -- names --------------------------------------------------------------------------------

    def _name(self, node: n.Name, scope: _Scope, refs: Refs) -> t.Type:
        name = node.id
        if name == "as_of":
            refs.uses_as_of = True
            return t.DATE
        if name in ("True", "False", "None", "true", "false"):
            raise _err(f"write {name.capitalize()} as a literal: True, False or None", node)
        ent = self.env.schema.entity(scope.entity)
        inside = scope.member_of is not None
        if self.env.rule_entity.get(name) == scope.entity:
            (refs.member_rules if inside else refs.rules).add(name)
            return self.env.rule_types.get(name, t.ANY)
        fld = ent.fields.get(name)
        if fld is not None:
            (refs.member_fields if inside else refs.fields).add(name)
            return fld.type
        if name in ent.relations:
            refs.relations.add(name)
            return t.relation(ent.relations[name].entity)
        other = self.env.rule_entity.get(name)
        if other is not None:
            hint = ""
            rels = [r.name for r in ent.relations.values() if r.entity == other]
            if rels:
                hint = f"; use it over related records, e.g. count({rels[0]}, {name} ...)"
            raise _err(f"'{name}' is a rule of '{other}', not of '{scope.entity}'{hint}", node)
        candidates = [*ent.fields, *ent.relations, "as_of",
                      *(r for r, e in self.env.rule_entity.items() if e == scope.entity
                        and "#" not in r)]
        raise _err(f"unknown name '{name}' for {scope.entity}{did_you_mean(name, candidates)}",
                   node)

    # -- the walk -----------------------------------------------------------------------------

    def _infer(self, node: n.Node, scope: _Scope, refs: Refs) -> t.Type:
        if isinstance(node, n.Literal):
            return t.type_of_value(node.value)
        if isinstance(node, n.Name):
            return self._name(node, scope, refs)
        if isinstance(node, n.Param):
            if node.path not in self.env.param_types:
                raise _err(f"unknown parameter 'param.{node.path}'"
                           f"{did_you_mean(node.path, self.env.param_types)}", node)
            refs.params.add(node.path)
            return self.env.param_types[node.path]
        if isinstance(node, n.ListLit):
            elem = t.NULL
            for item in node.items:
                it = self._infer(item, scope, refs)
                if not t.compatible(elem, it):
                    raise _err(f"list items have different types ({elem} and {it})", item)
                elem = t.unify(elem, it)
            return t.list_of(elem)
        if isinstance(node, n.Unary):
            ty = self._infer(node.operand, scope, refs)
            if node.op == "not":
                self._want_bool(ty, node.operand, "'not'")
                return t.BOOL
            if not ty.is_numeric:
                raise _err(f"'-' needs a number, found {ty}", node)
            return ty
        if isinstance(node, n.BinOp):
            lt = self._infer(node.left, scope, refs)
            rt = self._infer(node.right, scope, refs)
            if node.op == "+" and lt.kind == "str" and rt.kind == "str":
                return t.STR
            for side, ty in ((node.left, lt), (node.right, rt)):
                if not ty.is_numeric:
                    raise _err(f"'{node.op}' needs numbers, found {ty}", side)
            if node.op == "/":
                return t.DECIMAL
            if node.op == "//":
                return t.INT if lt.kind == rt.kind == "int" else t.DECIMAL
            return t.DECIMAL if "decimal" in (lt.kind, rt.kind) else (
                t.INT if "int" in (lt.kind, rt.kind) else t.ANY)
        if isinstance(node, n.Compare):
            return self._compare(node, scope, refs)
        if isinstance(node, n.BoolOp):
            for v in node.values:
                self._want_bool(self._infer(v, scope, refs), v, f"'{node.op}'")
            return t.BOOL
        if isinstance(node, n.IfExp):
            self._want_bool(self._infer(node.test, scope, refs), node.test, "'if'")
            a = self._infer(node.body, scope, refs)
            b = self._infer(node.orelse, scope, refs)
            if not t.compatible(a, b):
                raise _err(f"both branches of 'if' must have one type, found {a} and {b}", node)
            return t.unify(a, b)
        if isinstance(node, n.Call):
            return self._call(node, scope, refs)
        raise _err(f"unsupported expression {type(node).__name__}", node)

    def _want_bool(self, ty: t.Type, node: n.Node, what: str) -> None:
        if ty.kind not in ("bool", "null", "any"):
            raise _err(f"{what} needs a condition (true/false), found {ty}", node)

    def _enum_literal(self, enum_t: t.Type, other: n.Node) -> None:
        lits = other.items if isinstance(other, n.ListLit) else (other,)
        for lit in lits:
            if isinstance(lit, n.Literal) and isinstance(lit.value, str) \
                    and lit.value not in enum_t.values:
                raise _err(f"'{lit.value}' is not a value of {enum_t}"
                           f"{did_you_mean(lit.value, enum_t.values)}", lit)

    def _compare(self, node: n.Compare, scope: _Scope, refs: Refs) -> t.Type:
        lt = self._infer(node.left, scope, refs)
        rt = self._infer(node.right, scope, refs)
        if node.op in ("in", "notin"):
            if rt.kind not in ("list", "any", "null"):
                raise _err(f"'in' needs a list on the right, found {rt}", node.right)
            if rt.elem is not None and not t.compatible(lt, rt.elem):
                raise _err(f"cannot look for {lt} in {rt}", node)
            if lt.kind == "enum":
                self._enum_literal(lt, node.right)
            return t.BOOL
        if not t.compatible(lt, rt):
            raise _err(f"cannot compare {lt} with {rt}", node)
        if lt.kind == "enum":
            self._enum_literal(lt, node.right)
        if rt.kind == "enum":
            self._enum_literal(rt, node.left)
        if node.op not in ("==", "!=") and (lt.kind == "bool" or rt.kind == "bool"):
            raise _err(f"'{node.op}' cannot order true/false values", node)
        return t.BOOL

    # -- calls --------------------------------------------------------------------------------

    def _call(self, node: n.Call, scope: _Scope, refs: Refs) -> t.Type:
        name = node.func
        refs.functions.add(name)
        first_is_rel = bool(node.args) and isinstance(node.args[0], n.Name) and \
            node.args[0].id in self.env.schema.entity(scope.entity).relations
        if name in AGGREGATES and (first_is_rel or name in ("count", "any", "all")):
            return self._aggregate(node, scope, refs)
        if name in ("min", "max"):
            name = "least" if name == "min" else "greatest"
        if name == "rank":
            return self._rank(node, scope, refs)
        if name in ("desc", "asc"):
            raise _err(f"'{name}(...)' is only allowed inside rank(by=...)", node)
        fn = self.env.functions.get(name)
        if fn is None:
            known = [*self.env.functions, *SPECIAL_FORMS]
            raise _err(f"unknown function '{node.func}'{did_you_mean(node.func, known)}", node)
        if node.kwargs:
            raise _err(f"'{name}' takes no keyword arguments", node)
        arg_types = [self._infer(a, scope, refs) for a in node.args]
        if name == "matches" and len(node.args) == 2:
            pattern = node.args[1]
            if not (isinstance(pattern, n.Literal) and isinstance(pattern.value, str)):
                raise _err("the pattern of matches() must be a literal text", pattern)
            try:
                compile_pattern(pattern.value)
            except PatternError as exc:
                raise _err(str(exc), pattern) from None
        try:
            return fn.type_rule(arg_types)
        except TypeError as exc:
            raise _err(f"{fn.signature}: {exc}", node) from None

    def _aggregate(self, node: n.Call, scope: _Scope, refs: Refs) -> t.Type:
        name = node.func
        if scope.member_of is not None:
            raise _err(f"'{name}' over related records cannot be nested", node)
        ent = self.env.schema.entity(scope.entity)
        if not node.args or not isinstance(node.args[0], n.Name) or \
                node.args[0].id not in ent.relations:
            rels = ", ".join(ent.relations) or "none"
            raise _err(f"{name}() needs a relation of {scope.entity} first (relations: {rels})",
                       node)
        rel = ent.relations[node.args[0].id]
        refs.relations.add(rel.name)
        inner = _Scope(rel.entity, member_of=rel.name, parent_entity=scope.entity)
        extra = {k for k, _ in node.kwargs} - {"where"}
        if extra:
            raise _err(f"{name}() has no argument '{sorted(extra)[0]}' (only where=)", node)
        where = node.kwarg("where")
        if where is not None:
            self._want_bool(self._infer(where, inner, refs), where, f"{name}(where=...)")
        args = node.args[1:]
        if name == "count":
            if len(args) > 1:
                raise _err("count(relation[, condition]) takes at most 2 arguments", node)
            if args:
                self._want_bool(self._infer(args[0], inner, refs), args[0], "count()")
            return t.INT
        if len(args) != 1:
            raise _err(f"{name}(relation, expression) needs exactly one expression", node)
        ty = self._infer(args[0], inner, refs)
        if name in ("any", "all"):
            self._want_bool(ty, args[0], f"{name}()")
            return t.BOOL
        if name == "sum":
            if not ty.is_numeric:
                raise _err(f"sum() needs a number, found {ty}", args[0])
            return ty if ty.kind in ("int", "decimal") else t.INT
        if not (ty.is_numeric or ty.kind in ("date", "str")):
            raise _err(f"{name}() needs numbers, dates or texts, found {ty}", args[0])
        return ty

    def _rank(self, node: n.Call, scope: _Scope, refs: Refs) -> t.Type:
        if scope.member_of is not None:
            raise _err("rank() cannot be used inside an aggregation", node)
        parent = self.env.schema.parent_of(scope.entity)
        if parent is None:
            raise _err(f"rank() ranks a record among its siblings, but '{scope.entity}' is not "
                       f"related to a parent entity", node)
        if node.args:
            raise _err("rank() takes keyword arguments only: by=, within=, where=", node)
        extra = {k for k, _ in node.kwargs} - {"by", "within", "where"}
        if extra:
            raise _err(f"rank() has no argument '{sorted(extra)[0]}'"
                       f"{did_you_mean(sorted(extra)[0], ['by', 'within', 'where'])}", node)
        by = node.kwarg("by")
        if by is None:
            raise _err("rank() needs by=[keys]", node)
        refs.uses_rank = True
        sub = Refs()
        for key in by.items if isinstance(by, n.ListLit) else (by,):
            k = key
            if isinstance(key, n.Call) and key.func in ("desc", "asc"):
                if len(key.args) != 1 or key.kwargs:
                    raise _err(f"{key.func}() takes one expression", key)
                k = key.args[0]
            ty = self._infer(k, scope, sub)
            if ty.kind in ("list", "relation", "record"):
                raise _err(f"cannot sort by {ty}", k)
        within = node.kwarg("within")
        if within is not None:
            self._infer(within, scope, sub)
        where = node.kwarg("where")
        if where is not None:
            self._want_bool(self._infer(where, scope, sub), where, "rank(where=...)")
        refs.merge(sub)
        return t.INT
