"""What the Python backend gives for one record: rule values, statuses and findings.

:class:`RecordResult` holds the raw slot values the compiled code produced
(:mod:`welfare_rules.backends.python`) and interprets them lazily: a value, a status, the
members' results and the data-quality :class:`Finding` of every check that holds (which member,
which severity, the message). :class:`~welfare_rules.decision.Decision` adds the explanations on
top; the Python batch backend (:mod:`welfare_rules.backends.reference`) reads these directly.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..errors import InputProblem, UnknownRuleError, did_you_mean
from ..masking import is_masked_field, mask_field, mask_id, mask_text
from ..model import Rule
from .python import RecordPlan
from .python_detail import compile_check_detail

__all__ = ["SEVERITY_ORDER", "STATUSES", "Evaluation", "Finding", "MemberResult",
           "RecordResult", "compute_findings", "render_message", "status_of"]

STATUSES = ("true", "false", "unknown", "value")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


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

    def to_dict(self, *, unmask: bool = False) -> dict[str, Any]:
        """The finding as a dict; identifiers and 16-digit runs masked unless ``unmask``."""
        d = attrs.asdict(self)
        if not unmask:
            d["message"] = mask_text(self.message)
            d["record_id"] = None if self.record_id is None else mask_id(self.record_id)
            d["member_id"] = None if self.member_id is None else mask_id(self.member_id)
        return d

    def __repr__(self) -> str:
        d = self.to_dict()
        return (f"Finding(check={self.check!r}, severity={self.severity!r}, "
                f"message={d['message']!r}, entity={self.entity!r}, "
                f"record_id={d['record_id']!r}, member_id={d['member_id']!r}, "
                f"member_index={self.member_index!r})")

    __str__ = __repr__


def status_of(rule: Rule, value: Any, blocked: bool = False) -> str:
    """The status of a rule's value: ``true``/``false``/``unknown`` for conditions and checks,
    ``value``/``unknown`` otherwise (``blocked``: a ladder an unknown criterion stopped). A
    list with an unknown element (an OUTPUT ORDER or COLLECT row whose output is unknown) is
    unknown as a whole: the list it stands for is not known."""
    if rule.kind in ("condition", "check"):
        return "unknown" if value is None else ("true" if value else "false")
    if value is None or blocked or (isinstance(value, list) and None in value):
        return "unknown"
    return "value"


class Evaluation:
    """Values and statuses of one evaluated record (a record or one of its members)."""

    plan: RecordPlan
    entity: str
    record: Mapping[str, Any]
    as_of: datetime.date
    _values: list[Any]
    _slots: Mapping[str, int]

    @property
    def slots(self) -> Mapping[str, int]:
        """The value slot of every rule in force for this entity (the compiled layout)."""
        return self._slots

    @property
    def values(self) -> list[Any]:
        """The raw three-valued slot values the compiled code produced, by :attr:`slots`
        (before any settling of unknowns)."""
        return self._values

    def slot(self, rule_id: str) -> int:
        """The slot of a rule in force in :attr:`values`; -1 for a rule of this entity not in
        force on ``as_of``.

        Raises:
            UnknownRuleError: no rule has this id, or it is a rule of another entity.
        """
        try:
            return self._slots[rule_id]
        except KeyError:
            pass
        model = self.plan.plan.model
        if rule_id in model.rules:
            rule = model.rule(rule_id)
            if rule.entity != self.entity:
                raise UnknownRuleError(f"'{rule_id}' is a rule of {rule.entity}, not "
                                       f"{self.entity}; see .members[i].value({rule_id!r})",
                                       rule_id) from None
            return -1
        raise UnknownRuleError(
            f"unknown rule '{rule_id}'"
            f"{did_you_mean(rule_id, model.visible_rule_ids(self.entity))}",
            rule_id) from None

    def value(self, rule_id: str) -> Any:
        """The rule's value: True/False/None for conditions and checks, a number, a level
        name or ``None`` (unknown). A rule not in force on ``as_of`` is unknown."""
        slot = self.slot(rule_id)
        return None if slot < 0 else self._values[slot]

    def in_force(self, rule_id: str) -> bool:
        """Whether a version of the rule is in force on this decision's ``as_of``."""
        return self.slot(rule_id) >= 0

    def status(self, rule_id: str) -> str:
        """``"true"``, ``"false"``, ``"unknown"`` or ``"value"`` (in a
        :class:`~welfare_rules.decision.Decision`, after settling unknowns).

        A ladder whose climb an unknown criterion stopped is ``"unknown"`` although its value
        is the level confirmed so far; a rule not in force on ``as_of`` is ``"unknown"``.
        """
        slot = self.slot(rule_id)
        if slot < 0:
            return "unknown"
        v = self._values[slot]
        blocked = self.blocked(rule_id)
        if v is None or blocked:
            v, blocked = self._settle_unknown(rule_id, v, blocked)
        return status_of(self.plan.rules[rule_id], v, blocked)

    def blocked(self, rule_id: str) -> bool:
        """Whether a ladder's climb stopped on an unknown criterion (its value is then the
        level confirmed so far)."""
        b = self._slots.get(rule_id + "#blocked")
        return b is not None and bool(self._values[b])

    def _settle_unknown(self, rule_id: str, value: Any, blocked: bool) -> tuple[Any, bool]:
        """An outcome the three-valued evaluation left unknown (or a blocked ladder), as
        ``(value, blocked)``: here as it stands; a :class:`~welfare_rules.decision.Decision`
        settles it over the completions of its blank inputs."""
        return value, blocked

    def rule_ids(self) -> list[str]:
        """The visible rules of this entity in force, in rule order."""
        return [rid for rid in self.plan.plan.model.visible_rule_ids(self.entity)
                if rid in self._slots]

    def to_dict(self, *, statuses: bool = True) -> dict[str, Any]:
        """Each visible rule's value, and (``statuses``) its status under ``"_status"``."""
        out: dict[str, Any] = {}
        for rid in self.rule_ids():
            out[rid] = self.value(rid)
        if statuses:
            out["_status"] = {rid: self.status(rid) for rid in self.rule_ids()}
        return out


