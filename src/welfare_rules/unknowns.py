"""Sound and minimal unknowns: whether the missing inputs of a record can change an outcome.

Three-valued (Kleene) evaluation is safe but coarse: ``x or not x`` is unknown when ``x`` is
missing, and so is a PKH component when a 74-year-old woman's ``is_pregnant`` is blank, although
she qualifies either way. This module settles such outcomes by brute force over the completions
of the missing inputs the rule reads (transitively, members included):

* a boolean field takes ``True`` and ``False``; an enum each declared value; an int bounded by the
  schema to a small range (``desil`` 1-10) each value in it;
* a number compared only with constants and parameters (``income_month < param.x``) takes one
  value below, at and above each threshold, which covers every outcome of those comparisons;
* anything else (dates, text, numbers inside arithmetic) stays missing, so the three-valued
  evaluation keeps its own, sound answer for it;
* a field read by ``is_missing``/``coalesce`` is not completed: there a blank is a value
  (``death_date`` blank means no death).

An outcome is **known** when every completion gives the same known value, **unknown** when two
give different values (then it is exact: those two completions witness it) or when some completion
is still unknown because of a field that cannot be enumerated (an approximation, the three-valued
answer). Where the completions number more than :data:`MAX_COMPLETIONS` a sample is tried: a
disagreement still proves the outcome unknown; otherwise the three-valued answer stands.

:func:`needs` gives a minimal set of missing inputs that decides an unknown outcome: every
completion of the set gives a known outcome, and no input can be dropped from it.
"""

from __future__ import annotations

import itertools
import math
import random
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .errors import EvaluationError
from .expr import nodes as n

if TYPE_CHECKING:
    from .model import Rule
    from .schema import Field
    from .views import DecisionView, EngineView

#: how many completions are evaluated exhaustively before sampling
MAX_COMPLETIONS = 4096
#: how many sampled completions are tried beyond that
SAMPLES = 256
#: the most completed records a decision keeps (:attr:`SettleCache.completed`, oldest dropped
#: first): every completion of one rule, so the rules settled over the same blanks share them,
#: while a decision kept by a caller stays bounded however many rules are asked
MAX_KEPT = MAX_COMPLETIONS
#: an int bounded to at most this many values is enumerated whatever it is used for
SMALL_RANGE = 16

_BLANK_FUNCS = frozenset({"is_missing", "coalesce"})


@attrs.frozen(order=True)
class Input:
    """One input of a record: a field of the record itself (``member is None``) or of one of its
    members (by index). ``str()`` is ``floor_area_m2`` or ``members[1].is_pregnant``."""

    member: int | None
    field: str
    relation: str = ""

    def __str__(self) -> str:
        if self.member is None:
            return self.field
        return f"{self.relation}[{self.member}].{self.field}"

    def get(self, record: Mapping[str, Any]) -> Any:
        if self.member is None:
            return record.get(self.field)
        rows = record.get(self.relation) or ()
        return rows[self.member].get(self.field) if self.member < len(rows) else None


@attrs.define
class Cone:
    """What a rule reads, transitively: fields of its own entity and of the related records,
    how each numeric field is used, and which fields treat blank as a value."""

    own: set[str] = attrs.field(factory=set)
    member: set[str] = attrs.field(factory=set)
    blank_own: set[str] = attrs.field(factory=set)
    blank_member: set[str] = attrs.field(factory=set)
    #: (is member, field) → the constant expressions it is compared with; None: used otherwise
    thresholds: dict[tuple[bool, str], list[n.Node] | None] = attrs.field(factory=dict)
    rules: set[str] = attrs.field(factory=set)
    #: whether it reads a ``rank(...)``: a member rule reading one depends on the other
    #: members' records (their sort keys, ``where`` and ``within``), not its own member's only
    ranked: bool = False


_CONES: weakref.WeakKeyDictionary[EngineView, dict[tuple[int, bool], Cone]] = \
    weakref.WeakKeyDictionary()


def cone(engine: EngineView, rule: Rule, member: bool = False) -> Cone:
    """The inputs a rule reads (cached per engine and rule version); ``member`` for a rule of
    the related records read within their parent's record (its fields are member fields)."""
    cache = _CONES.setdefault(engine, {})
    got = cache.get((id(rule), member))
    if got is None:
        got = Cone()
        _walk_rule(engine, rule, member, got, set())
        cache[(id(rule), member)] = got
    return got


