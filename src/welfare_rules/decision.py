"""The result of evaluating one record: values, statuses, findings and explanations.

A :class:`Decision` holds the raw slot values the compiled code produced and interprets them
lazily, so the evaluation itself stays as cheap as the rules allow; the trace an explanation
needs (values used, parameters and the dates they took effect) is reconstructed from those values
and the static references of each rule.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .errors import did_you_mean
from .model import Rule

if TYPE_CHECKING:
    from .counterfactuals import Counterfactual
    from .engine import Engine, _Plan
    from .explain import Explanation

STATUSES = ("true", "false", "unknown", "value")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_MASKED_FIELDS = {"nik", "household_id"}


def mask_id(value: Any) -> str:
    """Mask a NIK or No. KK: keep the 4-digit region and the last 4 digits."""
    s = "" if value is None else str(value)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


@attrs.frozen
class Finding:
    """A data-quality finding: a check that applies to a record (and maybe one member)."""

    check: str
    severity: str
    message: str
    entity: str
    record_id: str | None
    member_id: str | None = None
    member_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _status(rule: Rule, value: Any, blocked: bool = False) -> str:
    if rule.kind in ("condition", "check"):
        return "unknown" if value is None else ("true" if value else "false")
    if value is None or blocked:
        return "unknown"
    return "value"


class _Base:
    engine: Engine
    plan: _Plan
    entity: str
    record: Mapping[str, Any]
    as_of: datetime.date
    _values: list[Any]
    _slots: Mapping[str, int]

    def _slot(self, rule_id: str) -> int:
        """The slot of a rule in force; -1 for a rule of this entity not in force today."""
        try:
            return self._slots[rule_id]
        except KeyError:
            pass
        if rule_id in self.engine.rules:
            rule = self.engine.rule(rule_id)
            if rule.entity != self.entity:
                raise KeyError(f"'{rule_id}' is a rule of {rule.entity}, not {self.entity}; "
                               f"see .members[i].value({rule_id!r})") from None
            return -1
        raise KeyError(f"unknown rule '{rule_id}'"
                       f"{did_you_mean(rule_id, self.engine.visible_rule_ids(self.entity))}"
                       ) from None

    def value(self, rule_id: str) -> Any:
        """The rule's value: True/False/None for conditions and checks, a number, a level
        name or ``None`` (unknown). A rule not in force on ``as_of`` is unknown."""
        slot = self._slot(rule_id)
        if slot < 0:
            return None
        v = self._values[slot]
        if v is None or self._blocked(rule_id):
            return self._sound(rule_id)[0]
        return v

    def _blocked(self, rule_id: str) -> bool:
        """Whether a ladder's climb stopped on an unknown criterion."""
        b = self._slots.get(rule_id + "#blocked")
        return b is not None and bool(self._values[b])

    def _sound(self, rule_id: str) -> tuple[Any, bool]:
        """(value, known) of an outcome the three-valued evaluation left unknown; a member's
        outcome keeps the three-valued answer (its record is settled with the household's)."""
        return self._values[self._slots[rule_id]], False

    def in_force(self, rule_id: str) -> bool:
        """Whether a version of the rule is in force on this decision's ``as_of``."""
        return self._slot(rule_id) >= 0

    def status(self, rule_id: str) -> str:
        """``"true"``, ``"false"``, ``"unknown"`` or ``"value"``.

        A ladder whose climb an unknown criterion stopped is ``"unknown"`` although its value
        is the level confirmed so far; a rule not in force on ``as_of`` is ``"unknown"``.
        """
        slot = self._slot(rule_id)
        if slot < 0:
            return "unknown"
        rule = self.engine.rule(rule_id, self.as_of)
        v = self._values[slot]
        blocked = self._blocked(rule_id)
        if v is None or blocked:
            sv, known = self._sound(rule_id)
            if known:
                return _status(rule, sv, False)
        return _status(rule, v, blocked)

    def needs(self, rule_id: str) -> list[str]:
        """A minimal set of blank inputs that would decide an unknown outcome, e.g.
        ``["floor_area_m2", "members[1].is_pregnant"]``; empty when the outcome is known.

        Filling in these inputs, whatever their values, makes the outcome known, and none of
        them can be left out (see :mod:`welfare_rules.unknowns` for what is exact).
        """
        from .unknowns import needs

        if self.status(rule_id) != "unknown" or not isinstance(self, Decision):
            return []
        return [str(i) for i in needs(self, rule_id)]

    def rule_ids(self) -> list[str]:
        return [rid for rid in self.engine.visible_rule_ids(self.entity) if rid in self._slots]

    def to_dict(self, *, statuses: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for rid in self.rule_ids():
            out[rid] = self.value(rid)
        if statuses:
            out["_status"] = {rid: self.status(rid) for rid in self.rule_ids()}
        return out

    def trace(self) -> dict[str, Any]:
        """The full trace: for every rule and criterion its value and status, the inputs it
        read (fields with their values), and each parameter with its value, the date that value
        took effect and its reference; members' traces under ``"members"``."""
        plan = self.plan
        eng = self.engine
        index = eng._param_index
        rec = self.record
        out: dict[str, Any] = {}
        for rid, slot in self._slots.items():
            rule = plan.rules.get(rid)
            if rule is None:
                continue
            refs = eng.rule_refs(rule)
            params = {}
            for p in refs.params:
                v = plan.params[index[p]]
                params[p] = (v, plan.param_since.get(p), eng.parameters[p].reference)
            out[rid] = {"value": self._values[slot],
                        "inputs": {f: rec.get(f) for f in refs.fields},
                        "rules": {r: self._values[self._slots[r]] for r in refs.rules
                                  if r in self._slots},
                        "params": params}
        members = getattr(self, "members", None)
        if members:
            out["members"] = [m.trace() for m in members]
        return out

    def explain(self, rule_id: str, lang: str = "id", *, level: str = "full",
                unmask: bool = False, fmt: str = "text") -> str:
        """Explain a rule's outcome for this record.

        Args:
            rule_id: the rule.
            lang: ``"id"`` or ``"en"``; every word, value, unit, amount and date is in it.
            level: ``"summary"`` — 3 to 10 sentences to read to the family (no rule ids,
                expressions or parameter paths); ``"full"`` — the complete trace for officers.
            unmask: show NIKs and family card numbers in full.
            fmt: ``"text"``, ``"html"`` or ``"json"`` (the tree of :meth:`explanation`).
        """
        from .explain import explain

        self._slot(rule_id)
        return explain(self, rule_id, lang=lang, level=level, unmask=unmask, fmt=fmt)

    def counterfactuals(self, rule_id: str, limit: int = 3) -> list[Counterfactual]:
        """The smallest changes of this record's inputs that flip the outcome of ``rule_id``,
        each verified by evaluating its ``.record``; ``.changes`` maps inputs
        (``members[0].is_pregnant`` for a member) to new values, ``.sentence(lang)`` says it.
        Fields the schema marks ``changeable: false`` are never proposed."""
        from .counterfactuals import counterfactuals

        if not isinstance(self, Decision):
            raise TypeError("counterfactuals are asked of the household's decision; "
                            "address a member's inputs as members[i].field")
        self._slot(rule_id)
        return counterfactuals(self, rule_id, limit)

    def explanation(self, rule_id: str, lang: str = "id", *, level: str = "full",
                    unmask: bool = False) -> Explanation:
        """The explanation as an object: ``str()``, ``to_dict()`` for apps, and HTML in a
        notebook."""
        from .explain import explanation

        self._slot(rule_id)
        return explanation(self, rule_id, lang=lang, level=level, unmask=unmask)


class Decision(_Base):
    """The evaluation of one record."""

    __slots__ = (
        "_findings",
        "_member_values",
        "_members",
        "_settled",
        "_slots",
        "_values",
        "as_of",
        "engine",
        "entity",
        "plan",
        "record",
    )

    def __init__(self, engine: Engine, entity: str, record: Mapping[str, Any],
                 as_of: datetime.date, plan: _Plan, values: list[Any], members: Sequence[Any]):
        self.engine = engine
        self.entity = entity
        self.record = record
        self.as_of = as_of
        self.plan = plan
        self._values = values
        self._member_values = members
        self._slots = plan.compiled.slots
        self._findings: list[Finding] | None = None
        self._settled: dict[str, tuple[Any, bool]] = {}
        self._members: list[MemberDecision] | None = None

    def _sound(self, rule_id: str) -> tuple[Any, bool]:
        """Settle an unknown outcome over the completions of its blank inputs (cached)."""
        got = self._settled.get(rule_id)
        if got is None:
            from .unknowns import settle

            raw = self._values[self._slots[rule_id]]
            s = settle(self, rule_id)
            got = (s.value, True) if s.known else (raw, False)
            self._settled[rule_id] = got
        return got

    @property
    def members(self) -> list[MemberDecision]:
        """One decision per related record (a household's members), in record order."""
        if self._members is None:
            child = self.plan.compiled.child
            recs = self.record.get(self.plan.compiled.relation or "") or () if child else ()
            self._members = [MemberDecision(self, i, r, vals) for i, (r, vals) in
                             enumerate(zip(recs, self._member_values, strict=False))]
        return self._members

    @property
    def findings(self) -> list[Finding]:
        """Every data-quality finding for this record and its members, most severe first."""
        if self._findings is None:
            self._findings = _compute_findings(self)
        return self._findings

    def _repr_html_(self) -> str:
        from .explain import decision_html

        return decision_html(self)

    def __repr__(self) -> str:
        return (f"<Decision {self.entity} {mask_id(self.record.get('id'))} as_of={self.as_of}: "
                f"{len(self.rule_ids())} rules, {len(self.findings)} findings>")


class MemberDecision(_Base):
    """The evaluation of one related record inside its parent's decision."""

    def __init__(self, parent: Decision, index: int, record: Mapping[str, Any],
                 values: list[Any]):
        self.parent = parent
        self.index = index
        self.engine = parent.engine
        child = parent.plan.compiled.child
        assert child is not None
        self.entity = child.entity
        self.record = record
        self.as_of = parent.as_of
        self.plan = parent.plan
        self._values = values
        self._slots = child.slots
        self._settled: dict[str, tuple[Any, bool]] = {}

    def _sound(self, rule_id: str) -> tuple[Any, bool]:
        """A member's unknown outcome, settled over the completions of the household's blank
        inputs it reads (a rank reads the other members too)."""
        got = self._settled.get(rule_id)
        if got is None:
            from .unknowns import settle

            raw = self._values[self._slots[rule_id]]
            s = settle(self.parent, rule_id, member=self.index)
            got = (s.value, True) if s.known else (raw, False)
            self._settled[rule_id] = got
        return got

    def __repr__(self) -> str:
        return f"<MemberDecision {self.entity} #{self.index} {mask_id(self.record.get('nik'))}>"


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_message(template: str, sources: Sequence[_Base], unmask: bool = False) -> str:
    """Fill ``{name}`` placeholders from rule values or fields of the given decisions."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        for src in sources:
            if name in src._slots:
                v = src.value(name)
                return "?" if v is None else str(v)
            if name in src.record:
                v = src.record.get(name)
                if name in _MASKED_FIELDS or (name == "id" and src.entity == "household"):
                    return str(v) if unmask else mask_id(v)
                return "?" if v is None else str(v)
        if any(name in src.engine.schema.entity(src.entity).fields for src in sources):
            return "?"  # a declared field the record leaves out is unknown, like a blank one
        return m.group(0)

    return _PLACEHOLDER.sub(sub, template)


def _compute_findings(d: Decision, lang: str = "id") -> list[Finding]:
    out: list[Finding] = []
    eng = d.engine
    rid_of = d.record.get(eng.schema.entity(d.entity).key)
    for rule_id in d._slots:
        if "#" in rule_id:
            continue
        rule = d.plan.rules.get(rule_id)
        if rule is None or rule.kind != "check" or rule.entity != d.entity:
            continue
        if d.value(rule_id) is not True:
            continue
        detail = eng.check_detail(rule, d.entity)
        for member_index, severity in detail(d):
            srcs: list[_Base] = [d]
            member_id = None
            if member_index is not None:
                md = d.members[member_index]
                srcs = [md, d]
                member_id = md.record.get(eng.schema.entity(md.entity).key)
            msg = render_message(rule.check.message.get(lang) if rule.check else "", srcs)
            out.append(Finding(rule_id, severity, msg, d.entity, _s(rid_of), _s(member_id),
                               member_index))
    for md in d.members:
        mkey = md.record.get(eng.schema.entity(md.entity).key)
        for rule_id in md._slots:
            rule = d.plan.rules.get(rule_id)
            if rule is None or rule.kind != "check" or "#" in rule_id:
                continue
            if md.value(rule_id) is not True:
                continue
            detail = eng.check_detail(rule, md.entity)
            for _, severity in detail(md):
                msg = render_message(rule.check.message.get(lang) if rule.check else "",
                                     [md, d])
                out.append(Finding(rule_id, severity, msg, md.entity, _s(rid_of), _s(mkey),
                                   md.index))
    out.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.check,
                            f.member_index if f.member_index is not None else -1))
    return out


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def findings_html(findings: Sequence[Finding]) -> str:
    rows = "".join(f"<tr><td>{html.escape(f.severity)}</td><td>{html.escape(f.check)}</td>"
                   f"<td>{html.escape(f.message)}</td></tr>" for f in findings)
    return f"<table><tr><th>severity</th><th>check</th><th>message</th></tr>{rows}</table>"