class RecordResult(Evaluation):
    """The evaluation of one record by the Python backend."""

    # defaults of the class, not set per record (one is built per Engine.evaluate call)
    _findings: list[Finding] | None = None
    _problems: Sequence[InputProblem] = ()  # invalid input taken as unknown (on_invalid=...)

    def __init__(self, entity: str, record: Mapping[str, Any], as_of: datetime.date,
                 plan: RecordPlan, values: list[Any], members: Sequence[Any],
                 problems: Sequence[InputProblem] = ()):
        self.entity = entity
        self.record = record
        self.as_of = as_of
        self.plan = plan
        self._values = values
        self._member_values = members
        self._slots = plan.compiled.slots
        if problems:
            self._problems = problems

    def _member(self, index: int, record: Mapping[str, Any], values: list[Any]) -> MemberResult:
        return MemberResult(self, index, record, values)

    @property
    def members(self) -> Sequence[MemberResult]:
        """One result per related record (a household's members), in record order."""
        child = self.plan.compiled.child
        if child is None:
            return []
        recs = self.record.get(self.plan.compiled.relation or "") or ()
        return [self._member(i, r, vals) for i, (r, vals) in
                enumerate(zip(recs, self._member_values, strict=False))]

    @property
    def findings(self) -> list[Finding]:
        """Every data-quality finding for this record and its members, most severe first."""
        if self._findings is None:
            self._findings = compute_findings(self)
        return self._findings


class MemberResult(Evaluation):
    """The evaluation of one related record inside its parent's result."""

    def __init__(self, parent: RecordResult, index: int, record: Mapping[str, Any],
                 values: list[Any]):
        self.parent = parent
        self.index = index
        child = parent.plan.compiled.child
        assert child is not None
        self.entity = child.entity
        self.record = record
        self.as_of = parent.as_of
        self.plan = parent.plan
        self._values = values
        self._slots = child.slots


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_message(template: str, sources: Sequence[Evaluation], unmask: bool = False) -> str:
    """Fill ``{name}`` placeholders from rule values or fields of the given results."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        for src in sources:
            if name in src.slots:
                v = src.value(name)
                return "?" if v is None else mask_text(str(v), unmask=unmask)
            if name in src.record:
                v = src.record.get(name)
                key = src.plan.plan.schema.entity(src.entity).key
                if v is None and not is_masked_field(name, src.entity, key):
                    return "?"
                return mask_field(name, v, entity=src.entity, key=key, unmask=unmask)
        if any(name in src.plan.plan.schema.entity(src.entity).fields for src in sources):
            return "?"  # a declared field the record leaves out is unknown, like a blank one
        return m.group(0)

    return _PLACEHOLDER.sub(sub, template)


def _detail(d: Evaluation, rule: Rule) -> list[tuple[int | None, str]]:
    details = d.plan.compiled.details
    fn = details.get(rule.id)
    if fn is None:
        fn = details.setdefault(rule.id, compile_check_detail(rule))
    out: list[tuple[int | None, str]] = fn(d)
    return out


def compute_findings(d: RecordResult, lang: str = "id") -> list[Finding]:
    """The findings of a record and its members, most severe first (then by check and
    member)."""
    out: list[Finding] = []
    schema = d.plan.plan.schema
    rid_of = d.record.get(schema.entity(d.entity).key)
    members = d.members
    for p in d._problems:  # the record contract's (adapters/record.py), one error each
        member_id = None
        if p.member_index is not None and p.member_index < len(members):
            member_id = members[p.member_index].record.get(schema.entity(p.entity).key)
        out.append(Finding("input.invalid", "error", f"{p} — taken as unknown", d.entity,
                           _s(rid_of), _s(member_id), p.member_index))
    for rule_id in d.slots:
        if "#" in rule_id:
            continue
        rule = d.plan.rules.get(rule_id)
        if rule is None or rule.kind != "check" or rule.entity != d.entity:
            continue
        if d.value(rule_id) is not True:
            continue
        for member_index, severity in _detail(d, rule):
            srcs: list[Evaluation] = [d]
            member_id = None
            if member_index is not None:
                md = members[member_index]
                srcs = [md, d]
                member_id = md.record.get(schema.entity(md.entity).key)
            msg = render_message(rule.check.message.get(lang) if rule.check else "", srcs)
            out.append(Finding(rule_id, severity, msg, d.entity, _s(rid_of), _s(member_id),
                               member_index))
    for md in members:
        mkey = md.record.get(schema.entity(md.entity).key)
        for rule_id in md.slots:
            rule = d.plan.rules.get(rule_id)
            if rule is None or rule.kind != "check" or "#" in rule_id:
                continue
            if md.value(rule_id) is not True:
                continue
            for _, severity in _detail(md, rule):
                msg = render_message(rule.check.message.get(lang) if rule.check else "",
                                     [md, d])
                out.append(Finding(rule_id, severity, msg, md.entity, _s(rid_of), _s(mkey),
                                   md.index))
    out.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.check,
                            f.member_index if f.member_index is not None else -1))
    return out


def _s(v: Any) -> str | None:
    return None if v is None else str(v)