def _walk_rule(engine: EngineView, rule: Rule, member: bool, out: Cone, seen: set[tuple[str, bool]]
               ) -> None:
    key = (rule.id, member)
    if key in seen:
        return
    seen.add(key)
    out.rules.add(rule.id)
    refs = engine.rule_refs(rule)
    (out.member if member else out.own).update(refs.fields)
    out.member.update(refs.member_fields)
    ent = engine.schema.entity(rule.entity)
    rel_entity = next((r.entity for r in ent.relations.values()), None)
    fields_here = set(ent.fields)
    fields_member = set(engine.schema.entity(rel_entity).fields) if rel_entity else set()
    ctx = _Ctx(engine, out, member, fields_here, fields_member, set(ent.relations))
    for node in _plain_nodes(rule):
        ctx.visit(node, None, member)
    if rule.table is not None:
        for i, inp in enumerate(rule.table.inputs):
            consts: list[n.Node] = []
            for row in rule.table.rows:
                test = row.tests[i]
                consts.extend(x for x in (test.value, test.high) if x is not None)
            if isinstance(inp, n.Name) and inp.id in fields_here and inp.id not in engine.rules:
                if all(_constant(c) for c in consts):
                    ctx.threshold(member, inp.id, consts)
                else:
                    ctx.threshold(member, inp.id, None)
            else:
                ctx.visit(inp, None, member)
            for c in consts:
                ctx.visit(c, None, member)
    deps = set(refs.rules) | set(rule.children) | {lv.rule for lv in rule.levels if lv.rule}
    deps |= {i.rule for i in rule.indicators}
    for dep in sorted(deps):
        if dep in engine.rules:
            for version in engine.rules[dep]:
                _walk_rule(engine, version, member, out, seen)
    for dep in sorted(refs.member_rules):
        if dep in engine.rules:
            for version in engine.rules[dep]:
                _walk_rule(engine, version, True, out, seen)


def _plain_nodes(rule: Rule) -> list[n.Node]:
    """The expression trees of a rule other than its table's inputs and tests."""
    out: list[n.Node] = [x for x in (rule.expr, rule.at_least) if x is not None]
    if rule.table is not None:
        for row in rule.table.rows:
            out.extend(row.outputs)
        out.extend(rule.table.default or ())
    out.extend(ind.weight for ind in rule.indicators)
    if rule.check is not None:
        if rule.check.where is not None:
            out.append(n.Call("any", (n.Name(rule.check.for_each or ""), rule.check.where)))
        out.extend(c.when for c in rule.check.severity if c.when is not None)
    return out


def _constant(node: n.Node) -> bool:
    """Whether an expression reads no field and no rule (literals, parameters, arithmetic)."""
    return all(not isinstance(x, n.Name | n.Call) for x in n.walk(node))


@attrs.define
class _Ctx:
    engine: EngineView
    out: Cone
    member: bool
    fields_here: set[str]
    fields_member: set[str]
    relations: set[str]

    def threshold(self, member: bool, field: str, consts: list[n.Node] | None) -> None:
        key = (member, field)
        if consts is None or self.out.thresholds.get(key, []) is None:
            self.out.thresholds[key] = None
        else:
            known = self.out.thresholds.setdefault(key, [])
            assert known is not None
            known.extend(consts)

    def is_field(self, name: str, member: bool) -> bool:
        if name in self.engine.rules or name == "as_of":
            return False
        pool = self.fields_member if (member and not self.member) else self.fields_here
        return name in pool

    def visit(self, node: n.Node, parent: n.Node | None, member: bool) -> None:
        if isinstance(node, n.Name):
            if self.is_field(node.id, member) and node.id not in self.relations:
                consts = self._compared_with(node, parent)
                self.threshold(member, node.id, consts)
            return
        if isinstance(node, n.Call):
            if node.func == "rank":
                self.out.ranked = True
            args = list(node.args)
            inner = member
            if args and isinstance(args[0], n.Name) and args[0].id in self.relations:
                inner = True
                args = args[1:]
            if node.func in _BLANK_FUNCS:
                for a in args:
                    for x in n.walk(a):
                        if isinstance(x, n.Name) and self.is_field(x.id, inner):
                            blank = self.out.blank_member if inner else self.out.blank_own
                            blank.add(x.id)
            for a in args:
                self.visit(a, node, inner)
            for _, kw in node.kwargs:
                self.visit(kw, node, inner)
            return
        for child in _children(node):
            self.visit(child, node, member)

    @staticmethod
    def _compared_with(node: n.Name, parent: n.Node | None) -> list[n.Node] | None:
        if isinstance(parent, n.Compare):
            other = parent.right if parent.left is node else parent.left
            if _constant(other):
                return [other]
        return None


