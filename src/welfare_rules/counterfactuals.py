"""What would change an outcome: the smallest changes of a record's inputs that flip it.

The search works on the inputs the rule reads (members by index): for each changeable input
the candidate values are those that can matter — every other value of a boolean, an enum or a
small bounded int, and for a number the values just across each threshold it is compared with
(a parameter, a table row's bound, a ladder criterion), or, for a number read inside arithmetic,
the thresholds of the comparison scaled to it. Single changes are tried first, then pairs and
triples of the changes that moved some criterion of the rule (a set of at_least completed, the
next ladder level reached), each found set re-evaluated before it is returned. Fields the
schema marks ``changeable: false`` (birth date, sex) and identifiers are never proposed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from . import wording
from .errors import HitPolicyError
from .masking import mask_data
from .unknowns import Input, cone, domain, with_values

if TYPE_CHECKING:
    from .views import DecisionView

#: how many inputs a counterfactual changes at most
MAX_CHANGES = 4
#: how many candidate changes are combined for sets of two or more
MAX_COMBINED = 24


@attrs.frozen
class Counterfactual:
    """A change of the inputs that flips an outcome.

    Attributes:
        rule: the rule whose outcome flips.
        changes: input → new value (``"floor_type"``, ``"members[0].is_pregnant"``).
        record: the whole changed record, ready for ``engine.evaluate``.
        before: the outcome now; after: the outcome with the changes.
    """

    rule: str
    changes: Mapping[str, Any] = attrs.field(repr=lambda c: repr(mask_data(c)))
    record: Mapping[str, Any] = attrs.field(repr=False)  # the household, its NIKs in full
    before: Any
    after: Any
    _sentences: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    def sentence(self, lang: str = "id") -> str:
        """The change said in ``lang``: "Jika Jenis lantai menjadi tanah, maka ..."."""
        return self._sentences[lang]


def counterfactuals(d: DecisionView, rule_id: str, limit: int = 3) -> list[Counterfactual]:
    """The smallest verified changes that flip ``rule_id`` for this decision's record."""
    rule = d.plan.rules[rule_id]
    before = d.value(rule_id)
    known_before = d.status(rule_id) != "unknown"
    c = cone(d.engine, rule)
    singles: list[tuple[Input, Any]] = []
    for inp in _inputs(d, rule_id):
        for v in _candidates(d, inp, c):
            singles.append((inp, v))
    found: list[dict[Input, Any]] = []
    helpful: list[tuple[Input, Any]] = []
    base_values = _criteria_values(d, d.record, rule_id)
    for inp, v in singles:
        rec = with_values(d.record, {inp: v})
        probe = _outcome(d, rec, rule_id)
        if probe is None:
            continue  # the change makes a UNIQUE/ANY table match twice: not a record
        after, known = probe
        if known and (not known_before or not _same(after, before)):
            found.append({inp: v})
        elif _criteria_values(d, rec, rule_id) != base_values:
            helpful.append((inp, v))
    found.sort(key=lambda ch: _distance(d, ch))
    size = 2
    pool = sorted(helpful, key=lambda x: _distance(d, {x[0]: x[1]}))[:MAX_COMBINED]
    while len(found) < limit and size <= MAX_CHANGES and len(pool) >= size:
        batch = []
        for combo in itertools.combinations(pool, size):
            if len({x[0] for x in combo}) < size:
                continue
            if any(all(k in dict(combo) for k in f) for f in found):
                continue  # a smaller change already flips it
            ch = dict(combo)
            probe = _outcome(d, with_values(d.record, ch), rule_id)
            if probe is None:
                continue
            after, known = probe
            if known and (not known_before or not _same(after, before)):
                batch.append(ch)
        batch.sort(key=lambda ch: _distance(d, ch))
        found.extend(batch)
        size += 1
    out = []
    for ch in found[:limit]:
        rec = with_values(d.record, ch)
        verify = d.engine.evaluate(d.entity, rec, as_of=d.as_of)
        after = verify.value(rule_id)
        if verify.status(rule_id) == "unknown" or (known_before and _same(after, before)):
            continue  # the re-evaluation disagrees with the search: never returned
        out.append(Counterfactual(rule_id, {str(k): v for k, v in ch.items()}, rec, before,
                                  after, {lang: _sentence(d, rule_id, ch, after, lang)
                                          for lang in wording.LANGS}))
    return out


