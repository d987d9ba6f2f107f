"""The compiled plan: the checked rule model, and what of it is in force on one date.

Two objects, both immutable once built and safe to share between threads:

* :class:`RuleModel` — what :meth:`Engine.load <welfare_rules.engine.Engine.load>` checked:
  the schema, every dated version of every rule, the parameters, the functions, what each rule
  reads (:class:`~welfare_rules.expr.check.Refs`), the rule types and the dependency order.
* :class:`Plan` — the model on one ``as_of``: the version of each rule in force, the value of
  each parameter with the date it took effect (and its source), the dependency structure per
  entity (:class:`EntityPlan`: layers, phases, the child relation) and the fingerprint.

The engine builds plans; the backends (:mod:`welfare_rules.backends`) and the explanations
consume them. This module sits between the rule language and the backends: it imports the
model, the types and the expression checker, never a backend, the engine or a face.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from . import types as t
from .errors import EvaluationError, ParameterError, UnknownRuleError, did_you_mean
from .expr.check import Refs
from .expr.functions import Function
from .model import Parameter, Rule
from .schema import Schema

__all__ = ["MADE_PER_PLAN", "EntityPlan", "Missing", "Plan", "RuleModel", "UnknownRuleError",
           "as_of_date", "deps_of"]

T = TypeVar("T")

#: how many values :meth:`Plan.cached` keeps a plan (one per input shape, result selection
#: and query of a SQL runner); the least recently used goes beyond it
MADE_PER_PLAN = 32


class Missing:
    """Marks a parameter without a value in force; reading it raises the stored error."""

    __slots__ = ("error",)

    def __init__(self, error: ParameterError):
        self.error = error

    def __repr__(self) -> str:
        return "<missing parameter>"


@attrs.define
class EntityPlan:
    """What to compile for one entity: its rules in dependency order and its related entity."""

    entity: str
    rules: list[Rule]  # in force, topologically sorted
    phases: dict[str, int] = attrs.field(factory=dict)  # rule id -> phase (child entities)
    relation: str | None = None  # relation to the child entity, if any
    child: EntityPlan | None = None


def deps_of(rule: Rule, refs: Refs) -> set[str]:
    """The rules ``rule`` reads: named rules, member rules, children, ladder levels and score
    indicators."""
    deps = set(refs.rules) | set(refs.member_rules) | set(rule.children)
    deps |= {lv.rule for lv in rule.levels if lv.rule}
    deps |= {i.rule for i in rule.indicators}
    return deps


class RuleModel:
    """The checked rule model of one engine (see the module docstring).

    Args:
        schema: the assembled schema.
        rules: every rule id with its dated versions, sorted by ``effective_from``.
        parameters: every parameter by name.
        functions: the functions of the rule language by name.
        refs: what each version reads, by ``(rule id, version index)``.
        rule_types: the type of each rule.
        order: rule ids in dependency order (a rule after those it reads).
        plugins: ``(name, version)`` of each loaded plugin (for the fingerprint).
        fingerprint_extra: more of what a decision depends on, added to the fingerprint
            (the engine's reform).
    """

    def __init__(self, *, schema: Schema, rules: Mapping[str, tuple[Rule, ...]],
                 parameters: Mapping[str, Parameter], functions: Mapping[str, Function],
                 refs: Mapping[tuple[str, int], Refs], rule_types: Mapping[str, t.Type],
                 order: Sequence[str], plugins: Sequence[tuple[str, str]] = (),
                 fingerprint_extra: Mapping[str, Any] | None = None):
        self.schema = schema
        self.rules = dict(rules)
        self.parameters = dict(parameters)
        self.functions = dict(functions)
        self.refs = dict(refs)
        self.rule_types = dict(rule_types)
        self.order = list(order)
        self.plugins = tuple(plugins)
        self.fingerprint_extra = dict(fingerprint_extra or {})
        #: parameter name -> position in :attr:`Plan.params`
        self.param_index: dict[str, int] = {name: i for i, name in
                                            enumerate(sorted(self.parameters))}
        self._refs_by_rule = {id(r): self.refs.get((rid, i), Refs())
                              for rid, vs in self.rules.items() for i, r in enumerate(vs)}
        self._lock = threading.Lock()
        self._plans: dict[datetime.date, Plan] = {}

    # -- rules --------------------------------------------------------------------------------

    def rule(self, rule_id: str, as_of: datetime.date | None = None) -> Rule:
        """The rule with this id (the version in force on ``as_of``, else the latest).

        Raises:
            UnknownRuleError: no rule has this id.
        """
        versions = self.rules.get(rule_id)
        if not versions:
            raise UnknownRuleError(f"unknown rule '{rule_id}'"
                                   f"{did_you_mean(rule_id, self.visible_rule_ids())}")
        if as_of is not None:
            for r in versions:
                if r.in_force(as_of):
                    return r
        return versions[-1]

    def visible_rule_ids(self, entity: str | None = None) -> list[str]:
        """Ids of the rules users see (named criteria included, hidden ones not), in order."""
        return [rid for rid in self.order if not self.rules[rid][0].hidden
                and (entity is None or self.rules[rid][0].entity == entity)]

    def rule_refs(self, rule: Rule) -> Refs:
        """What a rule reads: fields, rules, parameters, member fields and rules."""
        refs = self._refs_by_rule.get(id(rule))
        if refs is None:
            versions = self.rules[rule.id]
            refs = self.refs.get((rule.id, versions.index(rule)), Refs())
        return refs

    def deps(self, rule: Rule) -> set[str]:
        """The rules ``rule`` reads (see :func:`deps_of`)."""
        return deps_of(rule, self.rule_refs(rule))

    def in_force(self, as_of: datetime.date) -> dict[str, Rule]:
        """The version of each rule in force on ``as_of`` (rules with none are left out)."""
        out: dict[str, Rule] = {}
        for rid, versions in self.rules.items():
            for r in versions:
                if r.in_force(as_of):
                    out[rid] = r
                    break
        return out

    def params_at(self, as_of: datetime.date
                  ) -> tuple[list[Any], dict[str, datetime.date | None]]:
        """Each parameter's value on ``as_of`` (by :attr:`param_index`; :class:`Missing` when
        it has none) and the date that value took effect."""
        values: list[Any] = [None] * len(self.param_index)
        since: dict[str, datetime.date | None] = {}
        for name, i in self.param_index.items():
            try:
                v, d = self.parameters[name].at(as_of)
            except ParameterError as exc:
                values[i] = Missing(exc)
                since[name] = None
                continue
            values[i] = v
            since[name] = d
        return values, since

    # -- fingerprint --------------------------------------------------------------------------

    def fingerprint(self, as_of: datetime.date | None = None, *,
                    dataset_checks: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What a decision depends on: plugins and versions, rulesets, a digest of every rule
        and parameter, the dataset checks in force (their ids and a digest of their
        definitions; ``None`` when none ran) and ``as_of`` — enough to reproduce it."""
        h = hashlib.sha256()
        for rid in sorted(self.rules):
            for r in self.rules[rid]:
                h.update(repr((r.id, r.version, r.ruleset, str(r.origin), r.effective_from,
                               r.effective_until, r.expr, r.table, r.levels, r.children,
                               r.at_least, r.indicators, r.check)).encode())
        for name in sorted(self.parameters):
            p = self.parameters[name]
            h.update(repr((name, p.values, str(p.origin))).encode())
        rulesets = sorted({(r.ruleset, r.version, str(r.origin.plugin))
                           for vs in self.rules.values() for r in vs if r.ruleset})
        return {
            "engine": "welfare-rules",
            "plugins": dict(self.plugins),
            "rulesets": [{"id": a, "version": b, "plugin": c} for a, b, c in rulesets],
            "digest": h.hexdigest()[:16],
            "dataset_checks": None if dataset_checks is None else {
                "ids": sorted(str(k) for k in dataset_checks),
                "digest": hashlib.sha256(json.dumps(
                    dataset_checks, sort_keys=True, default=str).encode()).hexdigest()[:16]},
            "as_of": as_of.isoformat() if as_of else None,
            **self.fingerprint_extra,
        }

    # -- plans --------------------------------------------------------------------------------

    def plan(self, as_of: datetime.date) -> Plan:
        """The plan of ``as_of`` (built once per date and kept)."""
        plan = self._plans.get(as_of)
        if plan is not None:
            return plan
        with self._lock:
            plan = self._plans.get(as_of)
            if plan is None:
                if len(self._plans) > 512:
                    self._plans.clear()
                plan = self._plans[as_of] = Plan(self, as_of)
            return plan

    def entity_plan(self, entity: str, in_force: Mapping[str, Rule]) -> EntityPlan:
        """The entity's rules in force in dependency order, their phases, and its child's."""
        ent = self.schema.entity(entity)
        own = [in_force[rid] for rid in self.order if rid in in_force
               and in_force[rid].entity == entity]
        plan = EntityPlan(entity, own)
        if ent.relations:
            rel = next(iter(ent.relations.values()))
            plan.relation = rel.name
            plan.child = self.entity_plan(rel.entity, in_force)
        plan.phases = self._phases(own)
        return plan

    def _phases(self, rules: Sequence[Rule]) -> dict[str, int]:
        # a rule that ranks siblings needs every sibling's earlier values: a phase of its own
        phases: dict[str, int] = {}
        for r in rules:
            refs = self.rule_refs(r)
            deps = [d for d in deps_of(r, refs) if d in phases]
            base = max((phases[d] for d in deps), default=0)
            phases[r.id] = base + 1 if refs.uses_rank else base
        return phases