def _children(node: n.Node) -> Iterator[n.Node]:
    for f in attrs.fields(type(node)):
        v = getattr(node, f.name)
        if isinstance(v, n.Node):
            yield v
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, n.Node):
                    yield x
                elif isinstance(x, tuple):
                    yield from (y for y in x if isinstance(y, n.Node))


# ------------------------------------------------------------------------------------------
# Domains


def _numbers(node: n.Node, d: DecisionView) -> list[float]:
    from .backends.interp import Scope, evaluate

    scope = Scope({}, lambda _: None, lambda _: False, d.plan.param, d.as_of,
                  d.engine.functions)
    v = evaluate(node, scope)
    vals = v if isinstance(v, list) else [v]
    return [float(x) for x in vals if isinstance(x, int | float) and not isinstance(x, bool)]


def _completable(f: Field, member: bool, c: Cone) -> bool:
    """Whether a blank of this field is completed (enumerated) when settling: the one test
    :func:`domain` and :func:`completable_fields` share."""
    if f.name in (c.blank_member if member else c.blank_own):
        return False
    kind = f.type.kind
    if kind in ("bool", "enum"):
        return True
    if kind not in ("int", "decimal"):
        return False
    if kind == "int" and _small_range(f):
        return True
    return c.thresholds.get((member, f.name)) is not None


def _small_range(f: Field) -> bool:
    lo = f.min if isinstance(f.min, int | float) else None
    hi = f.max if isinstance(f.max, int | float) else None
    return lo is not None and hi is not None and hi - lo + 1 <= SMALL_RANGE


def completable_fields(engine: EngineView, rule: Rule, member: bool = False
                       ) -> tuple[frozenset[str], frozenset[str]]:
    """The fields (of the record, of its related records) whose blank settling completes: a
    record with none of them blank keeps its three-valued outcome, so a batch re-decides only
    the records that have one (:mod:`welfare_rules.settling`). ``member`` for a rule of the
    related records (a person's rule, settled within the household)."""
    c = cone(engine, rule, member)
    held = engine.schema.parent_of(rule.entity) if member else None
    ent = held[0] if held is not None else engine.schema.entity(rule.entity)
    rel = next(iter(ent.relations.values()), None)
    kids = engine.schema.entity(rel.entity).fields if rel is not None else {}
    own = frozenset(x for x in c.own if x in ent.fields and _completable(ent.fields[x], False, c))
    related = frozenset(x for x in c.member if x in kids and _completable(kids[x], True, c))
    return own, related


def read_fields(engine: EngineView, rule: Rule, member: bool = False
                ) -> tuple[frozenset[str], frozenset[str]]:
    """The fields (own, of related records) a rule reads whose blank may be needed to decide
    it (:func:`needs`): those read by ``is_missing``/``coalesce`` are values when blank."""
    c = cone(engine, rule, member)
    return frozenset(c.own - c.blank_own), frozenset(c.member - c.blank_member)


def domain(d: DecisionView, inp: Input, c: Cone) -> list[Any] | None:
    """The values that cover every outcome for a missing input, or ``None`` when it cannot be
    enumerated (it then stays missing)."""
    f = input_field(d, inp)
    if f is None or not _completable(f, inp.member is not None, c):
        return None
    kind = f.type.kind
    if kind == "bool":
        return [True, False]
    if kind == "enum":
        return list(f.type.values)
    lo = f.min if isinstance(f.min, int | float) else None  # numeric bounds (int, decimal)
    hi = f.max if isinstance(f.max, int | float) else None
    if kind == "int" and _small_range(f):
        return list(range(int(lo or 0), int(hi or 0) + 1))
    consts = c.thresholds.get((inp.member is not None, inp.field))
    if consts is None:
        return None
    points: set[float] = set()
    for node in consts:
        for t in _numbers(node, d):
            if kind == "int":
                base = math.floor(t)
                points.update({base - 1, base, base + 1, math.ceil(t)})
            else:
                eps = 1e-6 * max(1.0, abs(t))
                points.update({t - eps, t, t + eps})
    if lo is not None:
        points.add(lo)
    if not points:
        points.add(lo if lo is not None else 0)
    out = sorted(p for p in points if (lo is None or p >= lo) and (hi is None or p <= hi))
    return [int(p) for p in out] if kind == "int" else out