def _outcome(d: DecisionView, record: Mapping[str, Any], rule_id: str
             ) -> tuple[Any, bool] | None:
    """The outcome of ``rule_id`` for a changed record and whether it is known; ``None`` when
    the changed record violates a UNIQUE/ANY table (no record, as in unknowns' completions)."""
    try:
        probe = d.engine.evaluate(d.entity, record, as_of=d.as_of)
    except HitPolicyError:
        return None
    return probe.value(rule_id), probe.status(rule_id) != "unknown"


def _criteria_values(d: DecisionView, record: Mapping[str, Any], rule_id: str) -> tuple[Any, ...]:
    """The values of the rules the outcome is built from (its criteria, levels, indicators)."""

    ids = sorted(r for r in cone(d.engine, d.plan.rules[rule_id]).rules if r in d.slots)
    values, _ = d.plan.compiled.run(record, d.plan.params, d.as_of) if ids else ([], [])
    return tuple(values[d.slots[r]] for r in ids)


def _inputs(d: DecisionView, rule_id: str) -> list[Input]:
    rule = d.plan.rules[rule_id]
    c = cone(d.engine, rule)
    schema = d.engine.schema
    ent = schema.entity(d.entity)
    out = [Input(None, f) for f in sorted(c.own) if _changeable(ent.fields.get(f), f, ent.key)]
    relation = d.plan.compiled.relation
    if relation and c.member:
        mrel = ent.relations[relation]
        ment = schema.entity(mrel.entity)
        rows = d.record.get(relation) or ()
        for i in range(len(rows)):
            out.extend(Input(i, f, relation) for f in sorted(c.member)
                       if _changeable(ment.fields.get(f), f, ment.key) and f != mrel.key)
    return out


def _changeable(f: Any, name: str, key: str) -> bool:
    return f is not None and f.changeable and name != key and f.type.kind != "str"


def _candidates(d: DecisionView, inp: Input, c: Any) -> list[Any]:
    current = inp.get(d.record)
    dom = domain(d, inp, c)
    if dom is None:
        dom = _scaled(d, inp, c)
    return [v for v in dom if not _same(v, current)]


def _scaled(d: DecisionView, inp: Input, c: Any) -> list[Any]:
    """Candidates for a number read inside arithmetic: the current value halved and doubled,
    and zero; a date or text has none."""
    from .unknowns import input_field

    f = input_field(d, inp)
    if f is None or f.type.kind not in ("int", "decimal"):
        return []
    cur = inp.get(d.record)
    vals: set[float] = {0}
    if isinstance(cur, int | float):
        vals |= {cur / 2, cur * 2, cur + 1, max(0, cur - 1)}
    # a candidate outside the field's declared range is no record the contract accepts
    lo = f.min if isinstance(f.min, int | float) else None
    hi = f.max if isinstance(f.max, int | float) else None
    vals = {v for v in vals if (lo is None or v >= lo) and (hi is None or v <= hi)}
    if f.type.kind == "int":
        return sorted({round(v) for v in vals})
    return sorted(vals)


def _distance(d: DecisionView, changes: Mapping[Input, Any]) -> tuple[int, float]:
    total = 0.0
    for inp, v in changes.items():
        cur = inp.get(d.record)
        if isinstance(v, int | float) and not isinstance(v, bool) and \
                isinstance(cur, int | float):
            total += abs(v - cur) / max(1.0, abs(cur))
        else:
            total += 1.0
    return len(changes), total


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
    return bool(a == b and type(a) is type(b))


def _sentence(d: DecisionView, rule_id: str, changes: Mapping[Input, Any], after: Any,
              lang: str) -> str:
    from .explain import input_label, rule_title, value_shown

    schema = d.engine.schema
    parts = []
    for inp, v in changes.items():
        if inp.member is None:
            f = schema.entity(d.entity).fields[inp.field]
        else:
            rel = schema.entity(d.entity).relations[inp.relation]
            f = schema.entity(rel.entity).fields[inp.field]
        label = input_label(d, str(inp), lang)
        parts.append(f"{label} {'menjadi' if lang == 'id' else 'were'} "
                     f"{wording.value(v, lang, field=f)}")
    rule = d.plan.rules[rule_id]
    title = rule_title(d, rule, lang)
    status = "true" if after is True else "false" if after is False else "value"
    shown = value_shown(d, rule, after, status, lang)
    joiner = " dan " if lang == "id" else " and "
    if lang == "id":
        return f"Jika {joiner.join(parts)}, maka {title}: {shown}."
    return f"If {joiner.join(parts)}, then {title}: {shown}."