class Plan:
    """The rules in force on one date, with the parameter values of that date.

    Build it with :meth:`RuleModel.plan` (or :meth:`Engine.plan
    <welfare_rules.engine.Engine.plan>`); every backend compiles from a plan.

    Attributes:
        model: the rule model.
        as_of: the date.
        rules: the version in force of each rule, by id (every entity).
        not_in_force: ids of the rules with no version in force (they read as unknown).
        selection: which version of each rule is in force: ``(rule id, version index)`` pairs,
            sorted — two dates with the same selection compile to the same code.
        params: each parameter's value by :attr:`param_index` (:class:`Missing` when it has
            none on ``as_of``).
        param_since: the date each parameter's value took effect (``None``: no value).
        param_index: parameter name -> position in :attr:`params`.
    """

    def __init__(self, model: RuleModel, as_of: datetime.date):
        self.model = model
        self.as_of = as_of
        self.rules = model.in_force(as_of)
        self.not_in_force = frozenset(set(model.rules) - set(self.rules))
        self.selection = tuple(sorted((rid, model.rules[rid].index(r))
                                      for rid, r in self.rules.items()))
        self.params, self.param_since = model.params_at(as_of)
        self.param_index = model.param_index
        self._entities: dict[str, EntityPlan] = {}
        self._made: OrderedDict[Hashable, Any] = OrderedDict()
        self._made_lock = threading.Lock()

    @property
    def schema(self) -> Schema:
        return self.model.schema

    def param(self, name: str) -> Any:
        """The value in force of a parameter (``None`` when it has none)."""
        v = self.params[self.param_index[name]]
        return None if isinstance(v, Missing) else v

    def param_value(self, name: str, rule_id: str = "?") -> Any:
        """The value in force of a parameter a rule needs.

        Raises:
            ParameterError: it has no value on :attr:`as_of` (naming ``rule_id``).
        """
        v = self.params[self.param_index[name]]
        if isinstance(v, Missing):
            raise ParameterError(f"{v.error} (needed by rule '{rule_id}')",
                                 v.error.parameter) from None
        return v

    def param_source(self, name: str) -> str:
        """Where a parameter comes from: its reference (regulation) when it has one, else the
        plugin and file that declared it."""
        p = self.model.parameters[name]
        return p.reference or str(p.origin)

    def entity_plan(self, entity: str) -> EntityPlan:
        """The dependency structure of ``entity`` (and its child entity) on this date."""
        ep = self._entities.get(entity)
        if ep is None:
            ep = self._entities[entity] = self.model.entity_plan(entity, self.rules)
        return ep

    def cached(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, made once for this plan and ``key`` and kept while the plan lives (the
        :data:`MADE_PER_PLAN` most recently used).

        For what a backend derives from the plan alone and reuses batch after batch: the SQL
        runner's compiled query text for an input shape (``backends.duckdb``). A second batch
        of the same engine, date and input columns (the next file of a monthly job, a reform
        beside its baseline) then skips compiling, which for a large pack takes longer than
        DuckDB takes to evaluate a few thousand records. ``key`` names everything ``make``
        reads besides the plan. Kept on the plan, so it goes when the plan goes.
        """
        with self._made_lock:
            if key in self._made:
                self._made.move_to_end(key)
                found: T = self._made[key]
                return found
        value = make()  # unlocked: a second thread may make the same value meanwhile
        with self._made_lock:
            self._made[key] = value
            while len(self._made) > MADE_PER_PLAN:
                self._made.popitem(last=False)
        return value

    def layers(self, rules: Sequence[Rule]) -> list[list[Rule]]:
        """Group rules (in dependency order) by depth: a rule's layer comes after those it
        reads."""
        ids = {r.id for r in rules}
        depth: dict[str, int] = {}
        for r in rules:
            deps = self.model.deps(r) & ids
            depth[r.id] = 1 + max((depth[d] for d in deps if d in depth), default=0)
        out: list[list[Rule]] = [[] for _ in range(max(depth.values(), default=0))]
        for r in rules:
            out[depth[r.id] - 1].append(r)
        return out

    def visible_rule_ids(self, entity: str | None = None) -> list[str]:
        """Ids of the rules users see, in order (see :meth:`RuleModel.visible_rule_ids`)."""
        return self.model.visible_rule_ids(entity)

    def rule_type(self, rule_id: str) -> t.Type:
        """The declared (or inferred) type of a rule."""
        return self.model.rule_types.get(rule_id, t.ANY)

    def fingerprint(self) -> dict[str, Any]:
        """:meth:`RuleModel.fingerprint` for this date."""
        return self.model.fingerprint(self.as_of)

    def __repr__(self) -> str:
        return f"<Plan as_of={self.as_of}: {len(self.rules)} rules in force>"


def as_of_date(as_of: datetime.date | str | None) -> datetime.date:
    """The evaluation date an ``as_of`` argument names: a date (a datetime's date), an ISO
    string ``YYYY-MM-DD``, or ``None`` for today.

    Raises:
        EvaluationError: anything else, or a string that is not an ISO date.
    """
    if as_of is None:
        return datetime.date.today()
    if isinstance(as_of, datetime.datetime):
        return as_of.date()
    if isinstance(as_of, datetime.date):
        return as_of
    if isinstance(as_of, str):
        try:
            return t.parse_iso_date(as_of)
        except ValueError:
            raise EvaluationError(f"as_of must be a date YYYY-MM-DD, found {as_of!r}") from None
    raise EvaluationError(f"as_of must be a date, found {as_of!r}")