def input_field(d: DecisionView, inp: Input) -> Field | None:
    """The schema field an input of the decision's record is (``None``: not a field)."""
    schema = d.engine.schema
    ent = schema.entity(d.entity)
    if inp.member is None:
        return ent.fields.get(inp.field)
    rel = ent.relations.get(inp.relation)
    return schema.entity(rel.entity).fields.get(inp.field) if rel else None


def missing_inputs(d: DecisionView, rule: Rule, member: bool = False,
                   index: int | None = None) -> list[Input]:
    """The inputs a rule reads that the record leaves blank (members by index).

    ``index``: for a rule of the members, the member whose outcome is asked. When the rule
    reads nothing beyond that member's own record (no rank over the members, no rule of the
    parent record), only that member's blanks can change it, so only those are listed: the
    completions to try then grow with one member's blanks, not with the whole family's.
    """
    c = cone(d.engine, rule, member)
    out = [Input(None, f) for f in sorted(c.own) if d.record.get(f) is None]
    relation = d.plan.compiled.relation
    if relation and c.member:
        rows = d.record.get(relation) or ()
        only = index if index is not None and _member_local(d, rule, c) else None
        for i, row in enumerate(rows):
            if only is None or i == only:
                out.extend(Input(i, f, relation) for f in sorted(c.member) if row.get(f) is None)
    return out


def _member_local(d: DecisionView, rule: Rule, c: Cone) -> bool:
    """Whether a member rule reads only its own member's record: no rank, and every rule it
    reads (transitively) is a rule of the members too."""
    if c.ranked:
        return False
    rules = d.engine.rules
    return all(rules[r][0].entity == rule.entity for r in c.rules if r in rules)


def _blank_is_value(inp: Input, c: Cone) -> bool:
    """A field read by ``is_missing``/``coalesce``: its blank is a value, not a missing one."""
    return inp.field in (c.blank_member if inp.member is not None else c.blank_own)


def with_values(record: Mapping[str, Any], changes: Mapping[Input, Any]) -> dict[str, Any]:
    """A copy of ``record`` with the given inputs set (members copied only where touched)."""
    out = dict(record)
    by_member: dict[tuple[str, int], dict[str, Any]] = {}
    for inp, v in changes.items():
        if inp.member is None:
            out[inp.field] = v
        else:
            by_member.setdefault((inp.relation, inp.member), {})[inp.field] = v
    for (rel, i), vals in by_member.items():
        rows = list(out.get(rel) or ())
        rows[i] = {**rows[i], **vals}
        out[rel] = rows
    return out


# ------------------------------------------------------------------------------------------
# Outcomes


def outcome(d: DecisionView, record: Mapping[str, Any], rule_id: str,
            member: int | None = None) -> tuple[Any, bool]:
    """(value, known) of a rule for another version of the decision's record (of its member
    ``member`` for a member's rule).

    Raises:
        EvaluationError: the record violates a decision table's hit policy.
    """
    values, members = d.plan.compiled.run(record, d.plan.params, d.as_of)
    return _read(d, values, members, rule_id, member)


def _read(d: DecisionView, values: Sequence[Any], members: Sequence[Sequence[Any]],
          rule_id: str, member: int | None) -> tuple[Any, bool]:
    if member is not None:
        child = d.plan.compiled.child
        assert child is not None
        v = members[member][child.slots[rule_id]]
        return v, _known(v)
    slot = d.slots[rule_id]
    v = values[slot]
    blocked_slot = d.slots.get(rule_id + "#blocked")
    blocked = bool(values[blocked_slot]) if blocked_slot is not None else False
    return v, _known(v) and not blocked


def _known(v: Any) -> bool:
    """A value is known when it is not blank, nor a list with an unknown element
    (:func:`~welfare_rules.backends.record.status_of`)."""
    return v is not None and not (isinstance(v, list) and None in v)


