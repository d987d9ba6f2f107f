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

from .errors import InputProblem, did_you_mean
from .model import Rule

if TYPE_CHECKING:
    from .engine import Engine, _Plan

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
        return None if slot < 0 else self._values[slot]

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
        blocked = False
        if rule.kind == "ladder":
            blocked = bool(self._values[self._slots[rule_id + "#blocked"]])
        return _status(rule, self._values[slot], blocked)

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

    def explain(self, rule_id: str, lang: str = "id", *, unmask: bool = False,
                fmt: str = "text") -> str:
        """Explain a rule's outcome for this record: its criteria, the values used, the
        parameters with the date they took effect and their legal reference, and the origin
        of the rule. ``lang`` is ``"id"`` or ``"en"``; NIKs are masked unless ``unmask``."""
        from .explain import explain

        self._slot(rule_id)
        return explain(self, rule_id, lang=lang, unmask=unmask, fmt=fmt)


class Decision(_Base):
    """The evaluation of one record."""

    __slots__ = (
        "_findings",
        "_member_values",
        "_problems",
        "_slots",
        "_values",
        "as_of",
        "engine",
        "entity",
        "plan",
        "record",
    )

    def __init__(self, engine: Engine, entity: str, record: Mapping[str, Any],
                 as_of: datetime.date, plan: _Plan, values: list[Any], members: Sequence[Any],
                 problems: Sequence[InputProblem] = ()):
        self.engine = engine
        self.entity = entity
        self.record = record
        self.as_of = as_of
        self.plan = plan
        self._values = values
        self._member_values = members
        self._slots = plan.compiled.slots
        self._findings: list[Finding] | None = None
        self._problems = problems  # invalid input taken as unknown (on_invalid="unknown")

    @property
    def members(self) -> list[MemberDecision]:
        """One decision per related record (a household's members), in record order."""
        child = self.plan.compiled.child
        if child is None:
            return []
        recs = self.record.get(self.plan.compiled.relation or "") or ()
        return [MemberDecision(self, i, r, vals) for i, (r, vals) in
                enumerate(zip(recs, self._member_values, strict=False))]

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
    out.extend(_input_findings(d, rid_of))
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


def _input_findings(d: Decision, rid_of: Any) -> list[Finding]:
    """One ``input.invalid`` error finding per value the record contract took as unknown."""
    out = []
    for p in d._problems:
        member_id = None
        if p.member_index is not None:
            rel = d.record.get(p.relation or "members") or ()
            if p.member_index < len(rel):
                member_id = rel[p.member_index].get(d.engine.schema.entity(p.entity).key)
        out.append(Finding("input.invalid", "error", f"{p} — taken as unknown", d.entity,
                           _s(rid_of), _s(member_id), p.member_index))
    return out


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def findings_html(findings: Sequence[Finding]) -> str:
    rows = "".join(f"<tr><td>{html.escape(f.severity)}</td><td>{html.escape(f.check)}</td>"
                   f"<td>{html.escape(f.message)}</td></tr>" for f in findings)
    return f"<table><tr><th>severity</th><th>check</th><th>message</th></tr>{rows}</table>"