def _completions(doms: Sequence[Sequence[Any]], rng: random.Random | None
                 ) -> Iterator[tuple[Any, ...]]:
    total = math.prod(len(x) for x in doms)
    if total <= MAX_COMPLETIONS or rng is None:
        yield from itertools.product(*doms)
        return
    for _ in range(SAMPLES):
        yield tuple(rng.choice(list(x)) for x in doms)


@attrs.frozen
class Settled:
    """What the completions say about an outcome."""

    value: Any
    known: bool
    #: ``True`` when the answer is exact (every completion tried, every input enumerable)
    exact: bool


#: the slot values of one completed record and of its members (``None``: the completed record
#: raises, e.g. it violates a UNIQUE/ANY table; the outcome is then not settled)
Run = tuple[Sequence[Any], Sequence[Sequence[Any]]] | None


class SettleCache:
    """What settling keeps on one decision (or one member's decision): :func:`settle_cache`.

    Attributes:
        settled: rule id → ``(value, known)``, the settled answer of each rule asked
            (:class:`~welfare_rules.decision.Decision` reads and fills it).
        completed: completed record → its :data:`Run`: the rules and members settled over the
            same completions evaluate each of them once. At most :data:`MAX_KEPT` of them (the
            oldest dropped first).
    """

    __slots__ = ("completed", "settled")

    def __init__(self) -> None:
        self.settled: dict[str, tuple[Any, bool]] = {}
        self.completed: dict[frozenset[tuple[Input, Any]], Run] = {}

    def clear(self) -> None:
        """Drop the completions; the settled answers stay (one pair per rule asked), so a
        decision kept for its findings answers again at once.
        The settler calls it once a record's rules are settled: memory stays bounded by one
        record's completions."""
        self.completed.clear()


_SETTLE_CACHES: weakref.WeakKeyDictionary[DecisionView, SettleCache] = \
    weakref.WeakKeyDictionary()


def settle_cache(d: DecisionView) -> SettleCache:
    """The settling cache of a decision (made on first use, gone with the decision)."""
    got = _SETTLE_CACHES.get(d)
    if got is None:
        got = _SETTLE_CACHES[d] = SettleCache()
    return got


def _completed(d: DecisionView, changes: Mapping[Input, Any]) -> Run:
    """The slot values of the record completed with ``changes`` (``None``: it violates a
    UNIQUE/ANY table), kept per decision (:attr:`SettleCache.completed`)."""
    runs = settle_cache(d).completed
    key = frozenset(changes.items())
    if key in runs:
        return runs[key]
    got: Run
    try:
        got = d.plan.compiled.run(with_values(d.record, changes), d.plan.params, d.as_of)
    except EvaluationError:
        got = None
    if len(runs) >= MAX_KEPT:
        del runs[next(iter(runs))]  # the oldest (review3 F7: 5,691 runs kept on one decision)
    runs[key] = got
    return got


def settle(d: DecisionView, rule_id: str, fixed: Mapping[Input, Any] | None = None,
           leave: frozenset[Input] = frozenset(), member: int | None = None) -> Settled:
    """Settle an outcome over the completions of its missing inputs.

    Args:
        d: the decision.
        rule_id: the rule.
        fixed: inputs given a value first (a candidate completion of part of them).
        leave: missing inputs left blank instead of being completed.
        member: for a rule of the members, the index of the member whose outcome it is.
    """
    rule = d.plan.rules[rule_id]
    c = cone(d.engine, rule, member is not None)
    base = with_values(d.record, fixed) if fixed else d.record
    inputs, doms = [], []
    exact = True
    for inp in missing_inputs(d, rule, member is not None, member):
        if (fixed and inp in fixed) or inp in leave or _blank_is_value(inp, c):
            continue
        dom = domain(d, inp, c)
        if dom is None:
            exact = False
            continue
        inputs.append(inp)
        doms.append(dom)
    if not inputs:
        try:
            v, known = outcome(d, base, rule_id, member)
        except EvaluationError:
            return Settled(None, False, exact)
        return Settled(v, known, exact)
    total = math.prod(len(x) for x in doms)
    rng = random.Random(0) if total > MAX_COMPLETIONS else None
    first: tuple[Any, bool] | None = None
    for combo in _completions(doms, rng):
        run = _completed(d, {**(fixed or {}), **dict(zip(inputs, combo, strict=True))})
        if run is None:
            # the completed record raises (a UNIQUE/ANY table's hit policy, an overflow), in
            # this rule's cone or not: an error is a possible answer, so the outcome is not
            # decided (review3 F2: it was skipped, and the others' agreement made it known)
            return Settled(None, False, False)
        v, known = _read(d, run[0], run[1], rule_id, member)
        if first is None:
            first = (v, known)
        if not known:
            return Settled(None, False, False)
        if not _same(v, first[0]):
            return Settled(None, False, True)
    if first is None or rng is not None:
        return Settled(None, False, False)  # sampled only: the three-valued answer stands
    return Settled(first[0], True, exact)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a == b or (isinstance(a, float) and isinstance(b, float) and abs(a - b) < 1e-9)
    return bool(a == b and type(a) is type(b))


def needs(d: DecisionView, rule_id: str, member: int | None = None) -> list[Input]:
    """A minimal set of missing inputs that decides an unknown outcome: once they are filled
    in, whatever their values, the outcome is known, and none of them can be dropped.

    Inputs that cannot be enumerated (dates, text, numbers inside arithmetic) are assumed to
    decide what reads them; they are kept in the set unless the outcome is known without them.
    ``member``: for a rule of the members, the index of the member whose outcome it is (``d``
    is then the parent's decision).
    """
    rule = d.plan.rules[rule_id]
    if member is not None and _not_ranked(d, rule, member):
        return []  # no completion ranks it (review3 F3a: its siblings' blanks were listed)
    c = cone(d.engine, rule, member is not None)
    missing = [i for i in missing_inputs(d, rule, member is not None, member)
               if i.field not in (c.blank_member if i.member is not None else c.blank_own)]
    if not missing:
        return []
    s = settle(d, rule_id, member=member)
    if s.known:
        return []
    chosen = list(missing)
    for inp in sorted(missing, key=_drop_order, reverse=True):
        trial = [x for x in chosen if x != inp]
        if _decides(d, rule_id, trial, c, missing, member):
            chosen = trial
    return chosen


def _not_ranked(d: DecisionView, rule: Rule, member: int) -> bool:
    """Whether ``rule`` is a member's ``rank(..., where=w)`` whose ``w`` is a name (a field of
    the member or a rule of the members) known false for member ``member``: the member is
    ranked in no completion, so no blank of its siblings can give it a rank."""
    node = rule.expr
    if not (isinstance(node, n.Call) and node.func == "rank"):
        return False
    where = node.kwarg("where")
    if not isinstance(where, n.Name):
        return False
    relation = d.plan.compiled.relation
    rows = d.record.get(relation) if relation else None
    if not rows or member >= len(rows):
        return False
    child = d.plan.compiled.child
    if child is not None and where.id in child.slots:
        run = _completed(d, {})
        value = run[1][member][child.slots[where.id]] if run is not None else None
    else:
        value = rows[member].get(where.id)
    return value is False


def _drop_order(inp: Input) -> tuple[int, int, str]:
    return (inp.member is not None, inp.member or 0, inp.field)


def _decides(d: DecisionView, rule_id: str, chosen: Sequence[Input], c: Cone,
             missing: Sequence[Input], member: int | None = None) -> bool:
    """Whether every completion of ``chosen`` gives a known outcome (the rest left blank)."""
    leave = frozenset(x for x in missing if x not in chosen)
    enum_inputs, doms, fixed = [], [], {}
    for inp in chosen:
        dom = domain(d, inp, c)
        if dom is None:
            fixed[inp] = _representative(d, inp)
        else:
            enum_inputs.append(inp)
            doms.append(dom)
    total = math.prod(len(x) for x in doms)
    if total > MAX_COMPLETIONS:
        return False
    for combo in itertools.product(*doms):
        values = {**fixed, **dict(zip(enum_inputs, combo, strict=True))}
        base = with_values(d.record, values)
        try:
            _v, known = outcome(d, with_values(base, dict.fromkeys(leave)), rule_id, member)
        except EvaluationError:
            return False  # an error is a possible answer: not decided
        if not known:
            return False
    return True


def _representative(d: DecisionView, inp: Input) -> Any:
    f = input_field(d, inp)
    kind = f.type.kind if f else "str"
    if kind in ("int", "decimal"):
        return int(f.min) if f is not None and isinstance(f.min, int | float) else 0
    if kind == "date":
        return d.as_of
    return "0"
